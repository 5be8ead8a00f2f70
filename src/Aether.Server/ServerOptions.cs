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

/// <summary>How <c>aether serve</c> runs.</summary>
public sealed record ServerOptions
{
    /// <summary>The default unix socket.</summary>
    public const string DefaultSocketPath = "/run/aether/aether.sock";

    /// <summary>The default database file.</summary>
    public const string DefaultDatabasePath = "/var/lib/aether/aether.db";

    /// <summary>The unix socket the API listens on (created with mode 0600; a stale one is replaced). Requests over it
    /// need no token: the file's mode is the access control.</summary>
    public string SocketPath { get; init; } = DefaultSocketPath;

    /// <summary>An optional loopback TCP listener, <c>http://127.0.0.1:PORT</c> (or <c>http://[::1]:PORT</c>; port 0
    /// picks a free one). Requires <see cref="TokenFile"/>.</summary>
    public Uri? Listen { get; init; }

    /// <summary>The file holding the bearer token that requests over TCP must present.</summary>
    public string? TokenFile { get; init; }

    /// <summary>The SQLite database (created with mode 0600 in a directory created with mode 0700: it holds private
    /// keys).</summary>
    public string DatabasePath { get; init; } = DefaultDatabasePath;

    /// <summary>The labs' state directory: the lab store's default SQLite file (<c>labs.db</c>), each lab's topology
    /// records (<c>lab-NAME</c>) and its node logs and runner's pid file (<c>labs/NAME</c>). Null: the directory of
    /// <see cref="DatabasePath"/>.</summary>
    public string? LabStateDirectory { get; init; }

    /// <summary>The lab store, as <c>aether lab --db</c> takes it (<c>postgres://USER@HOST/DB</c>, a PostgreSQL
    /// connection string, <c>sqlite:PATH</c>), or null for <c>labs.db</c> in <see cref="LabStateDirectory"/>.</summary>
    public string? LabDatabase { get; init; }

    /// <summary>The interface naming profiles lab files are read with (null: <see cref="InterfaceProfiles.Default"/>).</summary>
    public InterfaceProfiles? LabProfiles { get; init; }

    /// <summary>Whether the daemon keeps each deployed lab with its runtime (repairs from the kernel's hints, the
    /// periodic reconciliation) and supervises its nodes' processes. Off, a lab changes only by request. Default on.</summary>
    public bool LabRuntimes { get; init; } = true;

    /// <summary>How the labs' runtimes reconcile.</summary>
    public LabRuntimeOptions LabRuntime { get; init; } = new();

    /// <summary>The named namespace the hub is bound to instead of the daemon's own, or null.</summary>
    public string? Namespace { get; init; }

    /// <summary>Also serve Docker's remote network driver protocol as the driver of this name, on
    /// <c>DockerPluginDirectory/NAME.sock</c> (<c>docker network create --driver NAME</c>); null (the default): off.</summary>
    public string? DockerPlugin { get; init; }

    /// <summary>Where dockerd looks for plugin sockets.</summary>
    public string DockerPluginDirectory { get; init; } = "/run/docker/plugins";

    /// <summary>Creates the hub (required).</summary>
    public HubFactory? Hub { get; init; }

    /// <summary>The version <c>/v1/status</c> reports (default: this assembly's informational version).</summary>
    public string? Version { get; init; }

    /// <summary>How long after it is asked to stop (SIGTERM, SIGINT) the process exits at the latest, whatever still
    /// runs: set by <c>aether serve</c> (9 s: systemd and the tests allow 10), null (the default) for an app that is
    /// not alone in its process.</summary>
    public TimeSpan? ExitDeadline { get; init; }

    /// <summary>Last changes to the builder before the app is built (tests replace the server with a test server).</summary>
    public Action<WebApplicationBuilder>? ConfigureBuilder { get; init; }
}
