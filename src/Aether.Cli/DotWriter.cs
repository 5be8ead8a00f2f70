using System.Globalization;
using System.Text;

namespace Aether.Cli;

/// <summary>
/// A <see cref="Graph"/> in Graphviz's DOT language: an undirected graph, left to right, every id and label a quoted
/// string. In a label, <c>"</c> and backslash are escaped with a backslash, <c>&amp;</c> is written <c>&amp;amp;</c>
/// (Graphviz reads entities in labels), characters that do not print as <c>&amp;#NNN;</c>, and lines are joined with
/// <c>\n</c>. Shapes: a namespace is a box, the host namespace a grey box, a bridge a hexagon, a device an ellipse, a
/// remote a dashed ellipse, a lab node a rounded box. Links are solid, tunnels dashed and bold, "lives in" dotted.
/// </summary>
internal static class DotWriter
{
    /// <summary>The graph, ending with a newline.</summary>
    public static string Write(Graph graph)
    {
        var text = new StringBuilder();
        text.Append("graph ").Append(Quoted(graph.Title)).Append(" {\n");
        text.Append("    graph [label=").Append(Quoted(graph.Title)).Append(", labelloc=t, rankdir=LR];\n");
        text.Append("    node [shape=box, fontsize=11];\n");
        text.Append("    edge [fontsize=9];\n");
        foreach (var node in graph.Nodes)
        {
            var style = node.Kind switch
            {
                GraphNodeKind.HostNamespace => "shape=box, style=filled, fillcolor=lightgrey",
                GraphNodeKind.Bridge => "shape=hexagon",
                GraphNodeKind.Device => "shape=ellipse",
                GraphNodeKind.Remote => "shape=ellipse, style=dashed",
                GraphNodeKind.LabNode => "shape=box, style=rounded",
                _ => "shape=box",
            };
            text.Append("    ").Append(Quoted(node.Id)).Append(" [label=").Append(Label(node.Label)).Append(", ").Append(style).Append("];\n");
        }

        foreach (var edge in graph.Edges)
        {
            var style = edge.Kind switch
            {
                GraphEdgeKind.Tunnel => "style=\"dashed,bold\"",
                GraphEdgeKind.Within => "style=dotted",
                _ => "style=solid",
            };
            text.Append("    ").Append(Quoted(edge.From)).Append(" -- ").Append(Quoted(edge.To)).Append(" [");
            if (edge.Label.Count > 0)
            {
                text.Append("label=").Append(Label(edge.Label)).Append(", ");
            }

            text.Append(style).Append("];\n");
        }

        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>The lines of a label as one quoted string, joined with <c>\n</c> (Graphviz's centred line break).</summary>
    internal static string Label(IReadOnlyList<string> lines) => "\"" + string.Join(@"\n", lines.Select(Escape)) + "\"";

    private static string Quoted(string text) => "\"" + Escape(text) + "\"";

    /// <summary><paramref name="text"/> inside a quoted DOT string: <c>\\</c>, <c>\"</c>, <c>&amp;amp;</c>, and
    /// <c>&amp;#NNN;</c> for what does not print; everything else as it is.</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            _ = rune.Value switch
            {
                '\\' => escaped.Append(@"\\"),
                '"' => escaped.Append("\\\""),
                '&' => escaped.Append("&amp;"),
                _ when Aether.Netlink.Names.NameText.IsPrintable(rune) => escaped.Append(rune.ToString()),
                _ => escaped.Append(CultureInfo.InvariantCulture, $"&#{rune.Value};"),
            };
        }

        return escaped.ToString();
    }
}
