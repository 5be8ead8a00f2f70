using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Aether.Labs;

/// <summary>The names a lab file gives: the lab's and its nodes' (<c>[a-z0-9][a-z0-9_-]*</c>).</summary>
public static class LabNames
{
    /// <summary>The longest lab name: it begins the name of each of the lab's namespaces (<c>LAB-NODE</c>) and of
    /// what the fabrics make for it, and is the owner of the lab's objects in the topology engine.</summary>
    public const int MaxLabNameLength = 32;

    /// <summary>The longest node name.</summary>
    public const int MaxNodeNameLength = 64;

    /// <summary>Whether <paramref name="name"/> is a valid lab name, and if not, why.</summary>
    public static bool IsLabName(string? name, [NotNullWhen(false)] out string? why) => IsName(name, MaxLabNameLength, out why);

    /// <summary>Whether <paramref name="name"/> is a valid node name, and if not, why.</summary>
    public static bool IsNodeName(string? name, [NotNullWhen(false)] out string? why) => IsName(name, MaxNodeNameLength, out why);

    /// <summary>The namespace of node <paramref name="node"/> of lab <paramref name="lab"/> when the file names none:
    /// <c>LAB-NODE</c>.</summary>
    public static string DefaultNamespace(string lab, string node)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(node);
        return lab + "-" + node;
    }

    /// <summary>Whether <paramref name="c"/> may start a name: a lowercase ASCII letter or a digit.</summary>
    internal static bool IsNameStart(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    /// <summary>Whether <paramref name="c"/> may be in a name: a lowercase ASCII letter, a digit, <c>_</c> or <c>-</c>.</summary>
    internal static bool IsNameChar(char c) => IsNameStart(c) || c is '_' or '-';

    private static bool IsName(string? name, int max, [NotNullWhen(false)] out string? why)
    {
        why = name switch
        {
            null or "" => "empty",
            _ when name.Length > max => string.Create(CultureInfo.InvariantCulture, $"{name.Length} characters, the limit is {max}"),
            _ when !IsNameStart(name[0]) => "must start with a lowercase letter or digit",
            _ when !name.All(IsNameChar) => "may hold only lowercase letters, digits, '_' and '-'",
            _ => null,
        };
        return why is null;
    }
}
