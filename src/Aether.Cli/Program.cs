using System.CommandLine;

namespace Aether.Cli;

/// <summary>The <c>aether</c> command.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
#if !NATIVE_CLI // the native build has no daemon in it: its serve becomes the ReadyToRun build (ServeExec)
        if (args.Contains("serve", StringComparer.Ordinal) || args.Contains("lab", StringComparer.Ordinal) || args.Contains("agent", StringComparer.Ordinal))
        {
            // Before anything reads it: the daemon and the lab store need run-time code generation (EF Core; see
            // ServeCommand.DynamicCodeSwitch).
            AppContext.SetSwitch(ServeCommand.DynamicCodeSwitch, isEnabled: true);
        }
#endif

        var root = BuildRoot();
        if (args.Length > 0 && string.Equals(args[0], CompletionCommand.Verb, StringComparison.Ordinal))
        {
            var code = CompletionCommand.Complete(root, args[1..]);
            Output.Flush();
            return code;
        }

        if (args.Length > 0 && string.Equals(args[0], ManPage.Verb, StringComparison.Ordinal))
        {
            Output.Line(ManPage.Write(root, args.Length > 1 ? args[1] : null));
            Output.Flush();
            return ExitCodes.Ok;
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Output.Fail(error.Message);
            }

            Console.Error.WriteLine("Try 'aether --help'.");
            return ExitCodes.InvalidInput;
        }

        // Signals are handled by the commands that need it (run); the rest stop as any process does.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(invocation).ConfigureAwait(false);
        }
        finally
        {
            Output.Flush(); // stdout is buffered when it is not a terminal
        }
    }

    internal static RootCommand BuildRoot()
    {
        var stateDir = new Option<string?>("--state-dir")
        {
            Description = "Where last-applied records are kept (default: $AETHER_STATE_DIR, else /var/lib/aether).",
            HelpName = "DIR",
            Recursive = true,
        };
        return new RootCommand("""
            Aether: a declarative, self-healing controller for Linux network namespaces.

            Examples:
              aether apply -f topo.yaml
              aether diff -f topo.yaml
              aether run -f topo.yaml --resync 30s
              aether destroy -f topo.yaml
              aether ns list
              aether wg genkey | aether wg pubkey
              aether lab deploy -f lab.yaml
              aether serve
              aether status
            """)
        {
            stateDir,
            TopologyCommands.Apply(stateDir),
            TopologyCommands.Diff(stateDir),
            TopologyCommands.Destroy(stateDir),
            TopologyCommands.Run(stateDir),
            GraphCommand.Create(),
            NamespaceCommands.Create(),
            WireGuardCommands.Create(),
            ServeCommand.Create(),
            DaemonCommands.Status(),
            DaemonCommands.Hub(),
            LabCommand.Create(stateDir),
            AgentCommand.Create(),
            CompletionCommand.Create(),
        };
    }
}
