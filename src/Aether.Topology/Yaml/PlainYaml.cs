using System.Buffers;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>
/// Reads, without YamlDotNet, the plain shape most definition files are written in, into the nodes YamlDotNet's model
/// would give (the same values, styles and start marks), or says it cannot: the caller then reads the text through
/// YamlDotNet (<see cref="DefinitionTree"/>), so that every other file, and every file YAML refuses, is read and
/// refused exactly as before. The shape: printable ASCII lines (no tab, no carriage return); comments; a mapping at
/// the top; block mappings of <c>key: value</c> and block lists of <c>- item</c> nested by indentation; one-line flow
/// lists and mappings (<c>[a, b]</c>, <c>{ k: v }</c>); keys and values plain words of letters, digits and
/// <c>_ . / - ~ +</c> (no quotes, spaces, colons, anchors, aliases or tags); no key twice in a mapping; within
/// <see cref="DefinitionFile"/>'s limits of depth, nodes and length.
/// Written by hand because no library reads YAML fast enough for a no-op apply: measured warm on a generated file of
/// 1000 namespaces, YamlDotNet's parser alone takes 9–14 ms to produce the events (SharpYaml 3.17's, 5–7 ms), while
/// this reader and the whole load after it take 7 ms. It reads only this narrow shape and hands everything else to
/// YamlDotNet, so YAML's rules stay the library's.
/// </summary>
internal sealed class PlainYaml
{
    /// <summary>The longest key (YamlDotNet refuses simple keys over 1024 characters).</summary>
    private const int MaxKeyLength = 1000;

    /// <summary>Mappings with more keys than this check a new key against a set.</summary>
    private const int LinearKeys = 16;

    /// <summary>The characters of a plain file: printable ASCII and line feeds.</summary>
    private static readonly SearchValues<char> Printable = SearchValues.Create(
        "\n !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private readonly string _text;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal); // each key's text made once
    private readonly List<List<KeyValuePair<DefinitionNode, DefinitionNode>>> _pairs = [];
    private readonly List<List<DefinitionNode>> _items = [];
    private int _pos;       // where reading is: on a content line, its first character that is not a space
    private int _line = 1;  // the line of _pos
    private int _lineStart; // where that line starts
    private int _indent;    // the indentation of that line; -1 at the end of the text
    private int _depth;
    private long _nodes;

    private PlainYaml(string text) => _text = text;

    /// <summary>The top mapping of <paramref name="text"/>, when the text has the plain shape; null when it has not.</summary>
    public static DefinitionMapping? Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAnyExcept(Printable) >= 0)
        {
            return null;
        }

        var reader = new PlainYaml(text);
        reader.ToContent(0);
        if (reader._indent < 0 || !IsWordStart(reader.At(reader._pos)))
        {
            return null;
        }

        var root = reader.BlockMapping(reader._indent, reader._pos);
        return reader._indent < 0 ? root : null; // anything after the top mapping is not the plain shape
    }

    private char At(int index) => index < _text.Length ? _text[index] : '\n';

    private Mark Here(int index) => new(index, _line, index - _lineStart + 1);

    /// <summary>Moves to the first content line (not blank, not only a comment) from the line starting at
    /// <paramref name="lineStart"/>, and sets its indentation; -1 at the end of the text.</summary>
    private void ToContent(int lineStart)
    {
        while (lineStart < _text.Length)
        {
            var first = lineStart;
            while (first < _text.Length && _text[first] == ' ')
            {
                first++;
            }

            if (first < _text.Length && _text[first] != '\n' && _text[first] != '#')
            {
                _lineStart = lineStart;
                _pos = first;
                _indent = first - lineStart;
                return;
            }

            var end = _text.IndexOf('\n', first);
            if (end < 0)
            {
                break;
            }

            lineStart = end + 1;
            _line++;
        }

        _pos = _text.Length;
        _indent = -1;
    }

    /// <summary>After a value at <paramref name="index"/>: spaces, then the end of the line or a comment after a
    /// space; then on to the next content line. False when something else follows.</summary>
    private bool EndLine(int index)
    {
        var spaces = index;
        while (At(spaces) == ' ')
        {
            spaces++;
        }

        if (At(spaces) == '#' && spaces > index)
        {
            var end = _text.IndexOf('\n', spaces);
            spaces = end < 0 ? _text.Length : end;
        }

        if (At(spaces) != '\n')
        {
            return false;
        }

        _line++;
        ToContent(spaces + 1);
        return true;
    }

    /// <summary>A block mapping at <paramref name="indent"/>, its first key at <paramref name="start"/> on the
    /// current line; reading ends on the first content line indented less.</summary>
    private DefinitionMapping? BlockMapping(int indent, int start)
    {
        if (!Open())
        {
            return null;
        }

        var mark = Here(start);
        var pairs = Scratch(_pairs);
        HashSet<string>? keys = null;
        var at = start;
        while (true)
        {
            var end = WordEnd(at);
            if (!IsWordStart(At(at)) || end - at > MaxKeyLength || At(end) != ':')
            {
                return null;
            }

            var key = Scalar(at, end, isKey: true)!;
            DefinitionNode? value;
            var after = end + 1;
            while (At(after) == ' ')
            {
                after++;
            }

            if (At(after) == '\n' || (At(after) == '#' && after > end + 1))
            {
                // key: and the value on the lines below, indented more (or a list at the key's indentation)
                if (!EndLine(end + 1))
                {
                    return null;
                }

                value = _indent > indent ? BlockNode(_indent)
                    : _indent == indent && IsItem(_pos) ? BlockList(indent)
                    : null;
            }
            else
            {
                value = after > end + 1 ? InlineValue(after) : null;
            }

            if (value is null || !NewKey(pairs, ref keys, key.Value!))
            {
                return null;
            }

            pairs.Add(new KeyValuePair<DefinitionNode, DefinitionNode>(key, value));
            if (_indent < indent)
            {
                break;
            }

            if (_indent > indent)
            {
                return null;
            }

            at = _pos;
        }

        return Close(new DefinitionMapping(mark, [.. pairs]));
    }

    /// <summary>A block list at <paramref name="indent"/>, its first <c>-</c> at the current position.</summary>
    private DefinitionList? BlockList(int indent)
    {
        if (!Open())
        {
            return null;
        }

        var mark = Here(_pos);
        var items = Scratch(_items);
        while (true)
        {
            var at = _pos + 1;
            while (At(at) == ' ')
            {
                at++;
            }

            DefinitionNode? item;
            var end = WordEnd(at);
            if (IsWordStart(At(at)) && At(end) == ':' && (At(end + 1) is ' ' or '\n'))
            {
                item = BlockMapping(at - _lineStart, at); // - key: value, and the mapping's other keys below it
            }
            else
            {
                item = At(at) is '\n' or '#' ? null : InlineValue(at);
            }

            if (item is null)
            {
                return null;
            }

            items.Add(item);
            if (_indent < indent || (_indent == indent && !IsItem(_pos)))
            {
                break; // a list at its mapping's indentation ends at the mapping's next key
            }

            if (_indent > indent)
            {
                return null;
            }
        }

        return Close(new DefinitionList(mark, [.. items]));
    }

    /// <summary>The block node starting the current line: a list or a mapping.</summary>
    private DefinitionNode? BlockNode(int indent) =>
        IsItem(_pos) ? BlockList(indent) : IsWordStart(At(_pos)) ? BlockMapping(indent, _pos) : null;

    /// <summary>A value on the line after <c>key: </c> or <c>- </c>: a word or a flow collection, then the end of the
    /// line.</summary>
    private DefinitionNode? InlineValue(int at)
    {
        var end = at;
        var value = Flow(ref end);
        return value is not null && EndLine(end) ? value : null;
    }

    /// <summary>A word, a flow list or a flow mapping at <paramref name="at"/>, which ends after it.</summary>
    private DefinitionNode? Flow(ref int at)
    {
        switch (At(at))
        {
            case '[':
                return FlowList(ref at);
            case '{':
                return FlowMapping(ref at);
            default:
                var end = WordEnd(at);
                if (!IsWordStart(At(at)))
                {
                    return null;
                }

                var scalar = Scalar(at, end, isKey: false);
                at = end;
                return scalar;
        }
    }

    private DefinitionList? FlowList(ref int at)
    {
        if (!Open())
        {
            return null;
        }

        var mark = Here(at);
        var items = Scratch(_items);
        at = SkipSpaces(at + 1);
        if (At(at) != ']')
        {
            while (true)
            {
                if (Flow(ref at) is not { } item)
                {
                    return null;
                }

                items.Add(item);
                at = SkipSpaces(at);
                if (At(at) == ']')
                {
                    break;
                }

                if (At(at) != ',' || At(at = SkipSpaces(at + 1)) == ']')
                {
                    return null;
                }
            }
        }

        at++;
        return Close(new DefinitionList(mark, [.. items]));
    }

    private DefinitionMapping? FlowMapping(ref int at)
    {
        if (!Open())
        {
            return null;
        }

        var mark = Here(at);
        var pairs = Scratch(_pairs);
        HashSet<string>? keys = null;
        at = SkipSpaces(at + 1);
        if (At(at) != '}')
        {
            while (true)
            {
                var end = WordEnd(at);
                if (!IsWordStart(At(at)) || end - at > MaxKeyLength || At(end) != ':' || At(end + 1) != ' ')
                {
                    return null;
                }

                var key = Scalar(at, end, isKey: true)!;
                at = SkipSpaces(end + 1);
                if (Flow(ref at) is not { } value || !NewKey(pairs, ref keys, key.Value!))
                {
                    return null;
                }

                pairs.Add(new KeyValuePair<DefinitionNode, DefinitionNode>(key, value));
                at = SkipSpaces(at);
                if (At(at) == '}')
                {
                    break;
                }

                if (At(at) != ',' || At(at = SkipSpaces(at + 1)) == '}')
                {
                    return null;
                }
            }
        }

        at++;
        return Close(new DefinitionMapping(mark, [.. pairs]));
    }

    private int SkipSpaces(int at)
    {
        while (At(at) == ' ')
        {
            at++;
        }

        return at;
    }

    /// <summary>Where the word at <paramref name="at"/> ends (at itself when there is none).</summary>
    private int WordEnd(int at)
    {
        while (at < _text.Length && IsWordPart(_text[at]))
        {
            at++;
        }

        return at;
    }

    private static bool IsWordStart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '/' or '~';

    private static bool IsWordPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '/' or '~' or '.' or '-' or '+';

    /// <summary>Whether a list item (<c>- </c>) starts at <paramref name="at"/>.</summary>
    private bool IsItem(int at) => At(at) == '-' && At(at + 1) == ' ';

    /// <summary>The word from <paramref name="start"/> to <paramref name="end"/>; null when longer than
    /// <see cref="DefinitionFile.MaxScalarLength"/>. A key's text is made once per file.</summary>
    private DefinitionScalar? Scalar(int start, int end, bool isKey)
    {
        if (end - start > DefinitionFile.MaxScalarLength)
        {
            return null;
        }

        _nodes++;
        var span = _text.AsSpan(start, end - start);
        string value;
        if (isKey)
        {
            var lookup = _keys.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(span, out var known))
            {
                known = span.ToString();
                _keys.Add(known);
            }

            value = known;
        }
        else
        {
            value = span.ToString();
        }

        return new DefinitionScalar(Here(start), value, ScalarStyle.Plain);
    }

    /// <summary>A mapping or list opens: false beyond the limits (the guard then refuses the file through YamlDotNet).</summary>
    private bool Open()
    {
        _nodes++;
        return ++_depth <= DefinitionFile.MaxDepth;
    }

    private T? Close<T>(T node)
        where T : DefinitionNode
    {
        _depth--;
        return _nodes <= DefinitionFile.MaxNodes ? node : null;
    }

    /// <summary>Whether <paramref name="key"/> is not yet a key of <paramref name="pairs"/>.</summary>
    private static bool NewKey(List<KeyValuePair<DefinitionNode, DefinitionNode>> pairs, ref HashSet<string>? keys, string key)
    {
        if (keys is null && pairs.Count < LinearKeys)
        {
            foreach (var pair in pairs)
            {
                if (ReferenceEquals(((DefinitionScalar)pair.Key).Value, key))
                {
                    return false; // keys are made once per text: the same key is the same string
                }
            }

            return true;
        }

        if (keys is null)
        {
            keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pair in pairs)
            {
                keys.Add(((DefinitionScalar)pair.Key).Value!);
            }
        }

        return keys.Add(key);
    }

    /// <summary>The emptied list of the current depth (a collection reads its children into it, then keeps an array).</summary>
    private List<T> Scratch<T>(List<List<T>> perDepth)
    {
        while (perDepth.Count <= _depth)
        {
            perDepth.Add([]);
        }

        var list = perDepth[_depth];
        list.Clear();
        return list;
    }
}
