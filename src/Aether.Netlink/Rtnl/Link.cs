using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Operational state (<c>IF_OPER_*</c>, RFC 2863).</summary>
public enum OperState : byte
{
    /// <summary><c>IF_OPER_UNKNOWN</c>.</summary>
    Unknown = 0,

    /// <summary><c>IF_OPER_NOTPRESENT</c>.</summary>
    NotPresent = 1,

    /// <summary><c>IF_OPER_DOWN</c>.</summary>
    Down = 2,

    /// <summary><c>IF_OPER_LOWERLAYERDOWN</c>: the peer or parent is down.</summary>
    LowerLayerDown = 3,

    /// <summary><c>IF_OPER_TESTING</c>.</summary>
    Testing = 4,

    /// <summary><c>IF_OPER_DORMANT</c>.</summary>
    Dormant = 5,

    /// <summary><c>IF_OPER_UP</c>.</summary>
    Up = 6,
}

/// <summary>A network interface as the kernel reports it (<c>RTM_NEWLINK</c>).</summary>
public sealed partial record Link
{
    /// <summary>The ifindex.</summary>
    public required int Index { get; init; }

    /// <summary>The name.</summary>
    public required string Name { get; init; }

    /// <summary>The interface flags (<c>IFF_*</c>).</summary>
    public uint Flags { get; init; }

    /// <summary>Administratively up (<c>IFF_UP</c>).</summary>
    public bool IsUp => (Flags & Iff.Up) != 0;

    /// <summary>The lower layer is up (<c>IFF_LOWER_UP</c>): carrier.</summary>
    public bool IsLowerUp => (Flags & Iff.LowerUp) != 0;

    /// <summary>The hardware type (<c>ARPHRD_*</c>).</summary>
    public ushort HardwareType { get; init; }

    /// <summary>The MTU.</summary>
    public int Mtu { get; init; }

    /// <summary>The hardware address, formatted.</summary>
    public string? MacAddress { get; init; }

    /// <summary>The operational state.</summary>
    public OperState OperState { get; init; }

    /// <summary>The carrier (<c>IFLA_CARRIER</c>).</summary>
    public bool? Carrier { get; init; }

    /// <summary>The master's ifindex (bridge port, bond slave).</summary>
    public int? MasterIndex { get; init; }

    /// <summary><c>IFLA_LINK</c>: a veth's peer ifindex, a macvlan's parent; in the namespace named by <see cref="LinkNetNsId"/> when set.</summary>
    public int? LinkIndex { get; init; }

    /// <summary><c>IFLA_LINK_NETNSID</c>: the nsid (in this link's namespace) of the namespace that holds <see cref="LinkIndex"/>.</summary>
    public int? LinkNetNsId { get; init; }

    /// <summary>The alias (<c>IFLA_IFALIAS</c>).</summary>
    public string? Alias { get; init; }

    /// <summary>Alternative names (<c>IFLA_ALT_IFNAME</c> in <c>IFLA_PROP_LIST</c>).</summary>
    public IReadOnlyList<string> AltNames { get; init; } = [];

    /// <summary>The kind string (<c>veth</c>), or null for a plain device.</summary>
    public string? Kind => KindData?.Kind;

    /// <summary>The kind and its decoded data.</summary>
    public LinkKindData? KindData { get; init; }

    /// <summary>The kind of the master this link is a port of (<c>IFLA_INFO_SLAVE_KIND</c>: <c>bridge</c>).</summary>
    public string? PortKind { get; init; }

    /// <summary>
    /// Attributes this library does not decode, kept raw (type and bytes), so nothing a newer kernel adds is lost.
    /// Two known, bulky groups are left out on purpose: statistics (the library asks the kernel to skip them with
    /// <c>RTEXT_FILTER_SKIP_STATS</c>) and per-family configuration (<c>IFLA_AF_SPEC</c>, about 1 KiB per link).
    /// The bytes are kept in one array and split into attributes when first asked for.
    /// </summary>
    public IReadOnlyList<RawAttribute> Unknown => _unknown ??= DecodeUnknown(_attributes);

    private IReadOnlyList<RawAttribute>? _unknown;
    private byte[] _attributes = [];

    /// <summary>Equal when every decoded property is equal (alternative names compared in order; raw attributes ignored).</summary>
    public bool Equals(Link? other) => other is not null
        && Index == other.Index && string.Equals(Name, other.Name, StringComparison.Ordinal) && Flags == other.Flags
        && HardwareType == other.HardwareType && Mtu == other.Mtu && string.Equals(MacAddress, other.MacAddress, StringComparison.Ordinal)
        && OperState == other.OperState && Carrier == other.Carrier && MasterIndex == other.MasterIndex
        && LinkIndex == other.LinkIndex && LinkNetNsId == other.LinkNetNsId && string.Equals(Alias, other.Alias, StringComparison.Ordinal)
        && AltNames.SequenceEqual(other.AltNames, StringComparer.Ordinal) && Equals(KindData, other.KindData)
        && string.Equals(PortKind, other.PortKind, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Name, Flags, Mtu, MacAddress, OperState, LinkIndex, KindData);
}
