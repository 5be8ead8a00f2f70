using System.Globalization;
using System.Net;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>The topology of one host of a placed lab: what that host's agent applies.</summary>
public static partial class LabTopology
{
    /// <summary>The topology name of <paramref name="lab"/>'s part on <paramref name="host"/>,
    /// <c>lab-NAME@HOST</c>: two hosts' parts of one lab stay distinct even in one state directory.</summary>
    public static string NameOf(string lab, HostId host) => NameOf(lab) + "@" + host.Value;

    /// <summary>The mark the links of <paramref name="lab"/>'s part on <paramref name="host"/> carry.</summary>
    public static string MarkOf(string lab, HostId host) => "aether:" + NameOf(lab, host);

    /// <summary>
    /// The topology the agent on <paramref name="host"/> applies for the placed <paramref name="lab"/>: the namespaces
    /// of the nodes placed there; each link with both ends there a veth pair, as <see cref="Compile"/> makes it; each
    /// cross-host link's local end a VXLAN in its node's namespace under the interface's Linux name, with the link's
    /// VNI from <paramref name="vnis"/>, Local this host's underlay address and Remote the other host's (from
    /// <paramref name="underlays"/>), port <see cref="CrossHost.Port"/>, its tunnel carried by
    /// <paramref name="hostNamespace"/> (null: the host namespace), and the MTU the lab's
    /// <see cref="LabSpec.CrossHostMtu"/> gives. A link whose transport is WireGuard has its VXLAN between the inner
    /// addresses of the pair's WireGuard tunnel instead (<see cref="CrossHostWireGuard"/>, from
    /// <paramref name="wireguard"/>), and each remote host such links lead to gets that tunnel's device in
    /// <paramref name="hostNamespace"/>. Links in <paramref name="excluded"/> are left out, those in
    /// <paramref name="down"/> kept down, as in <see cref="Compile"/>. A host with no node of the lab gets an empty
    /// topology (applying it removes what was there).
    /// </summary>
    /// <exception cref="ArgumentException">The lab is not placed or not on the veth fabric (the ovs fabric's part is
    /// <see cref="CompileOvsForHost"/>'s); an underlay address or a
    /// VNI that a cross-host link of <paramref name="host"/> needs is missing or invalid; two of those links share a
    /// VNI; the two ends of one tunnel are of different address families; an MTU leaves no room for the
    /// overhead; a WireGuard link's keys or slot are missing.</exception>
    public static TopologySpec CompileForHost(
        LabSpec lab,
        HostId host,
        IReadOnlyDictionary<HostId, IPAddress> underlays,
        IReadOnlyDictionary<LinkId, uint> vnis,
        string? hostNamespace,
        IReadOnlySet<LinkId>? excluded = null,
        IReadOnlySet<LinkId>? down = null,
        HostWireGuard? wireguard = null)
    {
        ArgumentNullException.ThrowIfNull(underlays);
        ArgumentNullException.ThrowIfNull(vnis);
        // The ovs fabric needs the lab's VLAN tags and the host's VTEPs, which this does not take.
        CheckHostCompile(lab, host, LabFabric.Veth, "CompileOvsForHost");

        var nodes = lab.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var links = new List<TopologyLink>();
        var usedVnis = new Dictionary<uint, LinkId>();
        var tunnels = new Dictionary<HostId, int>();
        foreach (var link in lab.Links)
        {
            var id = link.Id;
            var (a, b) = (nodes[link.A.Node], nodes[link.B.Node]);
            var (aHere, bHere) = (a.Host == host, b.Host == host);
            if (!aHere && !bHere || excluded?.Contains(id) == true)
            {
                continue;
            }

            var up = down?.Contains(id) != true;
            if (aHere && bHere)
            {
                links.Add(new TopologyLink(link.A.Linux, TopologyLinkKind.Veth)
                {
                    Namespace = a.Namespace,
                    Mtu = link.Mtu,
                    Up = up,
                    Peer = new TopologyPeer(link.B.Linux) { Namespace = b.Namespace },
                });
                continue;
            }

            var (local, node, remoteNode) = aHere ? (link.A, a, b) : (link.B, b, a);
            var vni = VniOf(vnis, id);
            if (usedVnis.TryGetValue(vni, out var other))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"links {other} and {id} of lab {lab.Name} both have VNI {vni} on host {host}: each tunnel of a host needs its own"), nameof(vnis));
            }

            usedVnis[vni] = id;
            var localAddress = UnderlayOf(underlays, host, id);
            var remoteAddress = UnderlayOf(underlays, remoteNode.Host!.Value, id);
            if (localAddress.AddressFamily != remoteAddress.AddressFamily)
            {
                throw new ArgumentException($"link {id}: host {host}'s underlay {localAddress} and host {remoteNode.Host}'s {remoteAddress} are of different address families", nameof(underlays));
            }

            var transport = lab.TransportOf(link);
            var mtu = lab.InterfaceMtu(link, localAddress.AddressFamily);
            if (mtu < LabLoader.MinMtu)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"link {id}: MTU {link.Mtu} less the {CrossHost.Overhead(localAddress.AddressFamily, transport)} bytes of its tunnel is {mtu}, below {LabLoader.MinMtu}"), nameof(lab));
            }

            var remoteHost = remoteNode.Host!.Value;
            if (transport == CrossHostTransport.WireGuard)
            {
                (localAddress, remoteAddress) = WireGuardEnds(lab, id, host, remoteHost, wireguard);
                tunnels[remoteHost] = Math.Max(tunnels.GetValueOrDefault(remoteHost), mtu);
            }

            links.Add(new TopologyLink(local.Linux, TopologyLinkKind.Vxlan)
            {
                Namespace = node.Namespace,
                Mtu = mtu,
                Up = up,
                Vni = vni,
                Local = localAddress,
                Remote = remoteAddress,
                Port = CrossHost.Port,
                Underlay = new VxlanUnderlay(hostNamespace),
            });
        }

        if (tunnels.Count > 0)
        {
            links.AddRange(WireGuardDevices(lab, host, underlays, tunnels, wireguard!, hostNamespace));
        }

        return new TopologySpec(NameOf(lab.Name, host))
        {
            // The host's own namespace, where the tunnels run, is listed too: used, never created or deleted by the
            // lab when it exists (as the ovs switch's namespace is).
            Namespaces = [.. lab.NodesOn(host).Select(n => n.Namespace)
                .Concat(hostNamespace is not null && links.Any(l => l.Underlay is not null) ? [hostNamespace] : [])
                .Distinct(StringComparer.Ordinal).Select(n => new TopologyNamespace(n))],
            Links = links,
            SourcePath = lab.SourcePath,
        };
    }

    /// <summary>What both host compiles require: a host id, a placed lab whose every node has its host (a
    /// <c>host: auto</c> node given one by the controller), on the fabric the caller compiles
    /// (<paramref name="other"/> compiles the other).</summary>
    private static void CheckHostCompile(LabSpec lab, HostId host, LabFabric fabric, string other)
    {
        ArgumentNullException.ThrowIfNull(lab);
        if (host.Value is null)
        {
            throw new ArgumentException("the host id is empty", nameof(host));
        }

        if (!lab.IsPlaced)
        {
            throw new ArgumentException($"lab {lab.Name} places no node on a host: it is compiled whole, by Compile", nameof(lab));
        }

        if (lab.AwaitsPlacement)
        {
            throw new ArgumentException($"lab {lab.Name}: some host: auto node has no host yet (LabSpec.WithPlacements gives them theirs)", nameof(lab));
        }

        if (lab.Fabric != fabric)
        {
            throw new ArgumentException($"lab {lab.Name} is on the {lab.Fabric.ToString().ToLowerInvariant()} fabric: compiled by {other}", nameof(lab));
        }
    }

    private static uint VniOf(IReadOnlyDictionary<LinkId, uint> vnis, LinkId id)
    {
        if (!vnis.TryGetValue(id, out var vni))
        {
            throw new ArgumentException($"cross-host link {id} has no VNI", nameof(vnis));
        }

        return vni is >= 1 and <= CrossHost.MaxVni
            ? vni
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"cross-host link {id}: VNI {vni} is outside 1..{CrossHost.MaxVni}"), nameof(vnis));
    }

    private static IPAddress UnderlayOf(IReadOnlyDictionary<HostId, IPAddress> underlays, HostId host, LinkId id)
    {
        if (!underlays.TryGetValue(host, out var address) || address is null)
        {
            throw new ArgumentException($"host {host} has no underlay address (needed by cross-host link {id})", nameof(underlays));
        }

        var bytes = address.GetAddressBytes();
        var unusable = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)
            || address.IsIPv6Multicast || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && bytes[0] is >= 224 and <= 239);
        return unusable
            ? throw new ArgumentException($"host {host}'s underlay address {address} is not a unicast address (needed by cross-host link {id})", nameof(underlays))
            : address;
    }
}
