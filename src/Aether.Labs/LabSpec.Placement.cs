using System.Net;
using System.Net.Sockets;

namespace Aether.Labs;

/// <summary>Placement: which host each node is on, and the links that cross between hosts.</summary>
public sealed partial record LabSpec
{
    /// <summary>Whether the nodes are placed on hosts (<c>host: ID</c>, or <c>host: auto</c> for the controller to
    /// choose); a lab places all its nodes or none.</summary>
    public bool IsPlaced => Nodes.Any(n => n.Host is not null || n.AutoHost);

    /// <summary>Whether some node still waits for the controller to choose its host (<c>host: auto</c>, not yet given
    /// one by <see cref="WithPlacements"/>): until then the lab cannot be compiled for a host.</summary>
    public bool AwaitsPlacement => Nodes.Any(n => n.AutoHost && n.Host is null);

    /// <summary>The lab with each <c>host: auto</c> node on the host <paramref name="placements"/> gives it (node name →
    /// host); nodes the file placed keep their host.</summary>
    /// <exception cref="ArgumentException">A <c>host: auto</c> node has no placement.</exception>
    public LabSpec WithPlacements(IReadOnlyDictionary<string, HostId> placements)
    {
        ArgumentNullException.ThrowIfNull(placements);
        var missing = Nodes.Where(n => n.AutoHost && !placements.ContainsKey(n.Name)).Select(n => n.Name).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"lab {Name}: no host chosen yet for {string.Join(", ", missing)} (host: auto)", nameof(placements));
        }

        return this with { Nodes = [.. Nodes.Select(n => n.AutoHost ? n with { Host = placements[n.Name] } : n)] };
    }

    /// <summary>The hosts the nodes are placed on, each once, in the order of their first node; empty when the lab is
    /// not placed.</summary>
    public IReadOnlyList<HostId> Hosts => [.. Nodes.Where(n => n.Host is not null).Select(n => n.Host!.Value).Distinct()];

    /// <summary>The links whose two ends are on different hosts, in file order.</summary>
    public IReadOnlyList<LabLink> CrossHostLinks => [.. Links.Where(IsCrossHost)];

    /// <summary>The nodes placed on <paramref name="host"/>, in file order.</summary>
    public IReadOnlyList<LabNode> NodesOn(HostId host) => [.. Nodes.Where(n => n.Host == host)];

    /// <summary>The links with at least one end on <paramref name="host"/>, in file order.</summary>
    public IReadOnlyList<LabLink> LinksOn(HostId host) => [.. Links.Where(l => HostOf(l.A) == host || HostOf(l.B) == host)];

    /// <summary>The node called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is none.</exception>
    public LabNode Node(string name) =>
        Nodes.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"lab {Name} has no node '{name}'");

    /// <summary>The host of <paramref name="end"/>'s node, or null when the lab is not placed.</summary>
    /// <exception cref="KeyNotFoundException">Its node is not in the lab.</exception>
    public HostId? HostOf(LabEndpoint end)
    {
        ArgumentNullException.ThrowIfNull(end);
        return Node(end.Node).Host;
    }

    /// <summary>What carries <paramref name="link"/> between hosts: its own <c>transport</c>, or the lab's.</summary>
    public CrossHostTransport TransportOf(LabLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.Transport ?? CrossHostTransport;
    }

    /// <summary>Whether <paramref name="link"/>'s ends are on two different hosts (it is carried over VXLAN).</summary>
    public bool IsCrossHost(LabLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return HostOf(link.A) is { } a && HostOf(link.B) is { } b && a != b;
    }

    /// <summary>The MTU of a cross-host link's interfaces when its tunnel runs over <paramref name="family"/>: the
    /// link's MTU (<see cref="CrossHost.DefaultLinkMtu"/> when it gives none), less its transport's overhead under
    /// <see cref="CrossHostMtu.Lower"/>.</summary>
    public int InterfaceMtu(LabLink link, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(link);
        var mtu = link.Mtu ?? CrossHost.DefaultLinkMtu;
        return CrossHostMtu == CrossHostMtu.Lower ? mtu - CrossHost.Overhead(family, TransportOf(link)) : mtu;
    }

    /// <summary>The MTU the underlay must carry for a cross-host link's tunnel over <paramref name="family"/>: the
    /// interface's MTU plus its transport's overhead (what the agent checks under
    /// <see cref="CrossHostMtu.Underlay"/>).</summary>
    public int UnderlayMtu(LabLink link, AddressFamily family) => InterfaceMtu(link, family) + CrossHost.Overhead(family, TransportOf(link));
}

/// <summary>The constants of cross-host links.</summary>
public static class CrossHost
{
    /// <summary>The UDP port of every cross-host link's tunnel (IANA's VXLAN port).</summary>
    public const ushort Port = 4789;

    /// <summary>The MTU of a link that gives none.</summary>
    public const int DefaultLinkMtu = 1500;

    /// <summary>VXLAN over IPv4 needs 50 bytes of the underlay's MTU beyond the frame's payload: the inner Ethernet header 14, outer IPv4 20, UDP 8, VXLAN 8.</summary>
    public const int Ipv4Overhead = 50;

    /// <summary>VXLAN over IPv6 adds 70 bytes (the IPv6 header is 40).</summary>
    public const int Ipv6Overhead = 70;

    /// <summary>The largest VNI (24 bits); VNIs of cross-host links are 1 to this.</summary>
    public const uint MaxVni = 0xFFFFFF;

    /// <summary>WireGuard over IPv4 adds 60 bytes to the packet it carries: outer IPv4 20, UDP 8, its header 16
    /// (type, receiver, counter) and the authentication tag 16.</summary>
    public const int WireGuardIpv4Overhead = 60;

    /// <summary>WireGuard over IPv6 adds 80 bytes (the IPv6 header is 40).</summary>
    public const int WireGuardIpv6Overhead = 80;

    /// <summary>The overhead of a link carried by <paramref name="transport"/> over an underlay of
    /// <paramref name="family"/>: VXLAN's; or, inside WireGuard, VXLAN over the tunnel's IPv4 inner addresses (50)
    /// plus WireGuard's over the underlay.</summary>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6.</exception>
    public static int Overhead(AddressFamily family, CrossHostTransport transport) => transport switch
    {
        CrossHostTransport.WireGuard => Ipv4Overhead + WireGuardOverhead(family),
        _ => Overhead(family),
    };

    /// <summary>What WireGuard adds over an underlay of <paramref name="family"/>.</summary>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6.</exception>
    public static int WireGuardOverhead(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => WireGuardIpv4Overhead,
        AddressFamily.InterNetworkV6 => WireGuardIpv6Overhead,
        _ => throw new ArgumentException($"an underlay is IPv4 or IPv6, not {family}", nameof(family)),
    };

    /// <summary>The overhead of a tunnel over <paramref name="family"/>.</summary>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6.</exception>
    public static int Overhead(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => Ipv4Overhead,
        AddressFamily.InterNetworkV6 => Ipv6Overhead,
        _ => throw new ArgumentException($"an underlay is IPv4 or IPv6, not {family}", nameof(family)),
    };

    /// <summary>The overhead of a tunnel from <paramref name="underlay"/>.</summary>
    public static int Overhead(IPAddress underlay)
    {
        ArgumentNullException.ThrowIfNull(underlay);
        return Overhead(underlay.AddressFamily);
    }
}
