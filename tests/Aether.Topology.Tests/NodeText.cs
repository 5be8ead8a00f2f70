using System.Globalization;
using System.Text;
using YamlDotNet.Core;

namespace Aether.Topology.Tests;

/// <summary>Definition nodes as text, to compare two ways of reading the same YAML: each node's kind, start (index,
/// line, column), value and style, and children in order; or the exception, with its positions and message.</summary>
internal static class NodeText
{
    public static string Outcome(Func<IReadOnlyList<DefinitionNode>> load)
    {
        IReadOnlyList<DefinitionNode> roots;
        try
        {
            roots = load();
        }
        catch (Exception e) when (e is YamlException or ArgumentException or InvalidOperationException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }

        var text = new StringBuilder();
        foreach (var root in roots)
        {
            Describe(root, text);
            text.Append('\n');
        }

        return text.ToString();
    }

    public static void Describe(DefinitionNode node, StringBuilder text)
    {
        text.Append(CultureInfo.InvariantCulture, $"@{node.Start.Index}:{node.Start.Line}:{node.Start.Column} ");
        switch (node)
        {
            case DefinitionScalar scalar:
                text.Append(CultureInfo.InvariantCulture, $"{scalar.Style} '{scalar.Value}'");
                break;
            case DefinitionList list:
                text.Append('[');
                foreach (var item in list.Children)
                {
                    Describe(item, text);
                    text.Append(", ");
                }

                text.Append(']');
                break;
            case DefinitionMapping mapping:
                text.Append('{');
                foreach (var (key, value) in mapping.Children)
                {
                    Describe(key, text);
                    text.Append(": ");
                    Describe(value, text);
                    text.Append(", ");
                }

                text.Append('}');
                break;
            default:
                text.Append(node.GetType().Name);
                break;
        }
    }
}
