using System.CommandLine;

namespace Aether.Cli;

/// <summary><c>serve</c>: the daemon. Only System.CommandLine types here: the daemon's assemblies (ASP.NET Core,
/// EF Core) load when <c>Serve.RunAsync</c> runs, never for the other commands; the native build of the CLI has no
/// daemon in it and becomes the ReadyToRun build for this command (<c>ServeExec</c>).</summary>
internal static class ServeCommand
{
    /// <summary>The daemon's default socket (the server's default, repeated so that client commands need not load the
    /// server's assembly to know it).</summary>
    public const string DefaultSocket = "/run/aether/aether.sock";

    /// <summary>The runtime switch the CLI's project turns off (<c>DynamicCodeSupport=false</c>, which spares every
    /// short command the emitted regexes of YamlDotNet). The daemon needs it on: EF Core refuses to build a model or
    /// compile a query without it (it would want a compiled model from the design-time tools, which are not available
    /// here), and minimal APIs would interpret their expression trees. <see cref="Program"/> sets it back before
    /// anything reads it when the command is <c>serve</c>.</summary>
    public const string DynamicCodeSwitch = "System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported";

    public static Command Create()
    {
        var socket = SocketOption();
        var listen = new Option<string?>("--listen")
        {
            Description = "Also listen on loopback TCP, http://127.0.0.1:PORT; requests over it need the bearer token of --token-file.",
            HelpName = "URL",
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = "The file holding the bearer token TCP requests must present (required with --listen): mode 0600 or 0400, a token of at least 32 bytes.",
            HelpName = "FILE",
        };
        var db = new Option<string?>("--db")
        {
            Description = "The SQLite database of the hub's networks (default /var/lib/aether/aether.db; created with mode 0600); or postgres://USER@HOST/DB: the lab store and the cluster of placed labs (this daemon one of its controllers), the hub's file then aether.db in --state-dir.",
            HelpName = "PATH|postgres://…",
        };
        var labDb = new Option<string?>("--lab-db")
        {
            Description = "The lab store, as aether lab --db takes it: postgres://USER@HOST/DB, a PostgreSQL connection string, or sqlite:PATH (default $AETHER_DB, else labs.db in the labs' state directory).",
            HelpName = "DATABASE",
        };
        var stateDir = new Option<string?>("--state-dir")
        {
            Description = "The labs' state directory: labs.db, each lab's topology records, node logs and runner pid file (default $AETHER_STATE_DIR, else the directory of --db: /var/lib/aether).",
            HelpName = "DIR",
        };
        var profiles = new Option<string?>("--profiles")
        {
            Description = "A YAML file of interface naming profiles the labs are read with, as aether lab --profiles takes it (default: the built-in profiles).",
            HelpName = "FILE",
        };
        var ns = new Option<string?>("--namespace")
        {
            Description = "Bind the hub to this named namespace instead of the daemon's own (where wgN and veth-rootN live).",
            HelpName = "NAME",
        };
        var wgPrefix = new Option<string>("--wireguard-prefix")
        {
            Description = "What the hub's WireGuard devices are called before their index (default wg: wg0, wg1…). wireguard-go's names are global to the machine: two daemons on one machine need different prefixes.",
            HelpName = "PREFIX",
            DefaultValueFactory = _ => "wg",
        };
        var hubResync = new Option<string>("--hub-resync")
        {
            Description = "How often the hub's loops check every object even without kernel events (500ms, 10s, 2m; default 10s). WireGuard settings changed with wg (key, port, peers) raise no event: the resync is what repairs them.",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "10s",
        };
        hubResync.Validators.Add(r =>
        {
            if (!Duration.TryParse(r.GetValueOrDefault<string>(), out _, out var why))
            {
                r.AddError("--hub-resync: " + why);
            }
        });
        var dockerPlugin = new Option<string?>("--docker-plugin")
        {
            Description = "Also be Docker's network driver of this name: serve its remote driver protocol on /run/docker/plugins/NAME.sock (mode 0600), for docker network create --driver NAME -o key=… -o port=… (default: off).",
            HelpName = "NAME",
        };
        var config = new Option<string?>("--config")
        {
            Description = "A JSON file of settings, keyed by the daemon's option names (SocketPath, DatabasePath, Listen, TokenFile, HubResync…); default /etc/aether/aether.json when it exists. AETHER_-prefixed environment variables (AETHER_SOCKETPATH…) override it, and flags override both.",
            HelpName = "FILE",
        };
        var command = new Command("serve", """
            Run the daemon: the WireGuard hub (its networks kept by reconcile loops, its state in SQLite), the
            labs (each deployed lab kept by its runtime, its nodes' processes supervised; the lab store shared
            with aether lab) and the HTTP API, on a unix socket (mode 0600, no token) and optionally loopback TCP
            (bearer token). Ready (and, under systemd, READY=1) once the hub has loaded and reconciled its
            networks and the lab store is open; the stored labs are brought up in the background. Runs until
            SIGINT or SIGTERM, then stops gracefully (lab runtimes and node processes stopped, the namespaces
            kept) and removes its socket.
            Exit codes: 0 stopped by a signal, 1 failure, 2 invalid options.

            Examples:
              aether serve
              aether serve --listen http://127.0.0.1:7070 --token-file /etc/aether/token
              aether serve --socket /tmp/aether.sock --db /tmp/aether.db
              aether serve --lab-db postgres://aether@db.example/aether
              aether serve --db postgres://aether@db.example/aether --state-dir /var/lib/aether
            """)
        {
            socket,
            listen,
            tokenFile,
            db,
            labDb,
            stateDir,
            profiles,
            ns,
            wgPrefix,
            hubResync,
            dockerPlugin,
            config,
        };
#if NATIVE_CLI
        command.SetAction(_ => ServeExec.Run());
#else
        command.SetAction((parse, _) => OperatingSystem.IsLinux()
            ? Serve.RunAsync(new ServeArgs(parse.GetValue(socket), parse.GetValue(listen), parse.GetValue(tokenFile), parse.GetValue(db), parse.GetValue(labDb), parse.GetValue(stateDir), parse.GetValue(ns), Given(parse, wgPrefix))
            {
                Profiles = parse.GetValue(profiles),
                HubResync = Given(parse, hubResync) is { } given && Duration.TryParse(given, out var resync, out string? _) ? resync : null,
                DockerPlugin = parse.GetValue(dockerPlugin),
                Config = parse.GetValue(config),
            })
            : Task.FromResult(ExitCodes.Failure));
#endif
        return command;
    }

#if !NATIVE_CLI
    /// <summary>The option's value when it was given on the command line, null when it holds its default (so that the
    /// configuration file or the environment may set it).</summary>
    private static string? Given(ParseResult parse, Option<string> option) =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;
#endif

    /// <summary>The <c>--socket</c> option, for serve and the client commands.</summary>
    public static Option<string?> SocketOption() => new("--socket")
    {
        Description = "The daemon's unix socket (default " + DefaultSocket + ").",
        HelpName = "PATH",
    };
}
