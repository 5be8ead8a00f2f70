using Aether.Server;
using Aether.Hub;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Microsoft.AspNetCore.Builder;

namespace Aether.Cli;

/// <summary>Runs the daemon (the server's assemblies are loaded from here on).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Serve
{
    public static async Task<int> RunAsync(ServeArgs args)
    {
        var (socket, listen, tokenFile, db, ns, wireGuardPrefix) = (args.Socket, args.Listen, args.TokenFile, args.Db, args.Namespace, args.WireGuardPrefix);
        if (!InterfaceNameRule.IsValid(wireGuardPrefix + HubNetworkSpec.MaxIndex, out var badPrefix))
        {
            Output.Fail($"--wireguard-prefix {NameText.Quote(wireGuardPrefix)}: the largest device name would be {badPrefix}");
            return ExitCodes.InvalidInput;
        }

        Uri? listenUri = null;
        if (listen is not null && !Uri.TryCreate(listen, UriKind.Absolute, out listenUri))
        {
            Output.Fail($"--listen {listen}: not a URL (http://127.0.0.1:PORT)");
            return ExitCodes.InvalidInput;
        }

        if (ns is not null && !Aether.Netlink.Namespaces.NetworkNamespace.Exists(ns))
        {
            Output.Fail($"--namespace {ns}: no such namespace (see aether ns list)");
            return ExitCodes.InvalidInput;
        }

        // --db postgres://…: the cluster's database is the lab store (and the daemon the controller of placed labs);
        // the hub's SQLite file is then aether.db in the state directory.
        var labDb = args.LabDb;
        if (db is not null && IsPostgres(db))
        {
            if (labDb is not null && !string.Equals(labDb, db, StringComparison.Ordinal))
            {
                Output.Fail("--db is a PostgreSQL database and --lab-db names another: give one (--db postgres://… makes it the lab store)");
                return ExitCodes.InvalidInput;
            }

            labDb = db;
            db = Path.Combine(args.StateDir ?? (Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } dir ? dir : Path.GetDirectoryName(ServerOptions.DefaultDatabasePath)!), "aether.db");
        }

        if (Lab.LoadProfiles(args.Profiles) is not { } profiles)
        {
            return ExitCodes.InvalidInput;
        }

        var options = new ServerOptions
        {
            LabProfiles = profiles,
            SocketPath = socket,
            Listen = listenUri,
            TokenFile = tokenFile,
            DatabasePath = db ?? ServerOptions.DefaultDatabasePath,
            LabDatabase = labDb ?? (Environment.GetEnvironmentVariable("AETHER_DB") is { Length: > 0 } envDb ? envDb : null),
            LabStateDirectory = args.StateDir ?? (Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } envState ? envState : null),
            Namespace = ns,
            DockerPlugin = args.DockerPlugin,
            ExitDeadline = TimeSpan.FromSeconds(9),
            Hub = (context, ct) => CreateHubAsync(context, Path.GetDirectoryName(Path.GetFullPath(db ?? ServerOptions.DefaultDatabasePath))!, wireGuardPrefix, args.HubResync, ct),
        };

        WebApplication app;
        try
        {
            app = AetherServer.BuildApp(options);
        }
        catch (ServerOptionsException e)
        {
            Output.Fail(e.Message);
            return ExitCodes.InvalidInput;
        }
        catch (InvalidOperationException e)
        {
            Output.Fail("serve: " + e.Message); // another daemon on the socket, or a file in its place
            return ExitCodes.Failure;
        }

        try
        {
            await using (app.ConfigureAwait(false))
            {
                await app.RunAsync().ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }
        catch (ServerOptionsException e)
        {
            Output.Fail("serve: " + e.Message); // found at start: an unusable --lab-db
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Output.Fail("serve: " + e.Message);
            return ExitCodes.Failure;
        }
    }

    /// <summary>Whether <c>--db</c> names PostgreSQL (a <c>postgres://</c> URL or a connection string) rather than a
    /// SQLite file.</summary>
    private static bool IsPostgres(string db) =>
        db.StartsWith("postgres://", StringComparison.Ordinal) || db.StartsWith("postgresql://", StringComparison.Ordinal)
        || (db.Contains('=', StringComparison.Ordinal) && db.Contains("host", StringComparison.OrdinalIgnoreCase));

    /// <summary>The hub the daemon runs: bound to <see cref="HubContext.Namespace"/> (or the daemon's own namespace),
    /// its networks from the store, its last-applied record beside the database.</summary>
    private static async Task<IWireGuardHub> CreateHubAsync(HubContext context, string stateDirectory, string wireGuardPrefix, TimeSpan resync, CancellationToken cancellationToken)
    {
        using var host = context.Namespace is { } name ? NetworkNamespace.Open(name) : null; // the hub keeps its own duplicate
        return await WireGuardHub.StartAsync(
            context.Store,
            new WireGuardHubOptions
            {
                HostNamespace = host,
                StateDirectory = stateDirectory,
                WireGuardPrefix = wireGuardPrefix,
                Loop = new WireGuardHubOptions().Loop with { Resync = resync },
                LoggerFactory = context.LoggerFactory,
            },
            cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What <c>aether serve</c> was given.</summary>
/// <param name="Socket">The unix socket.</param>
/// <param name="Listen">The loopback TCP listener, or null.</param>
/// <param name="TokenFile">The bearer token's file, or null.</param>
/// <param name="Db">The hub's SQLite database, or null for the default.</param>
/// <param name="LabDb">The lab store, or null for <c>$AETHER_DB</c> or <c>labs.db</c> in the state directory.</param>
/// <param name="StateDir">The labs' state directory, or null for <c>$AETHER_STATE_DIR</c> or the database's directory.</param>
/// <param name="Namespace">The hub's namespace, or null.</param>
/// <param name="WireGuardPrefix">The hub's WireGuard device prefix.</param>
internal sealed record ServeArgs(string Socket, string? Listen, string? TokenFile, string? Db, string? LabDb, string? StateDir, string? Namespace, string WireGuardPrefix)
{
    /// <summary>The interface naming profiles file labs are read with, or null for the built-in profiles.</summary>
    public string? Profiles { get; init; }

    /// <summary>The hub loops' resync period (<c>--hub-resync</c>).</summary>
    public TimeSpan HubResync { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The Docker network driver's name (<c>--docker-plugin</c>), or null: off.</summary>
    public string? DockerPlugin { get; init; }
}
