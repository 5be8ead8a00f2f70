using System.CommandLine;
using Aether.Labs;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Cli;

/// <summary><c>aether graph -f FILE [--format mermaid|dot]</c>: a topology or a lab file drawn as a Mermaid
/// flowchart or a Graphviz graph. Reads the file only: nothing is touched, no store or daemon is asked.</summary>
internal static class GraphCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file", "-f") { Description = "The topology or lab file (YAML); which one is told by its keys (a lab has nodes).", HelpName = "FILE", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "mermaid (a flowchart, the default) or dot (Graphviz: dot -Tsvg).",
            HelpName = "mermaid|dot",
            DefaultValueFactory = _ => "mermaid",
        };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var lab = new Option<bool>("--lab") { Description = "Read the file as a lab whatever its keys (its errors then are a lab's)." };
        var profiles = new Option<string?>("--profiles")
        {
            Description = "For a lab: a YAML file of interface naming profiles that adds device kinds or overrides the built-in ones.",
            HelpName = "FILE",
        };
        var command = new Command("graph", """
            Draw a topology or a lab file, touching nothing. A topology: a node per namespace (the host namespace when a
            link is in it), per bridge, per VXLAN remote and per macvlan parent device; an edge per link, a veth pair
            labelled with both ends' names, a vxlan with its VNI. A lab: a node per lab node with its kind (and host,
            for a lab across hosts); an edge per link labelled with both interfaces. The output is the same for the same
            file (sorted), and every name is quoted for the language.
            Exit codes: 0 printed, 2 invalid input (the file's problems on stderr, as diff and lab deploy print them).

            Examples:
              aether graph -f topo.yaml
              aether graph -f lab.yaml --format dot | dot -Tsvg > lab.svg
            """)
        {
            file,
            format,
            lab,
            profiles,
        };
        command.SetAction((parse, _) => TopologyCommands.Guard(() => Task.FromResult(
            Run(parse.GetRequiredValue(file), parse.GetRequiredValue(format), parse.GetValue(lab), parse.GetValue(profiles)))));
        return command;
    }

    private static int Run(string path, string format, bool asLab, string? profilesFile)
    {
        var read = DefinitionFile.Read(path);
        var isLab = asLab || (read.Text is { } text && DefinitionKind.IsLab(text));
        var graph = isLab ? LabOf(path, profilesFile) : TopologyOf(path);
        if (graph is null)
        {
            return ExitCodes.InvalidInput;
        }

        Output.Line((string.Equals(format, "dot", StringComparison.Ordinal) ? DotWriter.Write(graph) : MermaidWriter.Write(graph)).TrimEnd('\n'));
        return ExitCodes.Ok;
    }

    /// <summary>The topology's graph, or null after printing its problems the way <c>aether diff</c> does.</summary>
    private static Graph? TopologyOf(string path)
    {
        var loaded = TopologyInput.Load(path);
        if (loaded.IsValid)
        {
            return TopologyGraph.Of(loaded.Topology!);
        }

        foreach (var error in loaded.Errors)
        {
            Console.Error.WriteLine(NameText.Printable(error.ToString()));
        }

        if (loaded.Errors.Count == 0)
        {
            Output.Fail(path + ": invalid topology");
        }

        return null;
    }

    /// <summary>The lab's graph, or null after printing its problems the way <c>aether lab deploy</c> does.</summary>
    private static Graph? LabOf(string path, string? profilesFile)
    {
        if (Lab.LoadProfiles(profilesFile) is not { } profiles)
        {
            return null;
        }

        var loaded = LabLoader.Load(path, profiles);
        if (loaded.IsValid)
        {
            return LabGraph.Of(loaded.Lab!);
        }

        foreach (var error in loaded.Errors)
        {
            Console.Error.WriteLine(NameText.Printable(error.ToString()));
        }

        Output.Fail(path + ": invalid lab");
        return null;
    }
}
