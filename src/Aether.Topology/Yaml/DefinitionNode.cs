using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>
/// A node of a definition's YAML as the readers see it: where it starts and what it holds, nothing more (no end, tag,
/// anchor or style of a collection, no dictionary per mapping). Built by <see cref="DefinitionTree"/>; what YamlDotNet's
/// representation model would hold, for the readers' purposes.
/// </summary>
/// <param name="start">Where the node starts.</param>
internal abstract class DefinitionNode(Mark start)
{
    // The mark's three numbers as ints (a definition is at most 4 MiB): a third of a scalar node's size.
    private readonly int _index = checked((int)start.Index);
    private readonly int _line = checked((int)start.Line);
    private readonly int _column = checked((int)start.Column);

    /// <summary>Where the node starts.</summary>
    public Mark Start => _line == 0 ? default : new Mark(_index, _line, _column);
}

/// <summary>A scalar: its text as written (<c>~</c> and <c>null</c> included) and how it was written.</summary>
internal sealed class DefinitionScalar(Mark start, string? value, ScalarStyle style) : DefinitionNode(start)
{
    /// <summary>The text.</summary>
    public string? Value { get; } = value;

    /// <summary>Plain, quoted, literal or folded.</summary>
    public ScalarStyle Style { get; } = style;
}

/// <summary>A mapping: its pairs in file order (no key twice).</summary>
internal sealed class DefinitionMapping(Mark start, KeyValuePair<DefinitionNode, DefinitionNode>[] children) : DefinitionNode(start)
{
    /// <summary>The pairs, in file order.</summary>
    public IReadOnlyList<KeyValuePair<DefinitionNode, DefinitionNode>> Children { get; } = children;
}

/// <summary>A list: its items in file order.</summary>
internal sealed class DefinitionList(Mark start, DefinitionNode[] children) : DefinitionNode(start)
{
    /// <summary>The items, in file order.</summary>
    public IReadOnlyList<DefinitionNode> Children { get; } = children;
}

/// <summary>A node of a kind YamlDotNet's model has and the readers do not read (an alias it left unresolved).</summary>
internal sealed class DefinitionUnsupported(Mark start) : DefinitionNode(start);
