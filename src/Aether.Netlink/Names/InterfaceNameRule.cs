using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Aether.Netlink.Names;

/// <summary>
/// The interface names Aether accepts where a name enters (topology and lab files, interface profiles, the NAT
/// output interface, the daemon's API): 1 to 15 bytes of ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>,
/// starting with a letter or digit. Stricter than the kernel (<c>dev_valid_name</c> refuses only <c>/</c>,
/// <c>:</c>, whitespace, <c>.</c> and <c>..</c>) so that a name means exactly one interface (no <c>%</c>, which the
/// kernel expands as a template; no <c>*</c>, which nftables reads as a wildcard), reads the same in ip, nft and a
/// shell, and is safe to print.
/// </summary>
public static class InterfaceNameRule
{
    /// <summary><c>IFNAMSIZ - 1</c>: the longest name in bytes (the kernel keeps 16 with the NUL).</summary>
    public const int MaxBytes = 15;

    /// <summary>What is allowed, in words, for messages.</summary>
    public const string Allowed = "1-15 bytes of " + NameRule.Characters;

    /// <summary>Whether <paramref name="name"/> is an interface name Aether accepts; if not, <paramref name="why"/>
    /// says so with the name (quoted safely), the reason and what is allowed:
    /// <c>'eth%d': '%' (U+0025) is not allowed in an interface name (...); allowed: 1-15 bytes of ...</c>.</summary>
    public static bool IsValid(string? name, [NotNullWhen(false)] out string? why)
    {
        var problem = NameRule.Problem(name, "an interface name", MaxBytes, Special);
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
        '%' => "the kernel reads it as a template: eth%d becomes eth0, eth1, ..., so the name would not mean one interface",
        '/' => "the kernel refuses it: each name is a directory under /sys/class/net",
        ':' => "the kernel refuses it: ':' marks an IPv4 address label such as eth0:1",
        _ => null,
    };
}
