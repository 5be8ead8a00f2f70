using System.Globalization;
using Aether.Server;
using Aether.Hub;
using Aether.Netlink.Names;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Aether.Cli;

/// <summary>Runs the daemon (the server's assemblies are loaded from here on).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Serve
{
    public static async Task<int> RunAsync(ServeArgs args)
    {
        // The settings: /etc/aether/aether.json (or --config), then AETHER_* variables, then the flags given.
        IConfigurationRoot configuration;
        ServerOptions options;
        try
        {
            configuration = ServerConfiguration.Build(args.Config, args.Flags());
            options = ServerConfiguration.Bind(configuration);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or InvalidOperationException or FormatException)
        {
            Output.Fail("serve: " + (e.InnerException is { } inner && e is InvalidOperationException ? e.Message + ": " + inner.Message : e.Message));
            return ExitCodes.InvalidInput;
        }

        var (listen, db, ns, wireGuardPrefix) = (options.Listen, options.DatabasePath, options.Namespace, options.WireGuardPrefix);
        if (!InterfaceNameRule.IsValid(wireGuardPrefix + HubNetworkSpec.MaxIndex.ToString(CultureInfo.InvariantCulture), out var badPrefix))
        {
            Output.Fail($"--wireguard-prefix {NameText.Quote(wireGuardPrefix)}: the largest device name would be {badPrefix}");
            return ExitCodes.InvalidInput;
        }

        if (listen is not null && !listen.IsAbsoluteUri)
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
        var labDb = options.LabDatabase;
        if (IsPostgres(db))
        {
            if (labDb is not null && !string.Equals(labDb, db, StringComparison.Ordinal))
            {
                Output.Fail("--db is a PostgreSQL database and --lab-db names another: give one (--db postgres://… makes it the lab store)");
                return ExitCodes.InvalidInput;
            }

            labDb = db;
            db = Path.Combine(options.LabStateDirectory ?? (Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } dir ? dir : Path.GetDirectoryName(ServerOptions.DefaultDatabasePath)!), "aether.db");
        }

        if (Lab.LoadProfiles(configuration[ServeArgs.ProfilesKey]) is not { } profiles)
        {
            return ExitCodes.InvalidInput;
        }

        options.LabProfiles = profiles;
        options.DatabasePath = db;
        options.LabDatabase = labDb ?? (Environment.GetEnvironmentVariable("AETHER_DB") is { Length: > 0 } envDb ? envDb : null);
        options.LabStateDirectory ??= Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } envState ? envState : null;
        options.ExitDeadline = TimeSpan.FromSeconds(9);

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
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            Output.Fail("serve: invalid settings: " + string.Join("; ", e.Failures));
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
}

/// <summary>What <c>aether serve</c> was given on its command line: null for a flag not given (the configuration
/// file's or the environment's value then holds, or the default).</summary>
/// <param name="Socket">The unix socket.</param>
/// <param name="Listen">The loopback TCP listener.</param>
/// <param name="TokenFile">The bearer token's file.</param>
/// <param name="Db">The hub's SQLite database (or a PostgreSQL lab store).</param>
/// <param name="LabDb">The lab store.</param>
/// <param name="StateDir">The labs' state directory.</param>
/// <param name="Namespace">The hub's namespace.</param>
/// <param name="WireGuardPrefix">The hub's WireGuard device prefix.</param>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed record ServeArgs(string? Socket, string? Listen, string? TokenFile, string? Db, string? LabDb, string? StateDir, string? Namespace, string? WireGuardPrefix)
{
    /// <summary>The configuration key of the interface naming profiles file (<c>--profiles</c>,
    /// <c>AETHER_LABPROFILESFILE</c>).</summary>
    public const string ProfilesKey = "LabProfilesFile";

    /// <summary>The interface naming profiles file labs are read with.</summary>
    public string? Profiles { get; init; }

    /// <summary>The hub loops' resync period (<c>--hub-resync</c>).</summary>
    public TimeSpan? HubResync { get; init; }

    /// <summary>The Docker network driver's name (<c>--docker-plugin</c>).</summary>
    public string? DockerPlugin { get; init; }

    /// <summary>The configuration file (<c>--config</c>), or null for <c>/etc/aether/aether.json</c> when it exists.</summary>
    public string? Config { get; init; }

    /// <summary>The flags given, as configuration keys (<see cref="ServerOptions"/>' property names).</summary>
    public Dictionary<string, string?> Flags()
    {
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                flags[key] = value;
            }
        }

        Set(nameof(ServerOptions.SocketPath), Socket);
        Set(nameof(ServerOptions.Listen), Listen);
        Set(nameof(ServerOptions.TokenFile), TokenFile);
        Set(nameof(ServerOptions.DatabasePath), Db);
        Set(nameof(ServerOptions.LabDatabase), LabDb);
        Set(nameof(ServerOptions.LabStateDirectory), StateDir);
        Set(nameof(ServerOptions.Namespace), Namespace);
        Set(nameof(ServerOptions.WireGuardPrefix), WireGuardPrefix);
        Set(nameof(ServerOptions.HubResync), HubResync?.ToString("c", CultureInfo.InvariantCulture));
        Set(nameof(ServerOptions.DockerPlugin), DockerPlugin);
        Set(ProfilesKey, Profiles);
        return flags;
    }
}
