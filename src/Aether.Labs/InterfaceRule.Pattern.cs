using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Aether.Netlink.Names;
using Aether.Netlink.Rtnl;

namespace Aether.Labs;

/// <summary>Reading the two patterns of a rule, and what makes a rule unusable.</summary>
public sealed partial class InterfaceRule
{
    /// <summary>Reads and checks a rule's patterns; on failure, also names the field the error is about:
    /// <c>vendor</c>, <c>linux</c>, <c>offset</c> or <c>first</c>.</summary>
    internal static bool TryParts(
        string vendor,
        string linux,
        int offset,
        int first,
        [NotNullWhen(true)] out (Segment[] Vendor, Segment[] Linux, int[] LinuxToVendor)? parts,
        [NotNullWhen(false)] out string? error,
        out string field)
    {
        ArgumentNullException.ThrowIfNull(vendor);
        ArgumentNullException.ThrowIfNull(linux);
        parts = null;
        field = "vendor";
        if (!TryParse(vendor, out var vendorSegments, out error))
        {
            error = $"vendor pattern '{vendor}': {error}";
            return false;
        }

        field = "linux";
        if (!TryParse(linux, out var linuxSegments, out error))
        {
            error = $"Linux form '{linux}': {error}";
            return false;
        }

        (error, field) = Check(vendor, linux, vendorSegments, linuxSegments, offset, first);
        if (error is not null)
        {
            return false;
        }

        var vendorNames = vendorSegments.Where(s => s.Placeholder is not null).Select(s => s.Placeholder!).ToList();
        var map = linuxSegments.Where(s => s.Placeholder is not null).Select(s => vendorNames.IndexOf(s.Placeholder!)).ToArray();
        parts = (vendorSegments, linuxSegments, map);

        // The first Linux name must be one the kernel takes: longer ones only grow.
        field = "linux";
        var rule = new InterfaceRule(vendor, linux, offset, first, parts.Value);
        var (_, firstLinux) = rule.FirstNames();
        if (!InterfaceNameRule.IsValid(firstLinux, out var why))
        {
            error = $"Linux form {NameText.Quote(linux)}: its first name {why}";
            parts = null;
            return false;
        }

        if (string.Equals(firstLinux, "lo", StringComparison.Ordinal))
        {
            error = $"Linux form '{linux}': 'lo' is every namespace's loopback";
            parts = null;
            return false;
        }

        return true;
    }

    private static (string? Error, string Field) Check(string vendor, string linux, Segment[] vendorSegments, Segment[] linuxSegments, int offset, int first)
    {
        var vendorLiterals = string.Concat(vendorSegments.Select(s => s.Literal));
        if (vendorLiterals.Contains(':', StringComparison.Ordinal) || HasWhiteSpaceOrNul(vendorLiterals))
        {
            return ($"vendor pattern '{vendor}': ':' and whitespace cannot be written in an endpoint (node:name)", "vendor");
        }

        var linuxLiterals = string.Concat(linuxSegments.Select(s => s.Literal));
        foreach (var c in "/:")
        {
            if (linuxLiterals.Contains(c, StringComparison.Ordinal))
            {
                return ($"Linux form '{linux}': the kernel refuses '{c}' in interface names", "linux");
            }
        }

        if (HasWhiteSpaceOrNul(linuxLiterals))
        {
            return ($"Linux form '{linux}': the kernel refuses whitespace in interface names", "linux");
        }

        var vendorNames = vendorSegments.Where(s => s.Placeholder is not null).Select(s => s.Placeholder!).ToList();
        var linuxNames = linuxSegments.Where(s => s.Placeholder is not null).Select(s => s.Placeholder!).ToList();
        if (!vendorNames.Order(StringComparer.Ordinal).SequenceEqual(linuxNames.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            return ($"the vendor pattern has placeholders {Names(vendorNames)} and the Linux form {Names(linuxNames)}; both need the same", "linux");
        }

        if (vendorNames.Count == 0 && offset != 0)
        {
            return ("an offset needs a number to add it to; the patterns have no placeholder", "offset");
        }

        if (first < 0)
        {
            return (string.Create(CultureInfo.InvariantCulture, $"first is {first}; numbers start at 0 or more"), "first");
        }

        if (vendorNames.Count > 0 && first + offset < 0)
        {
            return (string.Create(CultureInfo.InvariantCulture, $"offset {offset} takes the first port, {first}, below 0 on the Linux side"), "offset");
        }

        return (null, "");

        static string Names(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names.Select(n => "{" + n + "}"));
    }

    /// <summary>Splits a pattern into literals and placeholders.</summary>
    private static bool TryParse(string pattern, [NotNullWhen(true)] out Segment[]? segments, [NotNullWhen(false)] out string? error)
    {
        segments = null;
        if (pattern.Length == 0)
        {
            error = "empty";
            return false;
        }

        var list = new List<Segment>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var at = 0;
        while (at < pattern.Length)
        {
            var open = pattern.IndexOfAny(['{', '}'], at);
            var literalEnd = open < 0 ? pattern.Length : open;
            if (literalEnd > at)
            {
                var literal = pattern[at..literalEnd];
                if (list.Count > 0 && list[^1].Placeholder is not null && char.IsAsciiDigit(literal[0]))
                {
                    error = $"the digit after {{{list[^1].Placeholder}}} would be read as part of its number";
                    return false;
                }

                list.Add(new Segment(literal, null, -1));
            }

            if (open < 0)
            {
                break;
            }

            if (pattern[open] == '}')
            {
                error = string.Create(CultureInfo.InvariantCulture, $"'}}' at character {open + 1} closes nothing");
                return false;
            }

            var close = pattern.IndexOf('}', open + 1);
            if (close < 0)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"'{{' at character {open + 1} is not closed");
                return false;
            }

            var name = pattern[(open + 1)..close];
            if (!IsPlaceholderName(name))
            {
                error = $"'{{{name}}}' is not a placeholder: write a lowercase name, {{n}}";
                return false;
            }

            if (!names.Add(name))
            {
                error = $"{{{name}}} appears twice";
                return false;
            }

            if (list.Count > 0 && list[^1].Placeholder is not null)
            {
                error = $"{{{list[^1].Placeholder}}}{{{name}}}: two numbers side by side could not be told apart";
                return false;
            }

            list.Add(new Segment("", name, names.Count - 1));
            at = close + 1;
        }

        segments = [.. list];
        error = null;
        return true;
    }

    private static bool HasWhiteSpaceOrNul(string text) => text.Any(c => char.IsWhiteSpace(c) || c == '\0');

    private static bool IsPlaceholderName(string name) =>
        name.Length > 0 && char.IsAsciiLetterLower(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));

    /// <summary>A literal, or a placeholder with its position among the pattern's placeholders.</summary>
    internal readonly record struct Segment(string Literal, string? Placeholder, int Index);
}
