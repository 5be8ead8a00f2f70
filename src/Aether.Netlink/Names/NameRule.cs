using System.Buffers;
using System.Globalization;
using System.Text;

namespace Aether.Netlink.Names;

/// <summary>
/// What interface and namespace names share: ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>, starting with a
/// letter or digit, and for every other character the reason it is refused, so that a message says what the
/// character would do rather than only that it is wrong.
/// </summary>
internal static class NameRule
{
    /// <summary>The characters both kinds allow, in words.</summary>
    public const string Characters = "ASCII letters, digits, '-', '_' and '.', starting with a letter or digit";

    /// <summary>Why <paramref name="name"/> is refused as a <paramref name="kind"/> name of at most
    /// <paramref name="maxBytes"/> UTF-8 bytes, or null; <paramref name="special"/> gives a kind's own reason for a
    /// character before the shared ones.</summary>
    public static string? Problem(string? name, string kind, int maxBytes, Func<Rune, string?> special)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "empty";
        }

        if (name is "." or "..")
        {
            return $"'{name}' is refused (it names a directory itself or its parent)";
        }

        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > maxBytes)
        {
            return bytes == name.Length
                ? string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes; the limit is {maxBytes}")
                : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes in UTF-8 ({name.Length} UTF-16 characters); the limit is {maxBytes} bytes");
        }

        for (var i = 0; i < name.Length;)
        {
            if (Rune.DecodeFromUtf16(name.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
            {
                return string.Create(CultureInfo.InvariantCulture, $"a lone UTF-16 surrogate (U+{(int)name[i]:X4}) is no character and is not allowed in {kind}");
            }

            i += used;
            if (IsAllowed(rune))
            {
                continue;
            }

            var shown = NameText.IsPrintable(rune) ? $"'{rune}' ({NameText.CodePoint(rune)})" : NameText.CodePoint(rune);
            var why = special(rune) ?? Shared(rune);
            return $"{shown} is not allowed in {kind}{(why is null ? "" : $" ({why})")}";
        }

        if (!char.IsAsciiLetterOrDigit(name[0]))
        {
            return $"'{name[0]}' at the start is not allowed in {kind} (a leading '{name[0]}' is read as an option or hidden by ip and other tools; start with a letter or digit)";
        }

        return null;
    }

    /// <summary>Whether <paramref name="rune"/> is in the allowed set.</summary>
    public static bool IsAllowed(Rune rune) => rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '_' or '.');

    private static string? Shared(Rune rune) => rune.Value switch
    {
        0 => "NUL ends a name in the kernel; the rest would be lost",
        '\u001b' => "ESC starts a terminal escape sequence when the name is printed",
        '\n' or '\r' => "a line break would split the name across lines when printed",
        < 0x20 or 0x7f or (>= 0x80 and < 0xa0) => "a control character acts on a terminal when printed",
        ' ' or '\t' => "whitespace splits a name into two words for ip, nft and shells",
        '*' => "nftables reads a trailing '*' as a wildcard matching every name with that prefix",
        '"' or '\'' or '`' => "a quote ends a quoted string in nftables and shells",
        '{' or '}' or ',' => "nftables reads braces and commas as a set of names",
        '$' => "nftables and shells read '$' as a variable",
        '@' => "nftables reads '@' as a named set, and ip prints a link's peer after '@' (veth0@if5)",
        '\\' => "a backslash starts an escape in nftables, YAML and shells",
        < 0x80 => "nftables and shells read it as syntax",
        _ when Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format =>
            "an invisible formatting character (bidi override, zero-width) makes a name print unlike what it is, so two names could look the same",
        _ when !NameText.IsPrintable(rune) => "it does not print as itself",
        _ => "only ASCII: letters that look alike in other scripts would name different objects, and tools count such names in bytes",
    };
}
