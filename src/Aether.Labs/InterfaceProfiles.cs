using System.Diagnostics.CodeAnalysis;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>
/// The interface naming profiles by device kind: the built-in table (<see cref="Default"/>), extended or overridden
/// by a user file (<see cref="LoadFile"/>). Every kind accepts its Linux names as well as its vendor names, and both
/// map both ways; the Linux name is what the kernel holds.
/// </summary>
public sealed partial class InterfaceProfiles
{
    private readonly Dictionary<string, InterfaceProfile> _byKind;

    /// <summary>Profiles for <paramref name="profiles"/>; throws <see cref="ArgumentException"/> when a kind appears
    /// twice (use <see cref="With"/> to override one).</summary>
    public InterfaceProfiles(IEnumerable<InterfaceProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        Profiles = [.. profiles];
        _byKind = new Dictionary<string, InterfaceProfile>(StringComparer.Ordinal);
        foreach (var profile in Profiles)
        {
            if (!_byKind.TryAdd(profile.Kind, profile))
            {
                throw new ArgumentException($"kind '{profile.Kind}' is given twice", nameof(profiles));
            }
        }
    }

    /// <summary>
    /// The built-in table: <c>linux</c> (any name the kernel accepts), <c>arista_ceos</c> (<c>EthernetN ↔ ethN</c>,
    /// <c>EthernetN/M ↔ ethN_M</c>, short forms <c>EtN</c>, <c>EtN/M</c>), <c>juniper_vmx</c>
    /// (<c>ge-0/0/N ↔ eth(N+1)</c>), <c>cisco_iosxr</c> (<c>GigabitEthernet0/0/0/N ↔ eth(N+1)</c>, short form
    /// <c>Gi0/0/0/N</c>), <c>nokia_srlinux</c> (<c>ethernet-S/N ↔ eS-N</c>, breakouts <c>ethernet-S/N/M ↔ eS-N-M</c>).
    /// </summary>
    public static InterfaceProfiles Default { get; } = new(
    [
        new InterfaceProfile("linux", []),
        new InterfaceProfile("arista_ceos",
        [
            new InterfaceRule("Ethernet{n}", "eth{n}", first: 1),
            new InterfaceRule("Ethernet{n}/{m}", "eth{n}_{m}", first: 1),
            new InterfaceRule("Et{n}", "eth{n}", first: 1),
            new InterfaceRule("Et{n}/{m}", "eth{n}_{m}", first: 1),
        ]),
        new InterfaceProfile("juniper_vmx",
        [
            new InterfaceRule("ge-0/0/{n}", "eth{n}", offset: 1),
        ]),
        new InterfaceProfile("cisco_iosxr",
        [
            new InterfaceRule("GigabitEthernet0/0/0/{n}", "eth{n}", offset: 1),
            new InterfaceRule("Gi0/0/0/{n}", "eth{n}", offset: 1),
        ]),
        new InterfaceProfile("nokia_srlinux",
        [
            new InterfaceRule("ethernet-{s}/{n}", "e{s}-{n}", first: 1),
            new InterfaceRule("ethernet-{s}/{n}/{m}", "e{s}-{n}-{m}", first: 1),
        ]),
    ]);

    /// <summary>The profiles, built-in kinds first, then added ones in the order they were added.</summary>
    public IReadOnlyList<InterfaceProfile> Profiles { get; }

    /// <summary>The known kinds, in the order of <see cref="Profiles"/>.</summary>
    public IReadOnlyList<string> KnownKinds => [.. Profiles.Select(p => p.Kind)];

    /// <summary>The profile of <paramref name="kind"/>, when known.</summary>
    public bool TryGet(string kind, [NotNullWhen(true)] out InterfaceProfile? profile)
    {
        ArgumentNullException.ThrowIfNull(kind);
        return _byKind.TryGetValue(kind, out profile);
    }

    /// <summary>The Linux name of <paramref name="name"/> (a vendor name or a Linux name) on a node of
    /// <paramref name="kind"/>, or why there is none (an unknown kind, or a name the profile cannot map: see
    /// <see cref="InterfaceProfile.TryMap"/>).</summary>
    public bool TryToLinux(string kind, string name, [NotNullWhen(true)] out string? linux, [NotNullWhen(false)] out string? error)
    {
        linux = null;
        if (!TryMap(kind, name, out var match, out error))
        {
            return false;
        }

        linux = match.Linux;
        return true;
    }

    /// <summary>Both names of <paramref name="name"/> on a node of <paramref name="kind"/>, or why there are none.</summary>
    public bool TryMap(string kind, string name, out InterfaceMatch match, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(name);
        if (!_byKind.TryGetValue(kind, out var profile))
        {
            match = default;
            error = UnknownKind(kind);
            return false;
        }

        return profile.TryMap(name, out match, out error);
    }

    /// <summary>The vendor name of the Linux name <paramref name="linux"/> on a node of <paramref name="kind"/>, or
    /// <paramref name="linux"/> itself when the profile has none for it (or the kind is unknown: a lab stored under a
    /// profile file that is no longer given still shows its names).</summary>
    public string ToVendor(string kind, string linux)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(linux);
        return _byKind.TryGetValue(kind, out var profile) ? profile.ToVendor(linux) : linux;
    }

    /// <summary>These profiles with <paramref name="profiles"/> added: a kind already known is replaced where it
    /// stands, a new one is added at the end.</summary>
    public InterfaceProfiles With(IEnumerable<InterfaceProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var result = Profiles.ToList();
        foreach (var profile in profiles)
        {
            var index = result.FindIndex(p => string.Equals(p.Kind, profile.Kind, StringComparison.Ordinal));
            if (index >= 0)
            {
                result[index] = profile;
            }
            else
            {
                result.Add(profile);
            }
        }

        return new InterfaceProfiles(result);
    }

    /// <summary>These profiles with <paramref name="other"/>'s added or overriding (see <see cref="With"/>).</summary>
    public InterfaceProfiles Merge(InterfaceProfiles other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return With(other.Profiles);
    }

    /// <summary><c>unknown kind 'x'; did you mean 'y'? known kinds: ...</c>.</summary>
    internal string UnknownKind(string kind)
    {
        var near = Spelling.Nearest(kind, KnownKinds);
        return $"unknown kind '{kind}'; {(near is null ? "" : $"did you mean '{near}'? ")}known kinds: {string.Join(", ", KnownKinds)}";
    }
}
