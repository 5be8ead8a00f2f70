using System.Globalization;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Aether.Bench;

/// <summary>A YAML tree the fuzzer can mutate and write back, including what a parser's model cannot hold: duplicate
/// keys, anchors and aliases placed anywhere, aliases to nothing, tags.</summary>
internal abstract class FuzzNode
{
    /// <summary>An anchor written before the node (<c>&amp;a1</c>), or null.</summary>
    public string? Anchor { get; set; }

    /// <summary>A tag written before the node (<c>!!int</c>), or null.</summary>
    public string? Tag { get; set; }

    public abstract FuzzNode Clone();

    /// <summary>The tree read by YamlDotNet from a valid file (aliases expanded into copies).</summary>
    public static FuzzNode From(YamlNode node) => node switch
    {
        YamlMappingNode map => new FuzzMap { Items = [.. map.Children.Select(kv => (From(kv.Key), From(kv.Value)))] },
        YamlSequenceNode seq => new FuzzSeq { Items = [.. seq.Children.Select(From)] },
        YamlScalarNode scalar => new FuzzScalar { Text = scalar.Value ?? string.Empty },
        _ => new FuzzScalar { Text = string.Empty },
    };

    /// <summary>Reads a valid file's text into a tree.</summary>
    public static FuzzNode Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return From(stream.Documents[0].RootNode);
    }

    protected T CopyMarks<T>(T to)
        where T : FuzzNode
    {
        to.Anchor = Anchor;
        to.Tag = Tag;
        return to;
    }
}

internal sealed class FuzzMap : FuzzNode
{
    public List<(FuzzNode Key, FuzzNode Value)> Items { get; init; } = [];

    public override FuzzNode Clone() => CopyMarks(new FuzzMap { Items = [.. Items.Select(kv => (kv.Key.Clone(), kv.Value.Clone()))] });
}

internal sealed class FuzzSeq : FuzzNode
{
    public List<FuzzNode> Items { get; init; } = [];

    public override FuzzNode Clone() => CopyMarks(new FuzzSeq { Items = [.. Items.Select(i => i.Clone())] });
}

internal sealed class FuzzScalar : FuzzNode
{
    public string Text { get; set; } = string.Empty;

    public override FuzzNode Clone() => CopyMarks(new FuzzScalar { Text = Text });
}

/// <summary>An alias (<c>*name</c>), to an anchor that may or may not exist.</summary>
internal sealed class FuzzAlias : FuzzNode
{
    public string Name { get; init; } = "a";

    public override FuzzNode Clone() => CopyMarks(new FuzzAlias { Name = Name });
}

/// <summary>Writes a <see cref="FuzzNode"/> tree as YAML: block style, with flow style chosen at random.</summary>
internal static class FuzzYamlWriter
{
    /// <summary>Where writing stops: the text is cut there (over the readers' 4 MiB limit).</summary>
    public const int MaxLength = 5 * 1024 * 1024;

    public static string Write(FuzzNode root, Random random)
    {
        var text = new StringBuilder();
        WriteBlock(text, root, 0, random, 0);
        return text.ToString();
    }

    private static void WriteBlock(StringBuilder text, FuzzNode node, int indent, Random random, int depth)
    {
        var pad = new string(' ', indent);
        if (depth > 40 || random.Next(8) == 0 || node is FuzzScalar or FuzzAlias
            || (node is FuzzMap { Items.Count: 0 }) || (node is FuzzSeq { Items.Count: 0 }))
        {
            text.Append(pad).Append(Marks(node)).Append(Flow(node)).Append('\n');
            return;
        }

        if (Marks(node) is { Length: > 0 } marks)
        {
            text.Append(pad).Append(marks.TrimEnd()).Append('\n');
        }

        if (node is FuzzMap map)
        {
            foreach (var (key, value) in map.Items.TakeWhile(_ => text.Length < MaxLength))
            {
                text.Append(pad).Append(Flow(key)).Append(':');
                WriteValue(text, value, indent, random, depth);
            }
        }
        else if (node is FuzzSeq seq)
        {
            foreach (var item in seq.Items.TakeWhile(_ => text.Length < MaxLength))
            {
                text.Append(pad).Append('-');
                WriteValue(text, item, indent, random, depth);
            }
        }
    }

    private static void WriteValue(StringBuilder text, FuzzNode value, int indent, Random random, int depth)
    {
        if (value is FuzzScalar or FuzzAlias || random.Next(6) == 0)
        {
            text.Append(' ').Append(Marks(value)).Append(Flow(value)).Append('\n');
        }
        else
        {
            text.Append('\n');
            WriteBlock(text, value, indent + 2, random, depth + 1);
        }
    }

    private static string Marks(FuzzNode node) =>
        (node.Anchor is { } a ? "&" + a + " " : string.Empty) + (node.Tag is { } t ? t + " " : string.Empty);

    /// <summary>The node in flow style, on one line (deep trees are written iteratively enough: flow nesting is what
    /// the deep-nesting mutation builds).</summary>
    public static string Flow(FuzzNode node)
    {
        var text = new StringBuilder();
        AppendFlow(text, node);
        return text.ToString();
    }

    private static void AppendFlow(StringBuilder text, FuzzNode node)
    {
        if (text.Length > MaxLength)
        {
            return;
        }

        switch (node)
        {
            case FuzzAlias alias:
                text.Append('*').Append(alias.Name);
                return;
            case FuzzScalar scalar:
                text.Append(Scalar(scalar.Text));
                return;
            case FuzzSeq seq:
                text.Append('[');
                for (var i = 0; i < seq.Items.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ", ").Append(Marks(seq.Items[i]));
                    AppendFlow(text, seq.Items[i]);
                }

                text.Append(']');
                return;
            case FuzzMap map:
                text.Append('{');
                for (var i = 0; i < map.Items.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ", ").Append(Marks(map.Items[i].Key));
                    AppendFlow(text, map.Items[i].Key);
                    text.Append(": ").Append(Marks(map.Items[i].Value));
                    AppendFlow(text, map.Items[i].Value);
                }

                text.Append('}');
                return;
        }
    }

    /// <summary>A scalar plain when that reads back the same, else double-quoted with escapes.</summary>
    public static string Scalar(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or '@')
            && value[0] != '-' && value[0] != '@')
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\t' => text.Append("\\t"),
                _ when char.IsSurrogate(c) => text.Append(c),
                _ when c < 0x20 || c == 0x7f || char.IsControl(c) => text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => text.Append(c),
            };
        }

        return text.Append('"').ToString();
    }
}
