using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Aether.Netlink.Names;

/// <summary>
/// The namespace names Aether accepts where a name enters (topology and lab files, the daemon's API, the CLI): a
/// file name under <c>/run/netns</c> of 1 to 255 bytes (<c>NAME_MAX</c>) of ASCII letters, digits, <c>-</c>,
/// <c>_</c> and <c>.</c>, starting with a letter or digit. Stricter than <c>ip netns</c> (which takes any file
/// name) so that a name reads the same in ip, a shell and a terminal.
/// </summary>
public static class NamespaceNameRule
{
    /// <summary><c>NAME_MAX</c>: the longest file name in bytes.</summary>
    public const int MaxBytes = 255;

    /// <summary>What is allowed, in words, for messages.</summary>
    public const string Allowed = "1-255 bytes of " + NameRule.Characters;

    /// <summary>Whether <paramref name="name"/> is a namespace name Aether accepts; if not, <paramref name="why"/>
    /// says so with the name (quoted safely), the reason and what is allowed.</summary>
    public static bool IsValid(string? name, [NotNullWhen(false)] out string? why)
    {
        var problem = NameRule.Problem(name, "a namespace name", MaxBytes, Special);
        why = problem is null ? null : $"{NameText.Quote(name)}: {problem}; allowed: {Allowed}";
        return why is null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> with the message of <see cref="IsValid"/> when
    /// <paramref name="name"/> is refused.</summary>
    public static void Validate(string? name, string paramName)
    {
        if (!IsValid(name, out var why))
        {
            throw new ArgumentException($"{paramName} {why}", paramName);
        }
    }

    private static string? Special(Rune rune) => rune.Value switch
    {
        '/' => "a namespace is the file /run/netns/NAME, and '/' would make it a path",
        _ => null,
    };
}
