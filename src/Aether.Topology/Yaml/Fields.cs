using System.Globalization;
using System.Runtime.InteropServices;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>The known keys of one mapping, with typed readers that report what is wrong with a value.</summary>
/// <remarks>The keys given are looked up one by one (a mapping holds a few): no dictionary per mapping.</remarks>
internal sealed class Fields(YamlProblems problems, DefinitionMapping node, string path, Fields.Entry[] values, int count)
{
    /// <summary>The mapping.</summary>
    public DefinitionMapping Node => node;

    /// <summary>Its path (<c>links[2]</c>).</summary>
    public string Path => path;

    /// <summary>The path of one of its keys (<c>links[2].mtu</c>).</summary>
    public string PathOf(string key) => YamlProblems.Join(path, key);

    /// <summary>The path of an item of one of its lists (<c>links[2].addresses[0]</c>), made at once.</summary>
    public string PathOf(string key, int index) => path.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{key}[{index}]")
        : string.Create(CultureInfo.InvariantCulture, $"{path}.{key}[{index}]");

    /// <summary>Whether <paramref name="key"/> is given a value (YAML null counts as absent).</summary>
    public bool Has(string key) => Value(key) is not null;

    /// <summary>The node of <paramref name="key"/>'s name, when present.</summary>
    public DefinitionScalar? KeyNode(string key) => TryGet(key, out var entry) ? entry.Key : null;

    /// <summary>The value of <paramref name="key"/>; null when absent or YAML null. Its position is remembered.</summary>
    public DefinitionNode? Value(string key)
    {
        if (!TryGet(key, out var entry) || YamlProblems.IsNull(entry.Value))
        {
            return null;
        }

        problems.Remember(path, key, entry.Value);
        return entry.Value;
    }

    /// <summary>Reports <c>PATH.KEY: required...</c> at the mapping (or at the key given no value) when
    /// <paramref name="key"/> is missing; true when present.</summary>
    public bool Require(string key, string? what = null)
    {
        if (Has(key))
        {
            return true;
        }

        problems.Add(TryGet(key, out var entry) ? entry.Value.Start : node.Start, $"{PathOf(key)}: required{(what is null ? "" : $" ({what})")}");
        return false;
    }

    /// <summary>A scalar's text; null when absent, or (reported) when the value is a list or mapping.</summary>
    public string? String(string key)
    {
        switch (Value(key))
        {
            case null:
                return null;
            case DefinitionScalar scalar:
                return scalar.Value ?? "";
            case var other:
                problems.Add(other, PathOf(key), $"expected a single value; got {YamlProblems.Describe(other)}");
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

        if (value is DefinitionScalar { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text })
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

        problems.Add(value, PathOf(key), $"expected true or false; got {YamlProblems.Describe(value)}");
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

        if (value is not DefinitionScalar { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
            || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            problems.Add(value, PathOf(key), string.Create(CultureInfo.InvariantCulture, $"expected an integer in {min}..{max}; got {YamlProblems.Describe(value)}"));
            return null;
        }

        if (number < min || number > max)
        {
            problems.Add(value, PathOf(key), string.Create(CultureInfo.InvariantCulture, $"{number} is outside {min}..{max}"));
            return null;
        }

        return number;
    }

    /// <summary>One of <paramref name="allowed"/> (exactly); null when absent or (reported, with the nearest allowed
    /// value when one is close) anything else.</summary>
    public string? OneOf(string key, IReadOnlyList<string> allowed)
    {
        var text = String(key);
        if (text is null || YamlProblems.IndexOf(allowed, text) >= 0)
        {
            return text;
        }

        var near = Spelling.Nearest(text, allowed);
        problems.Add(PathOf(key), $"'{text}' is not one of {string.Join(", ", allowed)}{(near is null ? "" : $"; did you mean '{near}'?")}");
        return null;
    }

    /// <summary>The items of a list; null when absent or (reported) not a list.</summary>
    public DefinitionList? List(string key, string expected)
    {
        switch (Value(key))
        {
            case null:
                return null;
            case DefinitionList sequence:
                return sequence;
            case var other:
                problems.Add(other, PathOf(key), $"expected {expected}; got {YamlProblems.Describe(other)}");
                return null;
        }
    }

    /// <summary>The items of a list; empty when absent or (reported) not a list.</summary>
    public IReadOnlyList<DefinitionNode> List(string key)
    {
        switch (Value(key))
        {
            case null:
                return [];
            case DefinitionList sequence:
                return sequence.Children;
            case var other:
                problems.Add(other, PathOf(key), $"expected a list; got {YamlProblems.Describe(other)}");
                return [];
        }
    }

    /// <summary>The entry of <paramref name="key"/>, when the mapping gives it.</summary>
    private bool TryGet(string key, out Entry entry)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(values[i].Name, key, StringComparison.Ordinal))
            {
                entry = values[i];
                return true;
            }
        }

        entry = default;
        return false;
    }

    /// <summary>An allowed key given in the mapping, its node and its value.</summary>
    [StructLayout(LayoutKind.Auto)]
    internal readonly record struct Entry(string Name, DefinitionScalar Key, DefinitionNode Value);
}
