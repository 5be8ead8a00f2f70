using System.Buffers;
using System.Globalization;
using System.Text;

namespace Aether.Netlink.Names;

/// <summary>
/// Text from outside (names from a file, a request or the kernel) made safe to print on a terminal: every character
/// that could act on a terminal or mislead a reader (control characters such as ESC, newline, NUL and DEL; bidi
/// overrides such as U+202E; zero-width and other invisible characters; lone surrogates) is written as an escape.
/// </summary>
public static class NameText
{
    /// <summary><paramref name="text"/> between single quotes, with <c>'</c> and <c>\</c> escaped as well, for a
    /// message that names a value: <c>'eth\u001b[31m'</c>; null is <c>(none)</c>.</summary>
    public static string Quote(string? text) => text is null ? "(none)" : "'" + Escape(text, quote: true) + "'";

    /// <summary><paramref name="text"/> with every unsafe character (see the type) written as <c>\uXXXX</c>, the
    /// form JSON also reads, and everything else (line breaks, tabs, backslashes) left as it is. For whole lines of
    /// output that may carry names, JSON included.</summary>
    public static string Printable(string? text) => text is null ? "" : Escape(text, quote: false);

    /// <summary>Whether <paramref name="rune"/> prints as itself without acting on a terminal or hiding: not a
    /// control, format, separator (other than the space), surrogate, private-use or unassigned character.</summary>
    public static bool IsPrintable(Rune rune) =>
        rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => false,
            _ => true,
        };

    /// <summary><c>U+XXXX</c> for <paramref name="rune"/>.</summary>
    public static string CodePoint(Rune rune) => string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4}");

    private static string Escape(string text, bool quote)
    {
        if (IsSafe(text, quote))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
            {
                // A lone surrogate: no character at all, written as its code unit.
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)text[i]:X4}");
                i++;
                continue;
            }

            i += used;
            _ = (rune.Value, quote) switch
            {
                ('\\', true) => builder.Append(@"\\"),
                ('\'', true) => builder.Append(@"\'"),
                ('\n', true) => builder.Append(@"\n"),
                ('\n' or '\t', false) => builder.Append((char)rune.Value),
                ('\t', true) => builder.Append(@"\t"),
                _ when IsPrintable(rune) => builder.Append(text.AsSpan(i - used, used)), // as it is: no string per character
                _ => AppendUtf16Escape(builder, text.AsSpan(i - used, used)),
            };
        }

        return builder.ToString();
    }

    private static StringBuilder AppendUtf16Escape(StringBuilder builder, ReadOnlySpan<char> units)
    {
        foreach (var unit in units)
        {
            builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)unit:X4}");
        }

        return builder;
    }

    private static bool IsSafe(string text, bool quote)
    {
        foreach (var c in text)
        {
            if (c is (< ' ' and not '\n' and not '\t') or > '~' || (quote && c is '\\' or '\'' or '\n' or '\t'))
            {
                return false;
            }
        }

        return true;
    }
}
