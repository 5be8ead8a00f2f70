using System.CommandLine;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;

namespace Aether.Cli;

/// <summary><c>ns list|add|del|watch</c>: named namespaces, interoperable with <c>ip netns</c>.</summary>
internal static class NamespaceCommands
{
    public static Command Create()
    {
        var output = Output.FormatOption("text (one name a line) or json (an array of objects).");
        var all = NamespaceWatchCommand.AllOption("Also list unnamed namespaces (held by processes or mounted elsewhere), with inodes and the pids in each.");
        var list = new Command("list", """
            List the named namespaces (those under /run/netns, as ip netns list shows them).

            Examples:
              aether ns list
              aether ns list -o json
              aether ns list --all
            """)
        {
            output,
            all,
        };
        list.SetAction(parse =>
        {
            var json = string.Equals(parse.GetValue(output), "json", StringComparison.Ordinal);
            return TopologyCommands.Guard(() => Task.FromResult(parse.GetValue(all) ? NamespaceWatchCommand.ListAll(json) : List(json)));
        });

        var addName = NameArgument();
        var add = new Command("add", """
            Create a named namespace (as ip netns add does).

            Example:
              aether ns add lab1
            """)
        {
            addName,
        };
        add.SetAction(parse => TopologyCommands.Guard(() => Task.FromResult(Add(parse.GetRequiredValue(addName)))));

        var delName = NameArgument();
        var del = new Command("del", """
            Delete a named namespace (as ip netns del does); the kernel frees it and its links once nothing holds it.

            Example:
              aether ns del lab1
            """)
        {
            delName,
        };
        del.SetAction(parse => TopologyCommands.Guard(() => Task.FromResult(Delete(parse.GetRequiredValue(delName)))));

        return new Command("ns", """
            Named network namespaces.

            Examples:
              aether ns list
              aether ns add lab1
              aether ns del lab1
              aether ns watch
            """)
        {
            list,
            add,
            del,
            NamespaceWatchCommand.Create(),
        };
    }

    private static Argument<string> NameArgument()
    {
        var name = new Argument<string>("NAME") { Description = "The namespace's name (a file name under /run/netns)." };
        name.CompletionSources.Add(_ => NetworkNamespace.List().Select(n => new System.CommandLine.Completions.CompletionItem(n)));
        return name;
    }

    private static int List(bool json)
    {
        var names = NetworkNamespace.List();
        if (json)
        {
            Output.Line(Output.Json(names));
            return ExitCodes.Ok;
        }

        foreach (var name in names)
        {
            Output.Line(name);
        }

        return ExitCodes.Ok;
    }

    private static int Add(string name)
    {
        if (!Valid(name))
        {
            return ExitCodes.InvalidInput;
        }

        if (NetworkNamespace.Exists(name))
        {
            Output.Fail($"namespace '{name}' already exists");
            return ExitCodes.Failure;
        }

        NetworkNamespace.Create(name).Dispose();
        Output.Line("+ namespace " + name);
        return ExitCodes.Ok;
    }

    private static int Delete(string name)
    {
        if (!Valid(name))
        {
            return ExitCodes.InvalidInput;
        }

        if (!NetworkNamespace.Exists(name))
        {
            Output.Fail($"no namespace '{name}': nothing to delete (see aether ns list)");
            return ExitCodes.Failure;
        }

        NetworkNamespace.Delete(name);
        Output.Line("- namespace " + name);
        return ExitCodes.Ok;
    }

    private static bool Valid(string name)
    {
        if (NamespaceNameRule.IsValid(name, out var why))
        {
            return true;
        }

        Output.Fail("invalid namespace name " + why);
        return false;
    }
}
