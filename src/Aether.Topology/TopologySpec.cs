using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Topology;

/// <summary>
/// A topology file, validated: what one owner (<see cref="Name"/>) wants to exist. Every object it creates is marked
/// or recorded as this owner's, and <c>destroy</c> removes exactly those.
/// </summary>
/// <param name="Name">The owner: written into link marks (<c>aether:NAME</c>) and naming the state directory.</param>
public sealed record TopologySpec(string Name)
{
    /// <summary>The namespaces, in file order.</summary>
    public IReadOnlyList<TopologyNamespace> Namespaces { get; init; } = [];

    /// <summary>The links, in file order.</summary>
    public IReadOnlyList<TopologyLink> Links { get; init; } = [];

    /// <summary>The routes, in file order.</summary>
    public IReadOnlyList<TopologyRoute> Routes { get; init; } = [];

    /// <summary>The file it was read from, if any.</summary>
    public string? SourcePath { get; init; }
}

/// <summary>A named namespace (<c>ip netns</c> compatible). Created when missing (and then owned: <c>destroy</c>
/// deletes it); used but never deleted when it already existed.</summary>
/// <param name="Name">Its name under <c>/run/netns</c>.</param>
public sealed record TopologyNamespace(string Name)
{
    /// <summary>Sysctls under <c>net.</c>, in file order (key as written, value as a string).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Sysctls { get; init; } = [];

    /// <summary>NAT rules, in file order: kept in the nftables table <c>inet aether-OWNER</c> of this namespace.</summary>
    public IReadOnlyList<TopologyMasquerade> Nat { get; init; } = [];
}

/// <summary>Masquerade traffic from <see cref="Source"/> leaving through <see cref="Out"/>: it leaves with the
/// address of that interface (<c>ip saddr SOURCE oifname OUT masquerade</c>).</summary>
/// <param name="Source">The source prefix (no host bits set).</param>
/// <param name="Out">The output interface, in the same namespace.</param>
public sealed record TopologyMasquerade(IPPrefix Source, string Out);

/// <summary>The kinds of link a topology can declare.</summary>
public enum TopologyLinkKind
{
    /// <summary>A veth pair: this end and a <see cref="TopologyLink.Peer"/>.</summary>
    Veth,

    /// <summary>A bridge.</summary>
    Bridge,

    /// <summary>A VXLAN tunnel (<see cref="TopologyLink.Vni"/> required).</summary>
    Vxlan,

    /// <summary>A macvlan on a <see cref="TopologyLink.Parent"/>.</summary>
    Macvlan,

    /// <summary>A WireGuard device (<see cref="TopologyLink.WireGuard"/>): its keys, port and peers.</summary>
    WireGuard,
}

/// <summary>A link, in <see cref="Namespace"/> (null: the host namespace).</summary>
/// <param name="Name">Its interface name.</param>
/// <param name="Kind">Its kind.</param>
public sealed record TopologyLink(string Name, TopologyLinkKind Kind)
{
    /// <summary>The namespace it lives in, by name; null for the host namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>Administratively up (default true).</summary>
    public bool Up { get; init; } = true;

    /// <summary>The MTU, or the kernel's default.</summary>
    public int? Mtu { get; init; }

    /// <summary>The bridge it is a port of (a bridge declared in the same namespace).</summary>
    public string? Master { get; init; }

    /// <summary>Addresses on this link (on this end, for a veth).</summary>
    public IReadOnlyList<IPPrefix> Addresses { get; init; } = [];

    /// <summary>A veth's other end.</summary>
    public TopologyPeer? Peer { get; init; }

    /// <summary>VXLAN: the VNI.</summary>
    public uint? Vni { get; init; }

    /// <summary>VXLAN: the remote endpoint (unicast) or multicast group.</summary>
    public IPAddress? Remote { get; init; }

    /// <summary>VXLAN: the local endpoint.</summary>
    public IPAddress? Local { get; init; }

    /// <summary>VXLAN: the UDP destination port.</summary>
    public ushort? Port { get; init; }

    /// <summary>
    /// VXLAN: the namespace whose network carries the tunnel (its UDP socket, <see cref="Local"/>, the route to
    /// <see cref="Remote"/>); null when that is the link's own <see cref="Namespace"/>. The device is created there
    /// and moved into <see cref="Namespace"/>, where it is the interface, while the tunnel's packets stay in the
    /// underlay namespace (what <c>ip link add ... type vxlan ... netns NS</c> does).
    /// </summary>
    public VxlanUnderlay? Underlay { get; init; }

    /// <summary>Macvlan: the lower device (required); VXLAN: the underlay device. In the same namespace, or for a
    /// VXLAN with an <see cref="Underlay"/>, in the underlay namespace.</summary>
    public string? Parent { get; init; }

    /// <summary>Macvlan: the mode (default bridge).</summary>
    public MacvlanMode? Mode { get; init; }

    /// <summary>WireGuard: the device's keys, port, mark and peers.</summary>
    public TopologyWireGuard? WireGuard { get; init; }
}

/// <summary>A veth's other end.</summary>
/// <param name="Name">Its interface name.</param>
public sealed record TopologyPeer(string Name)
{
    /// <summary>The namespace it lives in; null for the same namespace as its partner.</summary>
    public string? Namespace { get; init; }

    /// <summary>Addresses on this end.</summary>
    public IReadOnlyList<IPPrefix> Addresses { get; init; } = [];
}

/// <summary>A route in <see cref="Namespace"/> (null: the host namespace).</summary>
/// <param name="Namespace">Where the route lives.</param>
/// <param name="To">The destination; null for a default route (its family comes from <see cref="Via"/>).</param>
public sealed record TopologyRoute(string? Namespace, IPPrefix? To)
{
    /// <summary>The gateway.</summary>
    public IPAddress? Via { get; init; }

    /// <summary>The output device, by name, in the route's namespace.</summary>
    public string? Dev { get; init; }

    /// <summary>The metric (priority).</summary>
    public uint? Metric { get; init; }

    /// <summary>The table (default main).</summary>
    public uint? Table { get; init; }

    /// <summary>The gateway is on the link even if no prefix covers it.</summary>
    public bool OnLink { get; init; }
}

/// <summary>The namespace that carries a VXLAN link's tunnel (see <see cref="TopologyLink.Underlay"/>).</summary>
/// <param name="Namespace">The namespace by name; null for the host namespace.</param>
public sealed record VxlanUnderlay(string? Namespace);
