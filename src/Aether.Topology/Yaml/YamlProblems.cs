using System.Globalization;
using System.Runtime.InteropServices;
using YamlDotNet.Core;

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
    /// <summary>Remembered positions per chunk: small enough to stay off the large object heap.</summary>
    private const int ChunkLength = 1024;

    private readonly List<(int Order, YamlProblem Error)> _errors = [];

    /// <summary>Every position remembered, in order, until one is first looked up; then <see cref="_positions"/>.
    /// A file without problems is read without building a path string or hashing one for each of its fields.</summary>
    private readonly List<Remembered[]> _log = [];
    private int _logged = ChunkLength;
    private Dictionary<string, Mark>? _positions;

    /// <summary>How many problems so far.</summary>
    public int Count => _errors.Count;

    /// <summary>The problems sorted by line and column (ties in the order they were found).</summary>
    public IReadOnlyList<YamlProblem> Sorted() =>
        [.. _errors.OrderBy(e => e.Error.Line).ThenBy(e => e.Error.Column).ThenBy(e => e.Order).Select(e => e.Error)];

    /// <summary>Reports <paramref name="message"/> at <paramref name="at"/>.</summary>
    public void Add(Mark at, string message) =>
        _errors.Add((_errors.Count, new YamlProblem(file, (int)Math.Max(1, at.Line), (int)Math.Max(1, at.Column), message)));

    /// <summary>Reports <c>PATH: message</c> at <paramref name="node"/>.</summary>
    public void Add(DefinitionNode node, string path, string message) => Add(node.Start, Prefix(path, message));

    /// <summary>Reports <c>PATH: message</c> where the value of <paramref name="path"/> was read.</summary>
    public void Add(string path, string message) => Add(Where(path), Prefix(path, message));

    /// <summary><c>PATH: message</c>, or the message alone at the top.</summary>
    private static string Prefix(string path, string message) => path.Length == 0 ? message : $"{path}: {message}";

    /// <summary>Where the value at <paramref name="path"/> was read.</summary>
    public Mark Where(string path) => Positions().TryGetValue(path, out var mark) ? mark : Mark.Empty;

    /// <summary>The position of <paramref name="path"/> as <c>line N</c>, for messages pointing at a first occurrence.</summary>
    public string LineOf(string path) => string.Create(CultureInfo.InvariantCulture, $"line {Where(path).Line}");

    /// <summary>Remembers that the value at <paramref name="path"/> is at <paramref name="node"/>.</summary>
    public void Remember(string path, DefinitionNode node) => Log(path, null, node);

    /// <summary>Remembers that the value at <c>PARENT.KEY</c> (<see cref="Join"/>) is at <paramref name="node"/>,
    /// without joining the two until a position is looked up.</summary>
    public void Remember(string parent, string key, DefinitionNode node) => Log(parent, key, node);

    private void Log(string pathOrParent, string? key, DefinitionNode node)
    {
        if (_positions is { } positions)
        {
            positions[key is null ? pathOrParent : Join(pathOrParent, key)] = node.Start;
            return;
        }

        if (_log.Count > 0 && _logged > 0 && _log[^1][_logged - 1] is var last && ReferenceEquals(last.Node, node)
            && ReferenceEquals(last.PathOrParent, pathOrParent) && ReferenceEquals(last.Key, key))
        {
            return; // the same again (a field checked, then read): nothing new to remember
        }

        if (_logged == ChunkLength)
        {
            _log.Add(new Remembered[ChunkLength]);
            _logged = 0;
        }

        _log[^1][_logged++] = new Remembered(pathOrParent, key, node);
    }

    /// <summary>The positions by path, built from the log at the first look-up (the last remembered for a path wins, as
    /// when each was stored at once).</summary>
    private Dictionary<string, Mark> Positions()
    {
        if (_positions is { } positions)
        {
            return positions;
        }

        positions = new Dictionary<string, Mark>(StringComparer.Ordinal);
        for (var chunk = 0; chunk < _log.Count; chunk++)
        {
            var entries = _log[chunk];
            var count = chunk == _log.Count - 1 ? _logged : ChunkLength;
            for (var i = 0; i < count; i++)
            {
                var (pathOrParent, key, node) = entries[i];
                positions[key is null ? pathOrParent : Join(pathOrParent, key)] = node.Start;
            }
        }

        _log.Clear();
        _positions = positions;
        return positions;
    }

    /// <summary><c>PARENT.KEY</c>, or <c>KEY</c> at the top.</summary>
    public static string Join(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    /// <summary><c>PARENT[INDEX]</c>.</summary>
    public static string Index(string parent, int index) => string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    /// <summary>Whether <paramref name="node"/> is YAML's null (<c>~</c>, <c>null</c>, or nothing at all).</summary>
    public static bool IsNull(DefinitionNode node) =>
        node is DefinitionScalar { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>How a node is described when it has the wrong type.</summary>
    public static string Describe(DefinitionNode node) => node switch
    {
        DefinitionMapping => "a mapping",
        DefinitionList => "a list",
        DefinitionScalar scalar when IsNull(scalar) => "nothing",
        DefinitionScalar { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar => $"'{scalar.Value}'",
        DefinitionScalar scalar => $"the quoted string '{scalar.Value}'",
        _ => "an unsupported node",
    };

    /// <summary>
    /// The mapping at <paramref name="node"/> with its keys checked against <paramref name="allowed"/>: each unknown
    /// key is reported at the key, with the nearest allowed one when a key is close to it and the list of the
    /// allowed ones. Null, after reporting, when it is not a mapping.
    /// </summary>
    public Fields? Mapping(DefinitionNode node, string path, IReadOnlyList<string> allowed)
    {
        if (node is not DefinitionMapping mapping)
        {
            Add(node, path, $"expected a mapping with keys {string.Join(", ", allowed)}; got {Describe(node)}");
            return null;
        }

        var children = mapping.Children;
        var values = new Fields.Entry[children.Count];
        var count = 0;
        for (var i = 0; i < children.Count; i++)
        {
            var (keyNode, value) = children[i];
            if (keyNode is not DefinitionScalar { Value: { } key } scalarKey)
            {
                Add(keyNode, path, $"keys must be plain names; allowed: {string.Join(", ", allowed)}");
                continue;
            }

            var index = IndexOf(allowed, key);
            if (index < 0)
            {
                var near = Spelling.Nearest(key, allowed);
                var hint = near is null ? "" : $"did you mean '{near}'? ";
                Add(keyNode, Join(path, key), $"unknown key; {hint}allowed here: {string.Join(", ", allowed)}");
                continue;
            }

            // A key given twice (YamlDotNet's model allows it when the two differ in tag): the later pair counts.
            var given = 0;
            while (given < count && !ReferenceEquals(values[given].Name, allowed[index]))
            {
                given++;
            }

            values[given] = new Fields.Entry(allowed[index], scalarKey, value);
            count = Math.Max(count, given + 1);
        }

        return new Fields(this, mapping, path, values, count);
    }

    /// <summary>Where <paramref name="value"/> is in <paramref name="list"/> (ordinal), or -1.</summary>
    public static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The pairs of a mapping whose keys are names chosen by the user (node names, kinds), each key as text
    /// with its node; reported and empty when <paramref name="node"/> is not a mapping.</summary>
    public List<(string Key, DefinitionScalar KeyNode, DefinitionNode Value)> NamedItems(DefinitionNode node, string path, string expected)
    {
        var items = new List<(string, DefinitionScalar, DefinitionNode)>();
        if (node is not DefinitionMapping mapping)
        {
            Add(node, path, $"expected {expected}; got {Describe(node)}");
            return items;
        }

        for (var i = 0; i < mapping.Children.Count; i++)
        {
            var (keyNode, value) = mapping.Children[i];
            if (keyNode is not DefinitionScalar { Value: { } key } scalarKey)
            {
                Add(keyNode, path, $"keys must be plain names; expected {expected}");
                continue;
            }

            Remember(Join(path, key), scalarKey);
            items.Add((key, scalarKey, value));
        }

        return items;
    }

    /// <summary>One remembered position: a path, or a parent and key still to be joined.</summary>
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Remembered(string PathOrParent, string? Key, DefinitionNode Node);
}
