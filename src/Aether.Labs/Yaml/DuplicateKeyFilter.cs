using Aether.Topology;
using YamlDotNet.Core.Events;
using YamlDotNet.Core;

namespace Aether.Labs.Yaml;

/// <summary>
/// Reads a parser's events, dropping every mapping pair whose key was already given in the same mapping (reported at
/// the second key with the path and the line of the first), so that the nodes (<see cref="DefinitionTree"/>) can be
/// built from the rest and every other problem still found.
/// </summary>
internal static class DuplicateKeyFilter
{
    /// <summary>The events of <paramref name="parser"/> without duplicated pairs; throws <see cref="YamlException"/>
    /// where the text is not YAML.</summary>
    public static List<ParsingEvent> Read(IParser parser, YamlProblems problems)
    {
        var events = new List<ParsingEvent>();
        var frames = new Stack<Frame>();
        var skipDepth = 0;
        var skipValue = false;
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            if (skipDepth > 0)
            {
                skipDepth += current switch
                {
                    MappingStart or SequenceStart => 1,
                    MappingEnd or SequenceEnd => -1,
                    _ => 0,
                };
                continue;
            }

            if (skipValue)
            {
                skipValue = false;
                skipDepth = current is MappingStart or SequenceStart ? 1 : 0;
                continue;
            }

            if (frames.TryPeek(out var top) && top.IsMapping && top.ExpectKey && current is Scalar key)
            {
                if (top.Keys.TryGetValue(key.Value, out var first))
                {
                    problems.Add(key.Start, $"{YamlProblems.Join(top.Path, key.Value)}: duplicate key; the first is at line {first.Line} (this one is ignored)");
                    skipValue = true;
                    continue;
                }

                top.Keys[key.Value] = key.Start;
            }

            events.Add(current);
            switch (current)
            {
                case MappingStart:
                    frames.Push(new Frame(ChildPath(frames), isMapping: true));
                    break;
                case SequenceStart:
                    frames.Push(new Frame(ChildPath(frames), isMapping: false));
                    break;
                case MappingEnd or SequenceEnd:
                    frames.Pop();
                    NodeDone(frames, null);
                    break;
                case Scalar scalar:
                    NodeDone(frames, scalar.Value);
                    break;
                case AnchorAlias:
                    NodeDone(frames, null);
                    break;
            }
        }

        return events;
    }

    private static string ChildPath(Stack<Frame> frames)
    {
        if (!frames.TryPeek(out var top))
        {
            return "";
        }

        if (!top.IsMapping)
        {
            return YamlProblems.Index(top.Path, top.Index);
        }

        return top.ExpectKey ? top.Path : YamlProblems.Join(top.Path, top.Key ?? "?");
    }

    /// <summary>A node ended: in a mapping, a key is followed by its value and a value by the next key; in a list,
    /// the next item.</summary>
    private static void NodeDone(Stack<Frame> frames, string? scalar)
    {
        if (!frames.TryPeek(out var top))
        {
            return;
        }

        if (!top.IsMapping)
        {
            top.Index++;
        }
        else if (top.ExpectKey)
        {
            top.Key = scalar;
            top.ExpectKey = false;
        }
        else
        {
            top.ExpectKey = true;
        }
    }

    private sealed class Frame(string path, bool isMapping)
    {
        public string Path { get; } = path;

        public bool IsMapping { get; } = isMapping;

        public bool ExpectKey { get; set; } = true;

        public string? Key { get; set; }

        public int Index { get; set; }

        public Dictionary<string, Mark> Keys { get; } = new(StringComparer.Ordinal);
    }
}
