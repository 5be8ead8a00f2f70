using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Aether.Labs;

/// <summary>
/// One row of an interface naming profile: a vendor name pattern and the Linux form it maps to, both ways.
/// Placeholders in braces capture decimal numbers (<c>ge-0/0/{n}</c>); the Linux form uses the same placeholders
/// (<c>eth{n}</c>); <see cref="Offset"/> is added to the last number of the vendor pattern (the port) to give the
/// Linux one, so <c>ge-0/0/0</c> is <c>eth1</c> with offset 1. Numbers are written without leading zeros, so each
/// name has one spelling and the mapping round-trips.
/// </summary>
public sealed partial class InterfaceRule
{
    /// <summary>The most digits a placeholder captures.</summary>
    public const int MaxDigits = 6;

    /// <summary>The largest number a placeholder holds, on either side.</summary>
    public const int MaxNumber = 999_999;

    private readonly Segment[] _vendor;
    private readonly Segment[] _linux;

    /// <summary>For each placeholder of the Linux form (in its order), its index among the vendor pattern's.</summary>
    private readonly int[] _linuxToVendor;

    /// <summary>Makes a rule; throws <see cref="ArgumentException"/> saying what is wrong with it (see
    /// <see cref="TryCreate(string, string, int, int, out InterfaceRule?, out string?)"/>).</summary>
    /// <param name="vendor">The vendor pattern (<c>Ethernet{n}</c>).</param>
    /// <param name="linux">The Linux form (<c>eth{n}</c>).</param>
    /// <param name="offset">Added to the vendor pattern's last number to give the Linux one.</param>
    /// <param name="first">The smallest number each vendor placeholder takes (<c>Ethernet1</c> is the first Arista
    /// port: 1).</param>
    public InterfaceRule(string vendor, string linux, int offset = 0, int first = 0)
    {
        if (!TryParts(vendor, linux, offset, first, out var parts, out var error, out _))
        {
            throw new ArgumentException(error, nameof(vendor));
        }

        (Vendor, Linux, Offset, First) = (vendor, linux, offset, first);
        (_vendor, _linux, _linuxToVendor) = parts.Value;
    }

    private InterfaceRule(string vendor, string linux, int offset, int first, (Segment[], Segment[], int[]) parts)
    {
        (Vendor, Linux, Offset, First) = (vendor, linux, offset, first);
        (_vendor, _linux, _linuxToVendor) = parts;
    }

    /// <summary>The vendor pattern (<c>ge-0/0/{n}</c>).</summary>
    public string Vendor { get; }

    /// <summary>The Linux form (<c>eth{n}</c>).</summary>
    public string Linux { get; }

    /// <summary>Added to the vendor pattern's last number (the port) to give the Linux one.</summary>
    public int Offset { get; }

    /// <summary>The smallest number each vendor placeholder takes.</summary>
    public int First { get; }

    /// <summary>The placeholders' names, in the vendor pattern's order.</summary>
    public IReadOnlyList<string> Placeholders => [.. _vendor.Where(s => s.Placeholder is not null).Select(s => s.Placeholder!)];

    /// <summary>
    /// Makes a rule, or says what is wrong with it: braces that do not pair, a placeholder name that is not
    /// <c>[a-z][a-z0-9]*</c> or appears twice, two placeholders side by side or one followed by a digit (the numbers
    /// could not be told apart), placeholders that differ between the two forms, a Linux form holding what the kernel
    /// refuses in a name (<c>/</c>, <c>:</c>, whitespace) or whose first name is over 15 bytes, a vendor pattern with
    /// <c>:</c> or whitespace (endpoints are <c>node:name</c>), an offset on a pattern without numbers, a negative
    /// first number, or first numbers that the offset takes below zero.
    /// </summary>
    public static bool TryCreate(string vendor, string linux, int offset, int first, [NotNullWhen(true)] out InterfaceRule? rule, [NotNullWhen(false)] out string? error) =>
        TryCreate(vendor, linux, offset, first, out rule, out error, out _);

    /// <summary>As <see cref="TryCreate(string, string, int, int, out InterfaceRule?, out string?)"/>, also naming the
    /// field an error is about (<c>vendor</c>, <c>linux</c>, <c>offset</c>, <c>first</c>).</summary>
    internal static bool TryCreate(string vendor, string linux, int offset, int first, [NotNullWhen(true)] out InterfaceRule? rule, [NotNullWhen(false)] out string? error, out string field)
    {
        if (TryParts(vendor, linux, offset, first, out var parts, out error, out field))
        {
            rule = new InterfaceRule(vendor, linux, offset, first, parts.Value);
            return true;
        }

        rule = null;
        return false;
    }

    /// <summary>The Linux name of the vendor name <paramref name="name"/>, when it matches the vendor pattern with
    /// numbers in range.</summary>
    public bool TryVendorToLinux(string name, [NotNullWhen(true)] out string? linux)
    {
        ArgumentNullException.ThrowIfNull(name);
        linux = null;
        var values = new int[_linuxToVendor.Length];
        if (!Match(_vendor, name, values, StringComparison.Ordinal) || !VendorInRange(values))
        {
            return false;
        }

        linux = RenderLinux(values);
        return true;
    }

    /// <summary>The vendor name of the Linux name <paramref name="linux"/>, when it matches the Linux form with
    /// numbers that map into range.</summary>
    public bool TryLinuxToVendor(string linux, [NotNullWhen(true)] out string? vendor)
    {
        ArgumentNullException.ThrowIfNull(linux);
        vendor = null;
        if (!TryLinuxValues(linux, StringComparison.Ordinal, out var values) || !VendorInRange(values))
        {
            return false;
        }

        vendor = Render(_vendor, values);
        return true;
    }

    /// <summary>The first names the rule maps, <c>ge-0/0/0 ↔ eth1</c>.</summary>
    public (string Vendor, string Linux) FirstNames()
    {
        var values = Enumerable.Repeat(First, _linuxToVendor.Length).ToArray();
        return (Render(_vendor, values), RenderLinux(values));
    }

    /// <summary><c>ge-0/0/{n} ↔ eth{n+1}, n ≥ 0</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Vendor).Append(" ↔ ");
        var last = _linuxToVendor.Length - 1;
        foreach (var segment in _linux)
        {
            if (segment.Placeholder is null)
            {
                text.Append(segment.Literal);
            }
            else if (Offset != 0 && segment.Index == last)
            {
                text.Append(CultureInfo.InvariantCulture, $"{{{segment.Placeholder}{(Offset > 0 ? "+" : "-")}{Math.Abs(Offset)}}}");
            }
            else
            {
                text.Append('{').Append(segment.Placeholder).Append('}');
            }
        }

        if (_linuxToVendor.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {string.Join(", ", Placeholders)} ≥ {First}");
        }

        return text.ToString();
    }

    /// <summary>The vendor name the way the rule spells it, when <paramref name="name"/> is one of its vendor names
    /// but for letter case (<c>ethernet1</c> for <c>Ethernet1</c>).</summary>
    internal string? VendorIgnoringCase(string name)
    {
        var values = new int[_linuxToVendor.Length];
        return Match(_vendor, name, values, StringComparison.OrdinalIgnoreCase) && VendorInRange(values) ? Render(_vendor, values) : null;
    }

    /// <summary>The Linux name the way the rule spells it, when <paramref name="name"/> is one of its Linux names but
    /// for letter case.</summary>
    internal string? LinuxIgnoringCase(string name) =>
        TryLinuxValues(name, StringComparison.OrdinalIgnoreCase, out var values) && VendorInRange(values) ? RenderLinux(values) : null;

    /// <summary>Whether <paramref name="name"/> has the shape of a vendor name or of a Linux name of this rule, with
    /// numbers out of range (<c>Ethernet0</c>, <c>eth0</c> when ports start at 1).</summary>
    internal bool OutOfRange(string name)
    {
        var values = new int[_linuxToVendor.Length];
        return (Match(_vendor, name, values, StringComparison.Ordinal) && !VendorInRange(values))
            || (TryLinuxValues(name, StringComparison.Ordinal, out values) && !VendorInRange(values));
    }

    /// <summary>The vendor pattern with every placeholder as <c>{}</c>: two patterns of the same shape read the same
    /// names.</summary>
    internal string VendorShape => Shape(_vendor);

    /// <summary>The Linux form's shape (see <see cref="VendorShape"/>).</summary>
    internal string LinuxShape => Shape(_linux);

    private static string Shape(Segment[] segments) => string.Concat(segments.Select(s => s.Placeholder is null ? s.Literal : "{}"));

    /// <summary>The vendor numbers (in vendor order) of a Linux name.</summary>
    private bool TryLinuxValues(string linux, StringComparison comparison, out int[] values)
    {
        var linuxValues = new int[_linuxToVendor.Length];
        values = new int[_linuxToVendor.Length];
        if (!Match(_linux, linux, linuxValues, comparison))
        {
            return false;
        }

        for (var i = 0; i < linuxValues.Length; i++)
        {
            values[_linuxToVendor[i]] = linuxValues[i];
        }

        if (values.Length > 0)
        {
            values[^1] -= Offset;
        }

        return true;
    }

    /// <summary>Whether every vendor number is in <see cref="First"/>..<see cref="MaxNumber"/> and the port's Linux
    /// number in 0..<see cref="MaxNumber"/>.</summary>
    private bool VendorInRange(int[] values) =>
        values.All(v => v >= First && v <= MaxNumber) && (values.Length == 0 || values[^1] + Offset is >= 0 and <= MaxNumber);

    private string RenderLinux(int[] vendorValues)
    {
        var values = (int[])vendorValues.Clone();
        if (values.Length > 0)
        {
            values[^1] += Offset;
        }

        var linuxValues = new int[values.Length];
        for (var i = 0; i < linuxValues.Length; i++)
        {
            linuxValues[i] = values[_linuxToVendor[i]];
        }

        return Render(_linux, linuxValues);
    }

    /// <summary>Writes <paramref name="segments"/> with the placeholders' numbers (by their position in
    /// <paramref name="segments"/>).</summary>
    private static string Render(Segment[] segments, int[] values)
    {
        var text = new StringBuilder();
        foreach (var segment in segments)
        {
            if (segment.Placeholder is null)
            {
                text.Append(segment.Literal);
            }
            else
            {
                text.Append(values[segment.Index].ToString(CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>Matches <paramref name="text"/> against <paramref name="segments"/>, filling the placeholders'
    /// numbers by their position in <paramref name="segments"/>. A placeholder is never followed by a digit, so
    /// reading digits greedily is exact.</summary>
    private static bool Match(Segment[] segments, string text, int[] values, StringComparison comparison)
    {
        var at = 0;
        foreach (var segment in segments)
        {
            if (segment.Placeholder is null)
            {
                if (!text.AsSpan(at).StartsWith(segment.Literal, comparison))
                {
                    return false;
                }

                at += segment.Literal.Length;
                continue;
            }

            var start = at;
            while (at < text.Length && char.IsAsciiDigit(text[at]))
            {
                at++;
            }

            var digits = at - start;
            if (digits == 0 || digits > MaxDigits || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            values[segment.Index] = int.Parse(text.AsSpan(start, digits), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return at == text.Length;
    }
}
