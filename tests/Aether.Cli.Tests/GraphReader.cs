using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Aether.Cli.Tests;

/// <summary>
/// Reads what <c>aether graph</c> prints back into nodes and edges, each as one line of text (<c>id: label lines</c>,
/// <c>from -- to: label lines</c>, lines joined with <c> / </c>), so that a test compares them as sets. DOT is read by
/// Graphviz itself: <c>dot -Tsvg</c> renders it and the nodes and edges are read from the SVG (their titles and
/// text), so what is checked is what Graphviz drew. Mermaid is read by its grammar's shapes: every line must be the
/// header, a node, an edge or a link style, ids only <c>[A-Za-z0-9_]</c>, labels quoted.
/// </summary>
internal static partial class GraphReader
{
    /// <summary>The nodes and edges of a drawing.</summary>
    public sealed record Drawing(IReadOnlyList<string> Nodes, IReadOnlyList<string> Edges);

    /// <summary>Reads a Mermaid flowchart; throws (failing the test) on any line that is not one of its forms, an
    /// id that is not <c>[A-Za-z0-9_]</c>, a node defined twice or an edge to an undefined node.</summary>
    public static Drawing Mermaid(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length >= 4, text);
        Assert.Equal("---", lines[0]);
        Assert.Matches("^title: \"[^\"]*\"$", lines[1]);
        Assert.Equal("---", lines[2]);
        Assert.Equal("flowchart LR", lines[3]);
        var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
        var edges = new List<string>();
        foreach (var line in lines.Skip(4))
        {
            if (MermaidNode().Match(line) is { Success: true } node)
            {
                Assert.True(nodes.TryAdd(node.Groups["id"].Value, $"{node.Groups["id"].Value}: {MermaidLabel(node.Groups["label"].Value)}"), "defined twice: " + line);
            }
            else if (MermaidEdge().Match(line) is { Success: true } edge)
            {
                var (from, to) = (edge.Groups["from"].Value, edge.Groups["to"].Value);
                Assert.True(nodes.ContainsKey(from) && nodes.ContainsKey(to), "an edge to a node not defined above: " + line);
                var label = edge.Groups["label"].Success ? MermaidLabel(edge.Groups["label"].Value) : "";
                edges.Add($"{from} -- {to}: {label}");
            }
            else
            {
                Assert.Matches(@"^    linkStyle [0-9]+(,[0-9]+)* stroke-width:3px$", line);
            }
        }

        return new Drawing([.. nodes.Values.Order(StringComparer.Ordinal)], [.. edges.Order(StringComparer.Ordinal)]);
    }

    /// <summary>Renders DOT with Graphviz (<c>dot -Tsvg</c>, which must exit 0 with nothing on stderr) and reads the
    /// nodes and edges it drew.</summary>
    public static async Task<Drawing> DotAsync(string dot)
    {
        var svg = await RenderAsync(dot);
        var ns = XNamespace.Get("http://www.w3.org/2000/svg");
        var groups = XDocument.Parse(svg).Descendants(ns + "g").ToList();
        string Item(XElement g) =>
            $"{g.Element(ns + "title")!.Value}: {string.Join(" / ", g.Elements(ns + "text").Select(t => t.Value))}";
        var nodes = groups.Where(g => (string?)g.Attribute("class") == "node").Select(Item);
        var edges = groups.Where(g => (string?)g.Attribute("class") == "edge").Select(g => Item(g).Replace("--", " -- ", StringComparison.Ordinal));
        return new Drawing([.. nodes.Order(StringComparer.Ordinal)], [.. edges.Order(StringComparer.Ordinal)]);
    }

    /// <summary>What <c>dot -Tsvg</c> makes of <paramref name="dot"/>.</summary>
    public static async Task<string> RenderAsync(string dot)
    {
        var start = new ProcessStartInfo("dot", "-Tsvg")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dot (Graphviz; test.sh installs it)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(dot);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0 && (await stderr).Length == 0, $"dot -Tsvg: exit {process.ExitCode}\n{await stderr}\n{dot}");
        return await stdout;
    }

    /// <summary>A quoted Mermaid label as text: <c>&lt;br&gt;</c> between lines, <c>#NNN;</c> as the character.</summary>
    private static string MermaidLabel(string label) =>
        string.Join(" / ", label.Split("<br>").Select(line => Entity().Replace(line, m => char.ConvertFromUtf32(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)))));

    [GeneratedRegex("^    (?<id>[A-Za-z0-9_]+)(?:\\[\\[|\\{\\{|\\(\\[|\\(\\(|\\(|\\[)\"(?<label>[^\"]*)\"(?:\\]\\]|\\}\\}|\\]\\)|\\)\\)|\\)|\\])$")]
    private static partial Regex MermaidNode();

    [GeneratedRegex("^    (?<from>[A-Za-z0-9_]+) (?:---|-\\.-)(?:\\|\"(?<label>[^\"]*)\"\\|)? (?<to>[A-Za-z0-9_]+)$")]
    private static partial Regex MermaidEdge();

    [GeneratedRegex("#([0-9]+);")]
    private static partial Regex Entity();
}
