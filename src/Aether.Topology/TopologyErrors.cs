using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>
/// The problems found in one file, and the typed reading of YAML nodes that finds them: each reader reports a wrong
/// type or value against the node it read, and remembers where every field's value was so that later cross-checks
/// (duplicates, references) can point at it by path.
/// </summary>
internal sealed class TopologyErrors(string file)
{
    private readonly List<(int Order, TopologyError Error)> _errors = [];
    private readonly Dictionary<string, Mark> _positions = new(StringComparer.Ordinal);

    /// <summary>How many problems so far.</summary>
    public int Count => _errors.Count;

    /// <summary>The problems sorted by line and column (ties in the order they were found).</summary>
    public IReadOnlyList<TopologyError> InFileOrder() =>
        [.. _errors.OrderBy(e => e.Error.Line).ThenBy(e => e.Error.Column).ThenBy(e => e.Order).Select(e => e.Error)];

    /// <summary>Reports <paramref name="message"/> at <paramref name="at"/>.</summary>
    public void Add(Mark at, string message) =>
        _errors.Add((_errors.Count, new TopologyError(file, (int)Math.Max(1, at.Line), (int)Math.Max(1, at.Column), message)));

    /// <summary>Reports <c>PATH: message</c> at <paramref name="node"/>.</summary>
    public void Add(YamlNode node, string path, string message) => Add(node.Start, Prefix(path, message));

    /// <summary>Reports <c>PATH: message</c> where the value of <paramref name="path"/> was read.</summary>
    public void Add(string path, string message) => Add(Where(path), Prefix(path, message));

    /// <summary><c>PATH: message</c>, or the message alone at the top.</summary>
    private static string Prefix(string path, string message) => path.Length == 0 ? message : $"{path}: {message}";

    /// <summary>Where the value at <paramref name="path"/> was read.</summary>
    public Mark Where(string path) => _positions.TryGetValue(path, out var mark) ? mark : Mark.Empty;

    /// <summary>The position of <paramref name="path"/> as <c>line N</c>, for messages pointing at a first occurrence.</summary>
    public string LineOf(string path) => string.Create(CultureInfo.InvariantCulture, $"line {Where(path).Line}");

    /// <summary>Remembers that the value at <paramref name="path"/> is <paramref name="node"/>.</summary>
    public void Remember(string path, YamlNode node) => _positions[path] = node.Start;

    /// <summary><c>PARENT.KEY</c>, or <c>KEY</c> at the top.</summary>
    public static string Join(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    /// <summary><c>PARENT[INDEX]</c>.</summary>
    public static string Index(string parent, int index) => string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    /// <summary>Whether <paramref name="node"/> is YAML's null (<c>~</c>, <c>null</c>, or nothing at all).</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>How a node is described when it has the wrong type.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar when IsNull(scalar) => "nothing",
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar => $"'{scalar.Value}'",
        YamlScalarNode scalar => $"the quoted string '{scalar.Value}'",
        _ => "an unsupported node",
    };

    /// <summary>
    /// The mapping at <paramref name="node"/> with its keys checked against <paramref name="allowed"/> (each unknown
    /// key is reported at the key, listing the allowed ones); null, after reporting, when it is not a mapping.
    /// </summary>
    public Fields? Mapping(YamlNode node, string path, IReadOnlyList<string> allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            Add(node, path, $"expected a mapping with keys {string.Join(", ", allowed)}; got {Describe(node)}");
            return null;
        }

        var values = new Dictionary<string, (YamlScalarNode Key, YamlNode Value)>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                Add(keyNode, path, $"keys must be plain names; allowed: {string.Join(", ", allowed)}");
                continue;
            }

            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                Add(keyNode, Join(path, key), $"unknown key; allowed here: {string.Join(", ", allowed)}");
                continue;
            }

            values[key] = (scalarKey, value);
        }

        return new Fields(this, mapping, path, values);
    }
}

/// <summary>The known keys of one mapping, with typed readers that report what is wrong with a value.</summary>
internal sealed class Fields(TopologyErrors errors, YamlMappingNode node, string path, Dictionary<string, (YamlScalarNode Key, YamlNode Value)> values)
{
    /// <summary>The mapping.</summary>
    public YamlMappingNode Node => node;

    /// <summary>Its path (<c>links[2]</c>).</summary>
    public string Path => path;

    /// <summary>The path of one of its keys (<c>links[2].mtu</c>).</summary>
    public string PathOf(string key) => TopologyErrors.Join(path, key);

    /// <summary>Whether <paramref name="key"/> is given a value (YAML null counts as absent).</summary>
    public bool Has(string key) => Value(key) is not null;

    /// <summary>The node of <paramref name="key"/>'s name, when present.</summary>
    public YamlScalarNode? KeyNode(string key) => values.TryGetValue(key, out var entry) ? entry.Key : null;

    /// <summary>The value of <paramref name="key"/>; null when absent or YAML null. Its position is remembered.</summary>
    public YamlNode? Value(string key)
    {
        if (!values.TryGetValue(key, out var entry) || TopologyErrors.IsNull(entry.Value))
        {
            return null;
        }

        errors.Remember(PathOf(key), entry.Value);
        return entry.Value;
    }

    /// <summary>Reports <c>PATH.KEY: required...</c> at the mapping when <paramref name="key"/> is missing; true when present.</summary>
    public bool Require(string key, string? what = null)
    {
        if (Has(key))
        {
            return true;
        }

        errors.Add(values.TryGetValue(key, out var entry) ? entry.Value.Start : node.Start, $"{PathOf(key)}: required{(what is null ? "" : $" ({what})")}");
        return false;
    }

    /// <summary>A scalar's text; null when absent, or (reported) when the value is a list or mapping.</summary>
    public string? String(string key)
    {
        switch (Value(key))
        {
            case null:
                return null;
            case YamlScalarNode scalar:
                return scalar.Value ?? "";
            case var other:
                errors.Add(other, PathOf(key), $"expected a single value; got {TopologyErrors.Describe(other)}");
                return null;
        }
    }

    /// <summary>A plain <c>true</c>/<c>false</c>; null when absent or (reported) anything else.</summary>
    public bool? Bool(string key)
    {
        var value = Value(key);
        if (value is null)
        {
            return null;
        }

        if (value is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text })
        {
            if (text is "true" or "True" or "TRUE")
            {
                return true;
            }

            if (text is "false" or "False" or "FALSE")
            {
                return false;
            }
        }

        errors.Add(value, PathOf(key), $"expected true or false; got {TopologyErrors.Describe(value)}");
        return null;
    }

    /// <summary>A plain decimal integer in <paramref name="min"/>..<paramref name="max"/>; null when absent or
    /// (reported) anything else.</summary>
    public long? Integer(string key, long min, long max)
    {
        var value = Value(key);
        if (value is null)
        {
            return null;
        }

        if (value is not YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
            || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            errors.Add(value, PathOf(key), string.Create(CultureInfo.InvariantCulture, $"expected an integer in {min}..{max}; got {TopologyErrors.Describe(value)}"));
            return null;
        }

        if (number < min || number > max)
        {
            errors.Add(value, PathOf(key), string.Create(CultureInfo.InvariantCulture, $"{number} is outside {min}..{max}"));
            return null;
        }

        return number;
    }

    /// <summary>The items of a list; empty when absent or (reported) not a list.</summary>
    public IReadOnlyList<YamlNode> List(string key)
    {
        switch (Value(key))
        {
            case null:
                return [];
            case YamlSequenceNode sequence:
                return [.. sequence.Children];
            case var other:
                errors.Add(other, PathOf(key), $"expected a list; got {TopologyErrors.Describe(other)}");
                return [];
        }
    }
}
