using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Aether.Labs;

/// <summary>A host a lab's nodes are placed on (<c>host: h1</c>): 1 to <see cref="MaxLength"/> lowercase ASCII
/// letters, digits, <c>_</c> and <c>-</c>, starting with a letter or digit (so that it never reads as an
/// option).</summary>
public readonly record struct HostId : IComparable<HostId>
{
    /// <summary>The longest host id: it is part of the topology name each host's agent applies
    /// (<c>lab-NAME@HOST</c>).</summary>
    public const int MaxLength = 32;

    /// <summary>What a host id may be, as the errors say it.</summary>
    public const string Allowed = "1-32 lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit, not 'auto'";

    /// <summary>The word a lab file writes as a node's host to let the controller place it (<c>host: auto</c>); no
    /// host may be called so.</summary>
    public const string Auto = "auto";

    private HostId(string value) => Value = value;

    /// <summary>The id as written.</summary>
    public string Value { get; }

    /// <summary>Whether <paramref name="text"/> is a valid host id, and if not, why.</summary>
    public static bool IsValid([NotNullWhen(true)] string? text, [NotNullWhen(false)] out string? why)
    {
        why = text switch
        {
            null or "" => "empty",
            _ when text.Length > MaxLength => string.Create(CultureInfo.InvariantCulture, $"{text.Length} characters, the limit is {MaxLength}"),
            _ when !LabNames.IsNameStart(text[0]) => "must start with a lowercase letter or digit",
            _ when !text.All(LabNames.IsNameChar) => "may hold only lowercase letters, digits, '_' and '-'",
            Auto => "'auto' is reserved (host: auto lets the controller place a node)",
            _ => null,
        };
        return why is null;
    }

    /// <summary>The host id <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">It is not a valid host id (the message says why and what is
    /// allowed).</exception>
    public static HostId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IsValid(text, out var why)
            ? new HostId(text)
            : throw new ArgumentException($"invalid host id '{text}': {why}; allowed: {Allowed}", nameof(text));
    }

    /// <summary>The host id <paramref name="text"/>, when it is one.</summary>
    public static bool TryParse(string? text, out HostId id)
    {
        id = IsValid(text, out _) ? new HostId(text) : default;
        return id.Value is not null;
    }

    /// <inheritdoc/>
    public int CompareTo(HostId other) => string.CompareOrdinal(Value, other.Value);

    /// <inheritdoc/>
    public override string ToString() => Value ?? "";

    /// <summary>Ordinal order.</summary>
    public static bool operator <(HostId left, HostId right) => left.CompareTo(right) < 0;

    /// <summary>Ordinal order.</summary>
    public static bool operator <=(HostId left, HostId right) => left.CompareTo(right) <= 0;

    /// <summary>Ordinal order.</summary>
    public static bool operator >(HostId left, HostId right) => left.CompareTo(right) > 0;

    /// <summary>Ordinal order.</summary>
    public static bool operator >=(HostId left, HostId right) => left.CompareTo(right) >= 0;
}

/// <summary>How a cross-host link makes room for VXLAN's encapsulation (<c>cross_host: { mtu: ... }</c>).</summary>
public enum CrossHostMtu
{
    /// <summary>The interface's MTU is the link's (1500 when it gives none) minus the overhead (50 bytes over IPv4,
    /// 70 over IPv6), so that the tunnel's packets fit an underlay of the link's MTU (the default).</summary>
    Lower,

    /// <summary>The interface keeps the link's MTU; the underlay must carry that plus the overhead (the agent
    /// checks).</summary>
    Underlay,
}

/// <summary>What carries a cross-host link between its hosts (<c>transport:</c> on the link, or
/// <c>cross_host: { transport: ... }</c> for the lab's default).</summary>
public enum CrossHostTransport
{
    /// <summary>A VXLAN at each end straight over the underlay (the default): fast, not encrypted.</summary>
    Vxlan,

    /// <summary>The link's VXLAN inside a WireGuard tunnel between the two hosts (one WireGuard device per pair of
    /// hosts and lab, carrying every such link between them): encrypted and authenticated on the underlay.</summary>
    WireGuard,
}
