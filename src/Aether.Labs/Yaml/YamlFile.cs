using Aether.Topology;
using YamlDotNet.Core.Events;
using YamlDotNet.Core;

namespace Aether.Labs.Yaml;

/// <summary>
/// Reads the one YAML document of a file into <see cref="DefinitionNode"/>s (every node keeps its line and column). A key given twice in a mapping is reported at the second and that pair is dropped, so that the rest of
/// the file is still read and checked; YamlDotNet alone stops at the first duplicate.
/// </summary>
internal static class YamlFile
{
    /// <summary>The root node of <paramref name="text"/>, or null after reporting why there is none (not YAML, empty,
    /// not a mapping). <paramref name="what"/> describes the expected top level (<c>a lab is a mapping with keys
    /// ...</c>).</summary>
    public static DefinitionMapping? Load(string text, YamlProblems problems, string what)
    {
        if (PlainYaml.Read(text) is { } plain)
        {
            return plain; // one document, a mapping, no key twice: what the events below would give
        }

        List<ParsingEvent> events;
        try
        {
            events = DuplicateKeyFilter.Read(DefinitionFile.Guard(new Parser(new StringReader(text))), problems);
        }
        catch (DefinitionLimitException e)
        {
            problems.Add(e.Start, e.Limit);
            return null;
        }
        catch (YamlException e)
        {
            problems.Add(e.Start, $"not valid YAML: {Message(e)}");
            return null;
        }

        IReadOnlyList<DefinitionNode> documents;
        try
        {
            documents = DefinitionTree.Load(() => new EventReplay(events));
        }
        catch (YamlException e)
        {
            problems.Add(e.Start, $"not valid YAML: {Message(e)}");
            return null;
        }
        catch (ArgumentException e)
        {
            // YamlDotNet's model refuses some event sequences with this ("the current event is of an unsupported
            // type"; seen once by the HTTP fuzzer on a lab body): the file's fault, without a position.
            problems.Add(Mark.Empty, $"not valid YAML: {e.Message}");
            return null;
        }

        if (documents.Count == 0 || YamlProblems.IsNull(documents[0]))
        {
            problems.Add(Mark.Empty, $"the file is empty; {what}");
            return null;
        }

        for (var i = 1; i < documents.Count; i++)
        {
            problems.Add(documents[i].Start, "only one YAML document is allowed per file (remove the extra '---')");
        }

        var root = documents[0];
        if (root is not DefinitionMapping mapping)
        {
            problems.Add(root.Start, $"the top level must be a mapping: {what}; got {YamlProblems.Describe(root)}");
            return null;
        }

        return mapping;
    }

    /// <summary>YamlDotNet's message without its own position prefix (the error carries the position).</summary>
    private static string Message(YamlException e)
    {
        var message = e.Message;
        var at = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && at >= 0 ? message[(at + 3)..] : message;
    }

    /// <summary>Hands recorded events to <see cref="DefinitionTree.Load(Func{IParser})"/>.</summary>
    private sealed class EventReplay(List<ParsingEvent> events) : IParser
    {
        private int _next;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= events.Count)
            {
                Current = null;
                return false;
            }

            Current = events[_next++];
            return true;
        }
    }
}
