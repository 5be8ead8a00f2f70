using Aether.Hub;
using Aether.Labs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>Creates the daemon's hub and brings it up: loads its networks from the store and reconciles them. Called
/// once, when the daemon starts, before it reports itself ready.</summary>
/// <param name="context">What the hub may use.</param>
/// <param name="cancellationToken">Cancelled when the daemon is asked to stop while starting.</param>
/// <returns>The running hub. If it is <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>, the daemon disposes
/// of it when it stops.</returns>
public delegate Task<IWireGuardHub> HubFactory(HubContext context, CancellationToken cancellationToken);

/// <summary>What a <see cref="HubFactory"/> gets.</summary>
/// <param name="Store">The daemon's store.</param>
/// <param name="Namespace">The namespace the hub is bound to (its "host" namespace: where the <c>wgN</c> and
/// <c>veth-rootN</c> live), or null for the daemon's own.</param>
/// <param name="LoggerFactory">The daemon's loggers.</param>
/// <param name="Services">The daemon's services.</param>
public sealed record HubContext(IHubStore Store, string? Namespace, ILoggerFactory LoggerFactory, IServiceProvider Services);

/// <summary>How <c>aether serve</c> runs, and what <see cref="AetherServiceCollectionExtensions.AddAetherHub"/> and
/// <see cref="AetherServiceCollectionExtensions.AddAetherLabs"/> serve in an app of one's own: an options class
/// (<c>IOptions&lt;ServerOptions&gt;</c>) bound from configuration by its property names (the daemon's
/// <c>/etc/aether/aether.json</c>, <c>AETHER_</c>-prefixed environment variables such as <c>AETHER_SOCKETPATH</c>,
/// then <c>aether serve</c>'s flags; an app's <c>Aether</c> section) and validated when the host starts.</summary>
public sealed record ServerOptions
{
    /// <summary>The configuration section an app's options are bound from
    /// (<see cref="AetherServiceCollectionExtensions.AddAetherHub"/>).</summary>
    public const string SectionName = "Aether";

    /// <summary>The default unix socket.</summary>
    public const string DefaultSocketPath = "/run/aether/aether.sock";

    /// <summary>The default database file.</summary>
    public const string DefaultDatabasePath = "/var/lib/aether/aether.db";

    /// <summary>The unix socket the API listens on (created with mode 0600; a stale one is replaced). Requests over it
    /// need no token: the file's mode is the access control.</summary>
    public string SocketPath { get; set; } = DefaultSocketPath;

    /// <summary>An optional loopback TCP listener, <c>http://127.0.0.1:PORT</c> (or <c>http://[::1]:PORT</c>; port 0
    /// picks a free one). Requires <see cref="TokenFile"/>.</summary>
    public Uri? Listen { get; set; }

    /// <summary>The file holding the bearer token that requests over TCP must present.</summary>
    public string? TokenFile { get; set; }

    /// <summary>The SQLite database (created with mode 0600 in a directory created with mode 0700: it holds private
    /// keys).</summary>
    public string DatabasePath { get; set; } = DefaultDatabasePath;

    /// <summary>The labs' state directory: the lab store's default SQLite file (<c>labs.db</c>), each lab's topology
    /// records (<c>lab-NAME</c>) and its node logs and runner's pid file (<c>labs/NAME</c>). Null: the directory of
    /// <see cref="DatabasePath"/>.</summary>
    public string? LabStateDirectory { get; set; }

    /// <summary>The lab store, as <c>aether lab --db</c> takes it (<c>postgres://USER@HOST/DB</c>, a PostgreSQL
    /// connection string, <c>sqlite:PATH</c>), or null for <c>labs.db</c> in <see cref="LabStateDirectory"/>.</summary>
    public string? LabDatabase { get; set; }

    /// <summary>The interface naming profiles lab files are read with (null: <see cref="InterfaceProfiles.Default"/>).</summary>
    public InterfaceProfiles? LabProfiles { get; set; }

    /// <summary>Whether the daemon keeps each deployed lab with its runtime (repairs from the kernel's hints, the
    /// periodic reconciliation) and supervises its nodes' processes. Off, a lab changes only by request. Default on.</summary>
    public bool LabRuntimes { get; set; } = true;

    /// <summary>How the labs' runtimes reconcile.</summary>
    public LabRuntimeOptions LabRuntime { get; set; } = new();

    /// <summary>The named namespace the hub is bound to instead of the daemon's own, or null.</summary>
    public string? Namespace { get; set; }

    /// <summary>Also serve Docker's remote network driver protocol as the driver of this name, on
    /// <c>DockerPluginDirectory/NAME.sock</c> (<c>docker network create --driver NAME</c>); null (the default): off.</summary>
    public string? DockerPlugin { get; set; }

    /// <summary>Where dockerd looks for plugin sockets.</summary>
    public string DockerPluginDirectory { get; set; } = "/run/docker/plugins";

    /// <summary>Creates the hub; null: the real <see cref="WireGuardHub"/>, bound to <see cref="Namespace"/>, its
    /// devices named with <see cref="WireGuardPrefix"/>, its loops resyncing every <see cref="HubResync"/>, its
    /// last-applied record beside <see cref="DatabasePath"/>.</summary>
    public HubFactory? Hub { get; set; }

    /// <summary>What the real hub's WireGuard devices are called before their index (<c>wg</c>: <c>wg0</c>,
    /// <c>wg1</c>…).</summary>
    public string WireGuardPrefix { get; set; } = "wg";

    /// <summary>How often the real hub's loops look at everything without a kernel event.</summary>
    public TimeSpan HubResync { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The version <c>/v1/status</c> reports (default: this assembly's informational version).</summary>
    public string? Version { get; set; }

    /// <summary>How long after it is asked to stop (SIGTERM, SIGINT) the process exits at the latest, whatever still
    /// runs: set by <c>aether serve</c> (9 s: systemd and the tests allow 10), null (the default) for an app that is
    /// not alone in its process.</summary>
    public TimeSpan? ExitDeadline { get; set; }

    /// <summary>Last changes to the builder before the app is built (tests replace the server with a test server).</summary>
    public Action<WebApplicationBuilder>? ConfigureBuilder { get; set; }

    /// <summary>Copies every setting to <paramref name="target"/> (how an instance made in code becomes the app's
    /// <c>IOptions&lt;ServerOptions&gt;</c>).</summary>
    internal void CopyTo(ServerOptions target)
    {
        foreach (var property in typeof(ServerOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (property.CanWrite && property.GetIndexParameters().Length == 0)
            {
                property.SetValue(target, property.GetValue(this));
            }
        }
    }
}
