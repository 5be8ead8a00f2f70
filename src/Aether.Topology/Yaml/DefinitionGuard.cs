using System.Globalization;
using System.Runtime.InteropServices;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Aether.Topology;

/// <summary>A definition's YAML beyond one of <see cref="DefinitionFile"/>'s limits, where the parser was.</summary>
internal sealed class DefinitionLimitException : YamlException
{
    /// <summary>A limit broken at <paramref name="at"/>.</summary>
    public DefinitionLimitException(Mark at, string limit)
        : base(at, at, limit) => Limit = limit;

    /// <summary>What was over which limit (without YamlDotNet's position prefix).</summary>
    public string Limit { get; }
}

/// <summary>
/// Hands on a parser's events and refuses, by throwing <see cref="DefinitionLimitException"/>, the first one beyond
/// a limit: before <see cref="DefinitionTree"/> or YamlDotNet's representation model (which build nodes by recursion,
/// and a stack overflow cannot be caught) or a reader ever sees it. Depth counts open mappings and lists; nodes count every scalar, mapping and list,
/// and an alias counts the nodes of what it names each time it is used (and its depth adds to where it is used), so a
/// file whose anchors multiply is refused at <see cref="DefinitionFile.MaxNodes"/> instead of being walked. An alias
/// inside the node it names (a structure without end) is refused, and so is an alias to an anchor not seen before it.
/// </summary>
internal sealed class DefinitionGuard(IParser inner) : IParser
{
    private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
    private readonly List<Open> _open = [];
    private long _nodes;

    /// <inheritdoc/>
    public ParsingEvent? Current => inner.Current;

    /// <inheritdoc/>
    public bool MoveNext()
    {
        bool more;
        try
        {
            more = inner.MoveNext();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner throws these, not a YamlException, on some malformed input (found by the fuzzer: a
            // byte order mark inside a plain scalar; an empty verbatim tag `!<>`, "Tag value must not be empty"). It is
            // the file's fault: reported like any other YAML error.
            var at = inner.Current?.End ?? Mark.Empty;
            throw new YamlException(at, at, e.Message, e);
        }

        if (!more)
        {
            return false;
        }

        Check(inner.Current!);
        return true;
    }

    private void Check(ParsingEvent current)
    {
        switch (current)
        {
            case Scalar scalar:
                if (scalar.Value.Length > DefinitionFile.MaxScalarLength)
                {
                    throw Over(current, $"a scalar of {scalar.Value.Length} characters, over the limit of {DefinitionFile.MaxScalarLength}");
                }

                Count(current, 1);
                if (!scalar.Anchor.IsEmpty)
                {
                    _anchors[scalar.Anchor.Value] = new Anchored(1, 0);
                }

                Child(0);
                break;
            case MappingStart or SequenceStart:
                if (_open.Count >= DefinitionFile.MaxDepth)
                {
                    throw Over(current, $"nested deeper than {DefinitionFile.MaxDepth} levels of mappings and lists (the limit)");
                }

                var anchor = ((NodeEvent)current).Anchor;
                var open = new Open(anchor.IsEmpty ? null : anchor.Value, _nodes);
                if (open.Anchor is not null)
                {
                    _ = _anchors.Remove(open.Anchor); // an alias to this name inside it means this node, which is not done
                }

                Count(current, 1);
                _open.Add(open);
                break;
            case MappingEnd or SequenceEnd:
                var done = _open[^1];
                _open.RemoveAt(_open.Count - 1);
                if (done.Anchor is not null)
                {
                    _anchors[done.Anchor] = new Anchored(_nodes - done.NodesBefore, done.Height);
                }

                Child(done.Height);
                break;
            case AnchorAlias alias:
                var name = alias.Value.Value;
                if (!_anchors.TryGetValue(name, out var anchored))
                {
                    if (IsOpen(name))
                    {
                        throw Over(current, $"alias *{name} is inside the node it names (&{name}): a structure without end");
                    }

                    // YamlDotNet's representation model takes an alias to an anchor that comes later and, resolving
                    // it at the end of the document, can recurse until the stack overflows (*a: x, then b: &a 1).
                    // YAML defines an alias as naming an anchor before it: anything else is refused here.
                    throw Over(current, $"alias *{name} names no anchor before it (an alias must come after its &{name})");
                }

                if (_open.Count + anchored.Height > DefinitionFile.MaxDepth)
                {
                    throw Over(current, $"alias *{name} nests deeper than {DefinitionFile.MaxDepth} levels of mappings and lists (the limit)");
                }

                Count(current, anchored.Nodes);
                Child(anchored.Height);
                break;
        }
    }

    /// <summary>Whether a mapping or list anchored <paramref name="anchor"/> is not yet ended.</summary>
    private bool IsOpen(string anchor)
    {
        foreach (var open in _open)
        {
            if (string.Equals(open.Anchor, anchor, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private void Count(ParsingEvent current, long nodes)
    {
        _nodes += nodes;
        if (_nodes > DefinitionFile.MaxNodes)
        {
            throw Over(current, $"more than {DefinitionFile.MaxNodes} nodes (the limit; an alias counts the nodes it stands for each time it is used)");
        }
    }

    /// <summary>A node of <paramref name="height"/> levels ended inside the innermost open one.</summary>
    private void Child(int height)
    {
        if (_open.Count > 0)
        {
            ref var parent = ref CollectionsMarshal.AsSpan(_open)[^1];
            parent.Height = Math.Max(parent.Height, height + 1);
        }
    }

    private static DefinitionLimitException Over(ParsingEvent at, FormattableString message) =>
        new(at.Start, message.ToString(CultureInfo.InvariantCulture));

    /// <summary>An anchored node: how many nodes it holds and how many levels of mappings and lists.</summary>
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Anchored(long Nodes, int Height);

    /// <summary>A mapping or list not yet ended.</summary>
    [StructLayout(LayoutKind.Auto)]
    private struct Open(string? anchor, long nodesBefore)
    {
        public readonly string? Anchor { get; } = anchor;

        public readonly long NodesBefore { get; } = nodesBefore;

        public int Height { get; set; } = 1;
    }
}
