using System.CommandLine;

namespace Aether.Cli;

/// <summary><c>lab deploy|destroy|inspect|links|verify|reconcile|exec</c>. Only System.CommandLine types here: labs keep
/// their state in a database through EF Core, which the native build cannot carry, so there every lab command becomes
/// the ReadyToRun build (as <c>serve</c> does, <c>ServeExec</c>); the JIT build runs <c>Lab</c>.</summary>
internal static class LabCommand
{
    public static Command Create(Option<string?> stateDir)
    {
        var db = new Option<string?>("--db")
        {
            Description = "The lab store: a PostgreSQL connection (postgres://user@host:port/db, or Host=...;) or sqlite:PATH (default: $AETHER_DB, else SQLite at STATE/labs.db).",
            HelpName = "DATABASE",
            Recursive = true,
        };
        var profiles = new Option<string?>("--profiles")
        {
            Description = "A YAML file of interface naming profiles that adds device kinds or overrides the built-in ones.",
            HelpName = "FILE",
            Recursive = true,
        };
        var ovsdb = new Option<string?>("--ovsdb")
        {
            Description = "Where ovsdb-server listens, for labs on the ovs fabric (default unix:/var/run/openvswitch/db.sock).",
            HelpName = "unix:PATH",
            Recursive = true,
        };
        var ovsNamespace = new Option<string?>("--ovs-namespace")
        {
            Description = "The network namespace ovs-vswitchd runs in, where the bridge's ports must be (default: the host's).",
            HelpName = "NAME",
            Recursive = true,
        };
        var lab = new Command("lab", """
            Labs: nodes (namespaces of a device kind) joined by links written with vendor interface names, each link
            stored as up only once it has been read whole from the kernel.
            Exit codes: 0 done (every link up), 1 failure or some link not up, 2 invalid input (nothing touched).

            Examples:
              aether lab deploy -f demo.yaml
              aether lab links demo -o json
              aether lab verify demo
              aether lab reconcile demo
              aether lab tunnels demo -o json --db postgres://aether@db.example/aether
              aether lab exec demo r1 -- ip -br link
              aether lab destroy -f demo.yaml
            """)
        {
            db,
            profiles,
            ovsdb,
            ovsNamespace,
        };
        foreach (var sub in Subcommands())
        {
            lab.Subcommands.Add(sub);
        }

        return lab;

        LabContext Context(ParseResult p, bool json) => new(p.GetValue(db), p.GetValue(profiles), p.GetValue(stateDir), json) { Ovsdb = p.GetValue(ovsdb), OvsNamespace = p.GetValue(ovsNamespace) };

        IEnumerable<Command> Subcommands()
        {
            var file = new Option<string>("--file", "-f") { Description = "The lab file (YAML).", HelpName = "FILE", Required = true };
            var output = Output.FormatOption("text (one line per link and a summary) or json (one object).");
            var deploy = new Command("deploy", "Create the lab's nodes and links, verify every link, store their states.") { file, output };
            Bind(deploy, p => new LabArgs("deploy", Context(p, IsJson(p, output))) { File = p.GetRequiredValue(file) });
            yield return deploy;

            var file2 = new Option<string>("--file", "-f") { Description = "The lab file (YAML).", HelpName = "FILE", Required = true };
            var destroy = new Command("destroy", "Remove everything the lab owns (its nodes, with what is in them) and forget it.") { file2 };
            Bind(destroy, p => new LabArgs("destroy", Context(p, json: false)) { File = p.GetRequiredValue(file2) });
            yield return destroy;

            foreach (var (verb, description) in new[]
            {
                ("inspect", "The lab's nodes: namespace, kind, interfaces under both names."),
                ("links", "The lab's links as stored: endpoints, state, VLAN, error, last check."),
                ("verify", "Read every link from the kernel and store what was found; exit 0 when all are up."),
                ("reconcile", "Verify every link, repair what is broken, and print checked/valid/repaired/errors."),
                ("tunnels", "A lab across hosts: its VTEPs (one per host and remote host) with link_count and their links."),
            })
            {
                var name = new Argument<string>("NAME") { Description = "The lab's name." };
                var json = Output.FormatOption("text or json.");
                var deep = new Option<bool>("--deep") { Description = "Also send a frame across each link and time it." };
                var command = new Command(verb, description) { name, json };
                if (string.Equals(verb, "verify", StringComparison.Ordinal))
                {
                    command.Options.Add(deep);
                }

                Bind(command, p => new LabArgs(verb, Context(p, IsJson(p, json))) { Name = p.GetRequiredValue(name), Deep = p.GetValue(deep) });
                yield return command;
            }

            var runName = new Argument<string>("NAME") { Description = "The lab's name." };
            var every = new Option<string>("--reconcile-every") { Description = "How often the reconciliation runs (default 60s).", HelpName = "DURATION", DefaultValueFactory = _ => "60s" };
            every.Validators.Add(r =>
            {
                if (!Duration.TryParse(r.GetValueOrDefault<string>(), out _, out var why))
                {
                    r.AddError("--reconcile-every: " + why);
                }
            });
            var run = new Command("run", "Keep a deployed lab alive until SIGINT/SIGTERM: supervise its nodes' processes, repair links from the kernel's hints, reconcile periodically. lab deploy starts one in the background when a node runs a process.") { runName, every };
            Bind(run, p =>
            {
                _ = Duration.TryParse(p.GetValue(every), out var period, out _);
                return new LabArgs("run", Context(p, json: false)) { Name = p.GetRequiredValue(runName), ReconcileEvery = period };
            });
            yield return run;

            var labName = new Argument<string>("NAME") { Description = "The lab's name." };
            var node = new Argument<string>("NODE") { Description = "The node." };
            var argv = new Argument<string[]>("COMMAND") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
            var exec = new Command("exec", "Run a command inside a node's namespace (its exit code is the command's).") { labName, node, argv };
            Bind(exec, p => new LabArgs("exec", Context(p, json: false)) { Name = p.GetRequiredValue(labName), Node = p.GetRequiredValue(node), Command = p.GetRequiredValue(argv) });
            yield return exec;
        }
    }

    private static bool IsJson(ParseResult parse, Option<string> output) => string.Equals(parse.GetValue(output), "json", StringComparison.Ordinal);

    private static void Bind(Command command, Func<ParseResult, LabArgs> args)
    {
        command.SetAction((parse, ct) => TopologyCommands.Guard(() => Lab.RunAsync(args(parse), ct)));
    }
}

/// <summary>What every lab command is given.</summary>
/// <param name="Database">The store (<c>--db</c>), or null.</param>
/// <param name="Profiles">The user's naming profiles file, or null.</param>
/// <param name="StateDirectory">The state root, or null for the default.</param>
/// <param name="Json">Whether to print one JSON object.</param>
internal sealed record LabContext(string? Database, string? Profiles, string? StateDirectory, bool Json)
{
    /// <summary>Where ovsdb-server listens (<c>--ovsdb</c>), or null for the default.</summary>
    public string? Ovsdb { get; init; }

    /// <summary>The namespace ovs-vswitchd runs in (<c>--ovs-namespace</c>), or null for the host's.</summary>
    public string? OvsNamespace { get; init; }
}

/// <summary>One lab command as parsed: the verb and what it was given.</summary>
/// <param name="Verb">deploy, destroy, inspect, links, verify, reconcile, run or exec.</param>
/// <param name="Context">What every lab command is given.</param>
internal sealed record LabArgs(string Verb, LabContext Context)
{
    public string? File { get; init; }

    public string? Name { get; init; }

    public string? Node { get; init; }

    public string[] Command { get; init; } = [];

    public bool Deep { get; init; }

    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromSeconds(60);
}
