using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>One problem in a YAML file, where it is.</summary>
internal sealed record YamlProblem(string File, int Line, int Column, string Message);

/// <summary>
/// The problems found in one YAML file, and the typed reading of YAML nodes that finds them: each reader reports a
/// wrong type or value against the node it read, and remembers where every field's value was so that later
/// cross-checks (duplicates, references) can point at it by path. The topology reader and the lab reader both read
/// with it; each turns the problems into its own error type.
/// </summary>
internal class YamlProblems(string file)
{
    private readonly List<(int Order, YamlProblem Error)> _errors = [];
    private readonly Dictionary<string, Mark> _positions = new(StringComparer.Ordinal);

    /// <summary>How many problems so far.</summary>
    public int Count => _errors.Count;

    /// <summary>The problems sorted by line and column (ties in the order they were found).</summary>
    public IReadOnlyList<YamlProblem> Sorted() =>
        [.. _errors.OrderBy(e => e.Error.Line).ThenBy(e => e.Error.Column).ThenBy(e => e.Order).Select(e => e.Error)];

    /// <summary>Reports <paramref name="message"/> at <paramref name="at"/>.</summary>
    public void Add(Mark at, string message) =>
        _errors.Add((_errors.Count, new YamlProblem(file, (int)Math.Max(1, at.Line), (int)Math.Max(1, at.Column), message)));

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

    /// <summary>Remembers that the value at <paramref name="path"/> is at <paramref name="node"/>.</summary>
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
    /// The mapping at <paramref name="node"/> with its keys checked against <paramref name="allowed"/>: each unknown
    /// key is reported at the key, with the nearest allowed one when a key is close to it and the list of the
    /// allowed ones. Null, after reporting, when it is not a mapping.
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
                var near = Spelling.Nearest(key, allowed);
                var hint = near is null ? "" : $"did you mean '{near}'? ";
                Add(keyNode, Join(path, key), $"unknown key; {hint}allowed here: {string.Join(", ", allowed)}");
                continue;
            }

            values[key] = (scalarKey, value);
        }

        return new Fields(this, mapping, path, values);
    }

    /// <summary>The pairs of a mapping whose keys are names chosen by the user (node names, kinds), each key as text
    /// with its node; reported and empty when <paramref name="node"/> is not a mapping.</summary>
    public List<(string Key, YamlScalarNode KeyNode, YamlNode Value)> NamedItems(YamlNode node, string path, string expected)
    {
        var items = new List<(string, YamlScalarNode, YamlNode)>();
        if (node is not YamlMappingNode mapping)
        {
            Add(node, path, $"expected {expected}; got {Describe(node)}");
            return items;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                Add(keyNode, path, $"keys must be plain names; expected {expected}");
                continue;
            }

            Remember(Join(path, key), scalarKey);
            items.Add((key, scalarKey, value));
        }

        return items;
    }
}
