using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>
/// Builds the <see cref="DefinitionNode"/>s of a definition's YAML straight from the parser's events, in one pass.
/// <para>
/// A plain document (scalars, mappings and lists, no anchor or alias, every key an untagged scalar: what definitions
/// are) is built here, asking the parser for each event exactly when YamlDotNet's representation model
/// (<see cref="YamlStream.Load(IParser)"/>) would and refusing a duplicate key with the same exception at the same
/// event, so that a file that is not valid YAML fails at the same place with the same message. Anything else (an
/// anchor or alias, a tagged or non-scalar key, an event no node starts with) is read again from the start by
/// YamlDotNet's model, whose nodes are then copied: the rules of anchors, aliases and key equality stay YamlDotNet's.
/// </para>
/// </summary>
internal static class DefinitionTree
{
    /// <summary>Mappings with more keys than this check a new key against a set instead of each earlier key.</summary>
    private const int LinearKeys = 16;

    /// <summary>The root node of each document of <paramref name="text"/>: read by <see cref="PlainYaml"/> when it
    /// has that shape, else from the events of the parser <paramref name="open"/> makes for it (see
    /// <see cref="Load(Func{IParser})"/>).</summary>
    public static IReadOnlyList<DefinitionNode> Load(string text, Func<IParser> open) =>
        PlainYaml.Read(text) is { } root ? [root] : Load(open);

    /// <summary>The root node of each document of the YAML that <paramref name="open"/> parses (called once, or a
    /// second time to read a document that is not plain through YamlDotNet's model). Throws what the parser or the
    /// model throws (<see cref="YamlException"/> and others) where the text is not YAML.</summary>
    public static IReadOnlyList<DefinitionNode> Load(Func<IParser> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        return new Builder(open()).Stream() ?? FromModel(open());
    }

    /// <summary>YamlDotNet's representation model of the stream, copied: what a stream that is not plain is read
    /// with, and what the tests compare the one pass with.</summary>
    internal static List<DefinitionNode> FromModel(IParser parser)
    {
        var stream = new YamlStream();
        stream.Load(parser);
        var copied = new Dictionary<YamlNode, DefinitionNode>(ReferenceEqualityComparer.Instance); // an alias is its anchor's node
        var roots = new List<DefinitionNode>(stream.Documents.Count);
        foreach (var document in stream.Documents)
        {
            roots.Add(Copy(document.RootNode, copied));
        }

        return roots;
    }

    private static DefinitionNode Copy(YamlNode node, Dictionary<YamlNode, DefinitionNode> copied)
    {
        if (copied.TryGetValue(node, out var copy))
        {
            return copy;
        }

        switch (node)
        {
            case YamlScalarNode scalar:
                copy = new DefinitionScalar(scalar.Start, scalar.Value, scalar.Style);
                break;
            case YamlSequenceNode sequence:
                var items = new DefinitionNode[sequence.Children.Count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = Copy(sequence.Children[i], copied);
                }

                copy = new DefinitionList(sequence.Start, items);
                break;
            case YamlMappingNode mapping:
                var pairs = new KeyValuePair<DefinitionNode, DefinitionNode>[mapping.Children.Count];
                var at = 0;
                foreach (var (key, value) in mapping.Children)
                {
                    pairs[at++] = new KeyValuePair<DefinitionNode, DefinitionNode>(Copy(key, copied), Copy(value, copied));
                }

                copy = new DefinitionMapping(mapping.Start, pairs);
                break;
            default:
                copy = new DefinitionUnsupported(node.Start);
                break;
        }

        copied[node] = copy;
        return copy;
    }

    /// <summary>The one pass over a plain stream. Each method mirrors its YamlDotNet counterpart's calls on the parser
    /// (look at the current event, asking for one when there is none; move on after consuming it) and returns null
    /// where the stream stops being plain.</summary>
    private sealed class Builder(IParser parser)
    {
        // Children gathered per depth and reused: each node keeps an array of exactly its children.
        private readonly List<List<KeyValuePair<DefinitionNode, DefinitionNode>>> _pairs = [];
        private readonly List<List<DefinitionNode>> _items = [];
        private readonly List<HashSet<string>> _keys = [];
        private int _depth;

        /// <summary>The documents' roots (<see cref="YamlStream.Load(IParser)"/>, <c>YamlDocument</c>).</summary>
        public List<DefinitionNode>? Stream()
        {
            if (Current() is not StreamStart)
            {
                return null;
            }

            parser.MoveNext();
            var roots = new List<DefinitionNode>(1);
            while (true)
            {
                switch (Current())
                {
                    case StreamEnd:
                        parser.MoveNext();
                        return roots;
                    case DocumentStart:
                        parser.MoveNext();
                        break;
                    default:
                        return null;
                }

                var root = Node();
                if (root is null || Current() is not DocumentEnd)
                {
                    return null;
                }

                parser.MoveNext();
                roots.Add(root);
            }
        }

        /// <summary>The current event, asking the parser for the first; null at the end.</summary>
        private ParsingEvent? Current() => parser.Current ?? (parser.MoveNext() ? parser.Current : null);

        private DefinitionNode? Node()
        {
            switch (Current())
            {
                case Scalar { Anchor.IsEmpty: true } scalar:
                    parser.MoveNext();
                    return new DefinitionScalar(scalar.Start, scalar.Value, scalar.Style);
                case SequenceStart { Anchor.IsEmpty: true } start:
                    parser.MoveNext();
                    return List(start.Start);
                case MappingStart { Anchor.IsEmpty: true } start:
                    parser.MoveNext();
                    return Mapping(start.Start);
                default:
                    return null;
            }
        }

        private DefinitionList? List(Mark start)
        {
            var items = Scratch(_items, _depth++);
            while (Current() is not SequenceEnd)
            {
                if (Node() is not { } item)
                {
                    return null;
                }

                items.Add(item);
            }

            parser.MoveNext();
            _depth--;
            return new DefinitionList(start, [.. items]);
        }

        private DefinitionMapping? Mapping(Mark start)
        {
            var depth = _depth++;
            var pairs = Scratch(_pairs, depth);
            HashSet<string>? keys = null;
            while (Current() is not MappingEnd)
            {
                if (Current() is not Scalar { Tag.IsEmpty: true } keyEvent || Node() is not { } key || Node() is not { } value)
                {
                    return null;
                }

                // YamlMappingNode adds the pair once its value is read, and refuses a key equal to an earlier one.
                var text = keyEvent.Value;
                if (pairs.Count < LinearKeys ? HasKey(pairs, text) : !(keys ??= KeySet(pairs, depth)).Add(text))
                {
                    throw new YamlException(keyEvent.Start, keyEvent.End, $"Duplicate key {text}");
                }

                pairs.Add(new KeyValuePair<DefinitionNode, DefinitionNode>(key, value));
            }

            parser.MoveNext();
            _depth--;
            return new DefinitionMapping(start, [.. pairs]);
        }

        private static bool HasKey(List<KeyValuePair<DefinitionNode, DefinitionNode>> pairs, string key)
        {
            foreach (var pair in pairs)
            {
                if (string.Equals(((DefinitionScalar)pair.Key).Value, key, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The keys of <paramref name="pairs"/> (all different), as a set to check the next ones against.</summary>
        private HashSet<string> KeySet(List<KeyValuePair<DefinitionNode, DefinitionNode>> pairs, int depth)
        {
            while (_keys.Count <= depth)
            {
                _keys.Add(new HashSet<string>(StringComparer.Ordinal));
            }

            var keys = _keys[depth];
            keys.Clear();
            foreach (var pair in pairs)
            {
                keys.Add(((DefinitionScalar)pair.Key).Value!);
            }

            return keys;
        }

        /// <summary>The emptied list of <paramref name="depth"/>.</summary>
        private static List<T> Scratch<T>(List<List<T>> perDepth, int depth)
        {
            while (perDepth.Count <= depth)
            {
                perDepth.Add([]);
            }

            var list = perDepth[depth];
            list.Clear();
            return list;
        }
    }
}
