using System.Globalization;
using System.Text;

namespace Aether.Cli;

/// <summary>
/// A <see cref="Graph"/> as a Mermaid flowchart, left to right. Node ids are the graph's (<c>[A-Za-z0-9_]</c>, each
/// with a prefix, so never a Mermaid keyword such as <c>end</c>, and never starting with the <c>o</c> or <c>x</c> that
/// would turn <c>---</c> into another arrow). Every label is quoted, and every character in it that Mermaid could
/// read as syntax or markup is written as an entity code (<c>#34;</c> for <c>"</c>); lines are joined with
/// <c>&lt;br&gt;</c>. Shapes: a namespace is a box, the host namespace a box with double sides, a bridge a hexagon, a
/// device a stadium, a remote a circle, a lab node a rounded box. Links are solid lines, tunnels dashed, "lives in"
/// dotted with no label.
/// </summary>
internal static class MermaidWriter
{
    /// <summary>The flowchart, ending with a newline.</summary>
    public static string Write(Graph graph)
    {
        var text = new StringBuilder();
        text.Append("---\ntitle: \"").Append(YamlQuoted(graph.Title)).Append("\"\n---\n");
        text.Append("flowchart LR\n");
        foreach (var node in graph.Nodes)
        {
            var (open, close) = node.Kind switch
            {
                GraphNodeKind.HostNamespace => ("[[", "]]"),
                GraphNodeKind.Bridge => ("{{", "}}"),
                GraphNodeKind.Device => ("([", "])"),
                GraphNodeKind.Remote => ("((", "))"),
                GraphNodeKind.LabNode => ("(", ")"),
                _ => ("[", "]"),
            };
            text.Append("    ").Append(node.Id).Append(open).Append('"').Append(Label(node.Label)).Append('"').Append(close).Append('\n');
        }

        foreach (var edge in graph.Edges)
        {
            var line = edge.Kind switch
            {
                GraphEdgeKind.Tunnel => "-.-",
                GraphEdgeKind.Within => "-.-",
                _ => "---",
            };
            text.Append("    ").Append(edge.From).Append(' ').Append(line);
            if (edge.Label.Count > 0)
            {
                text.Append("|\"").Append(Label(edge.Label)).Append("\"|");
            }

            text.Append(' ').Append(edge.To).Append('\n');
        }

        // Tunnels thicker than "lives in", both dashed: linkStyle by the edges' positions.
        var tunnels = graph.Edges.Select((e, i) => (e, i)).Where(x => x.e.Kind == GraphEdgeKind.Tunnel).Select(x => x.i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (tunnels.Count > 0)
        {
            text.Append("    linkStyle ").Append(string.Join(',', tunnels)).Append(" stroke-width:3px\n");
        }

        return text.ToString();
    }

    /// <summary>The lines of a label, each escaped, joined with <c>&lt;br&gt;</c>.</summary>
    internal static string Label(IReadOnlyList<string> lines) => string.Join("<br>", lines.Select(Escape));

    /// <summary>
    /// <paramref name="text"/> safe inside a quoted Mermaid label: ASCII letters, digits, space and
    /// <c>. , : / + = @ _ - ( )</c> kept (a quoted label takes brackets as text), and printable characters beyond ASCII (<c>↔</c>); every other character (quotes,
    /// <c>#</c>, <c>&lt;</c>, <c>&amp;</c>, brackets, <c>|</c>, <c>;</c>, backslash, controls) written as Mermaid's
    /// entity code <c>#NNN;</c> (its decimal code point), which Mermaid shows as the character itself.
    /// </summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var keep = rune.IsAscii
                ? char.IsAsciiLetterOrDigit((char)rune.Value) || " .,:/+=@_-()".Contains((char)rune.Value, StringComparison.Ordinal)
                : Aether.Netlink.Names.NameText.IsPrintable(rune);
            if (keep)
            {
                escaped.Append(rune.ToString());
            }
            else
            {
                escaped.Append('#').Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
            }
        }

        return escaped.ToString();
    }

    /// <summary><paramref name="text"/> inside a YAML double-quoted scalar (the front matter's title): backslash and
    /// quote escaped, anything not printable as <c>\uXXXX</c>.</summary>
    private static string YamlQuoted(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            _ = rune.Value switch
            {
                '\\' => escaped.Append(@"\\"),
                '"' => escaped.Append("\\\""),
                _ when Aether.Netlink.Names.NameText.IsPrintable(rune) => escaped.Append(rune.ToString()),
                _ => escaped.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:X8}"),
            };
        }

        return escaped.ToString();
    }
}
