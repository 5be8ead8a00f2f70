using System.Diagnostics.CodeAnalysis;
using Aether.Netlink.Names;
using Aether.Netlink.Rtnl;

namespace Aether.Labs;

/// <summary>An interface name as a node of some kind knows it: the Linux name the kernel holds and the vendor name.</summary>
/// <param name="Linux">The Linux name (<c>eth1</c>).</param>
/// <param name="Vendor">The vendor name: as written when the name given was one (<c>Et1</c>), else the profile's
/// for the Linux name (<c>Ethernet1</c>), or the Linux name itself when the profile has none.</param>
/// <param name="WrittenAsVendor">Whether the name given was a vendor name.</param>
public readonly record struct InterfaceMatch(string Linux, string Vendor, bool WrittenAsVendor);

/// <summary>
/// How a device kind names its interfaces: rules tried in order (the first rule whose Linux form matches gives a
/// Linux name's vendor name, so later rules with the same Linux form are accepted aliases such as <c>Et1</c>), and
/// whether Linux names no rule maps are accepted too (the <c>linux</c> kind accepts any name the kernel does).
/// </summary>
public sealed class InterfaceProfile
{
    /// <summary>Makes a profile; throws <see cref="ArgumentException"/> when <paramref name="kind"/> is not
    /// <c>[a-z0-9][a-z0-9_-]*</c> or when a profile with no rules would accept no name.</summary>
    /// <param name="kind">The device kind (<c>arista_ceos</c>).</param>
    /// <param name="rules">The rules, in the order they are tried.</param>
    /// <param name="anyLinuxName">Whether any name the kernel accepts is taken as a Linux name besides the rules'
    /// ones; by default, only when there are no rules.</param>
    public InterfaceProfile(string kind, IEnumerable<InterfaceRule> rules, bool? anyLinuxName = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (!IsKindName(kind, out var why))
        {
            throw new ArgumentException($"invalid kind '{kind}': {why}", nameof(kind));
        }

        Kind = kind;
        Rules = [.. rules];
        AnyLinuxName = anyLinuxName ?? Rules.Count == 0;
        if (Rules.Count == 0 && !AnyLinuxName)
        {
            throw new ArgumentException($"kind '{kind}' has no rules and accepts no Linux name: it could name no interface", nameof(anyLinuxName));
        }
    }

    /// <summary>The device kind.</summary>
    public string Kind { get; }

    /// <summary>The rules, in the order they are tried.</summary>
    public IReadOnlyList<InterfaceRule> Rules { get; }

    /// <summary>Whether Linux names no rule maps are accepted (with the Linux name as their vendor name).</summary>
    public bool AnyLinuxName { get; }

    /// <summary>Whether <paramref name="kind"/> is a valid kind name (<c>[a-z0-9][a-z0-9_-]*</c>, at most 64
    /// characters), and if not, why.</summary>
    public static bool IsKindName(string? kind, [NotNullWhen(false)] out string? why)
    {
        why = kind switch
        {
            null or "" => "empty",
            { Length: > 64 } => "longer than 64 characters",
            _ when !LabNames.IsNameStart(kind[0]) => "must start with a lowercase letter or digit",
            _ when !kind.All(LabNames.IsNameChar) => "may hold only lowercase letters, digits, '_' and '-'",
            _ => null,
        };
        return why is null;
    }

    /// <summary>
    /// Reads <paramref name="name"/> as a vendor name (the first rule whose vendor pattern matches), else as a Linux
    /// name (a rule's Linux form, or any name the kernel accepts when <see cref="AnyLinuxName"/>). The Linux name must
    /// be one the kernel accepts (at most 15 bytes, no <c>/</c>, <c>:</c>, whitespace, not <c>.</c> or <c>..</c>) and
    /// not <c>lo</c>. The error says why not and how names of this kind are written.
    /// </summary>
    public bool TryMap(string name, out InterfaceMatch match, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(name);
        match = default;
        foreach (var rule in Rules)
        {
            if (rule.TryVendorToLinux(name, out var linux))
            {
                if (!IsUsableLinuxName(linux, out var why))
                {
                    error = $"{NameText.Quote(name)} would be the Linux name {why}";
                    return false;
                }

                match = new InterfaceMatch(linux, name, WrittenAsVendor: true);
                error = null;
                return true;
            }
        }

        var vendor = MappedVendor(name);
        if (vendor is not null || AnyLinuxName)
        {
            if (!IsUsableLinuxName(name, out var why))
            {
                error = why;
                return false;
            }

            match = new InterfaceMatch(name, vendor ?? name, WrittenAsVendor: false);
            error = null;
            return true;
        }

        error = Unmapped(name);
        return false;
    }

    /// <summary>The vendor name of the Linux name <paramref name="linux"/> (the first rule that maps it), or
    /// <paramref name="linux"/> itself when no rule does.</summary>
    public string ToVendor(string linux)
    {
        ArgumentNullException.ThrowIfNull(linux);
        return MappedVendor(linux) ?? linux;
    }

    /// <summary>How this kind's names are written: <c>arista_ceos: Ethernet{n} ↔ eth{n}, n ≥ 1; ...</c>.</summary>
    public override string ToString() =>
        Rules.Count == 0 ? $"{Kind}: any Linux name" : $"{Kind}: {string.Join("; ", Rules)}{(AnyLinuxName ? "; any other Linux name" : "")}";

    private string? MappedVendor(string linux)
    {
        foreach (var rule in Rules)
        {
            if (rule.TryLinuxToVendor(linux, out var vendor))
            {
                return vendor;
            }
        }

        return null;
    }

    /// <summary>Why <paramref name="name"/> is no name of this kind, with the spelling meant when it differs only in
    /// case, or the first port when its number is out of range.</summary>
    private string Unmapped(string name)
    {
        foreach (var rule in Rules)
        {
            var meant = rule.VendorIgnoringCase(name) ?? rule.LinuxIgnoringCase(name);
            if (meant is not null)
            {
                return $"{NameText.Quote(name)} is not an interface name of kind {Kind}; did you mean '{meant}'?";
            }
        }

        foreach (var rule in Rules)
        {
            if (rule.OutOfRange(name))
            {
                var (vendor, linux) = rule.FirstNames();
                return $"{NameText.Quote(name)} is out of range for kind {Kind}: {rule.Vendor} starts at {vendor} ({linux})";
            }
        }

        return $"{NameText.Quote(name)} is not an interface name of kind {Kind}; its names are {string.Join("; ", Rules)}";
    }

    private static bool IsUsableLinuxName(string name, [NotNullWhen(false)] out string? why)
    {
        if (!InterfaceNameRule.IsValid(name, out var reason))
        {
            why = reason;
            return false;
        }

        if (string.Equals(name, "lo", StringComparison.Ordinal))
        {
            why = "'lo' is the namespace's loopback, not a link end";
            return false;
        }

        why = null;
        return true;
    }
}
