using System.Globalization;
using System.Net;
using Aether.Reconcile.Sources;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>A VTEP of a host towards another, as the cluster's store holds it: the kernel VXLAN device that is the
/// port of the lab's bridge carrying every link to that host.</summary>
/// <param name="Remote">The host at the tunnel's other end.</param>
/// <param name="PortName">The device's (and bridge port's) name.</param>
/// <param name="Vni">The tunnel's VNI, the same on both hosts of the pair.</param>
public sealed record OvsVtep(HostId Remote, string PortName, uint Vni);

/// <summary>What one host holds of a placed lab on the ovs fabric.</summary>
/// <param name="Topology">The kernel part: nodes, a veth per local link end (inner end in the node, outer end in the
/// host's namespace) and a VXLAN device per VTEP in the host's namespace.</param>
/// <param name="Bridge">The Open vSwitch part: the lab's bridge, each outer end a port tagged with its link's tag,
/// each VTEP a port trunking the tags of the links crossing to its host.</param>
/// <param name="Trunks">The tags each VTEP carries, by remote host, ascending.</param>
public sealed record OvsHostPart(TopologySpec Topology, DesiredOvsBridge Bridge, IReadOnlyDictionary<HostId, IReadOnlyList<int>> Trunks);

/// <summary>The ovs fabric across hosts: reference 002's design, one VTEP per remote host shared by every link to
/// it.</summary>
public static partial class LabTopology
{
    /// <summary>
    /// The part of the placed <paramref name="lab"/> (on the ovs fabric) the agent on <paramref name="host"/> keeps:
    /// the namespaces of its nodes; for every end of a link on this host, a veth whose inner end is the interface in
    /// the node and whose outer end (<see cref="OvsFabric.PortOf"/>) is in <paramref name="hostNamespace"/> (null: the
    /// agent's own), a port of the lab's bridge tagged with the link's lab-wide tag from <paramref name="tags"/>; and
    /// for every remote host at least one link crosses to, that host's VTEP from <paramref name="vteps"/>: a VXLAN
    /// device in the host's namespace (the VNI given, Local this host's underlay, Remote the other's, port
    /// <see cref="CrossHost.Port"/>), a port of the bridge trunking exactly the tags of the links crossing to it.
    /// A VTEP of <paramref name="vteps"/> no link uses is left out (so it goes with its last link). MTUs: a local
    /// link's as given; a cross-host link's interfaces <see cref="LabSpec.InterfaceMtu"/>, the VTEP the largest of
    /// its links'. Links in <paramref name="excluded"/> are left out, those in <paramref name="down"/> kept down.
    /// </summary>
    /// <exception cref="ArgumentException">The lab is not placed or not on the ovs fabric; a link on this host has no
    /// tag, a tag outside <see cref="OvsFabric.FirstTag"/>..<see cref="OvsFabric.LastTag"/> or one another link has;
    /// a cross-host link has no VTEP towards its remote host; an underlay address is missing, not unicast, or of
    /// another family than this host's; an MTU leaves no room for the overhead.</exception>
    public static OvsHostPart CompileOvsForHost(
        LabSpec lab,
        HostId host,
        IReadOnlyDictionary<HostId, IPAddress> underlays,
        IReadOnlyDictionary<LinkId, int> tags,
        IReadOnlyDictionary<HostId, OvsVtep> vteps,
        string? hostNamespace,
        IReadOnlySet<LinkId>? excluded = null,
        IReadOnlySet<LinkId>? down = null)
    {
        ArgumentNullException.ThrowIfNull(underlays);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(vteps);
        CheckHostCompile(lab, host, LabFabric.Ovs, "CompileForHost");

        var nodes = lab.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var links = new List<TopologyLink>();
        var ports = new List<DesiredOvsPort>();
        var usedTags = new Dictionary<int, LinkId>();
        var trunks = new Dictionary<HostId, SortedSet<int>>();
        var vtepMtu = new Dictionary<HostId, int>();
        foreach (var link in lab.LinksOn(host))
        {
            var id = link.Id;
            if (excluded?.Contains(id) == true)
            {
                continue;
            }

            var tag = TagOf(tags, id);
            if (usedTags.TryGetValue(tag, out var other))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"links {other} and {id} of lab {lab.Name} both have VLAN tag {tag}: each link needs its own"), nameof(tags));
            }

            usedTags[tag] = id;
            var mtu = link.Mtu;
            if (lab.IsCrossHost(link))
            {
                var remote = lab.HostOf(lab.HostOf(link.A) == host ? link.B : link.A)!.Value;
                if (!vteps.ContainsKey(remote))
                {
                    throw new ArgumentException($"cross-host link {id}: no VTEP towards host {remote}", nameof(vteps));
                }

                var (local, far) = (UnderlayOf(underlays, host, id), UnderlayOf(underlays, remote, id));
                if (local.AddressFamily != far.AddressFamily)
                {
                    throw new ArgumentException($"link {id}: host {host}'s underlay {local} and host {remote}'s {far} are of different address families", nameof(underlays));
                }

                var lowered = lab.InterfaceMtu(link, local.AddressFamily);
                if (lowered < LabLoader.MinMtu)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"link {id}: MTU {link.Mtu} less VXLAN's {CrossHost.Overhead(local)} bytes is {lowered}, below {LabLoader.MinMtu}"), nameof(lab));
                }

                mtu = lowered;
                (trunks.TryGetValue(remote, out var set) ? set : trunks[remote] = []).Add(tag);
                vtepMtu[remote] = Math.Max(vtepMtu.GetValueOrDefault(remote), lowered);
            }

            var up = down?.Contains(id) != true;
            foreach (var end in new[] { link.A, link.B }.Where(e => lab.HostOf(e) == host))
            {
                var port = OvsFabric.PortOf(lab.Name, end);
                links.Add(new TopologyLink(port, TopologyLinkKind.Veth)
                {
                    Namespace = hostNamespace,
                    Mtu = mtu,
                    Up = up,
                    Peer = new TopologyPeer(end.Linux) { Namespace = nodes[end.Node].Namespace },
                });
                ports.Add(new DesiredOvsPort(port, tag) { Reclaim = true });
            }
        }

        foreach (var (remote, carried) in trunks.OrderBy(t => t.Key.Value, StringComparer.Ordinal))
        {
            var vtep = vteps[remote];
            if (vtep.Vni is < 1 or > CrossHost.MaxVni)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the VTEP towards host {remote}: VNI {vtep.Vni} is outside 1..{CrossHost.MaxVni}"), nameof(vteps));
            }

            var anyLink = usedTags[carried.Min];
            links.Add(new TopologyLink(vtep.PortName, TopologyLinkKind.Vxlan)
            {
                Namespace = hostNamespace,
                Mtu = vtepMtu[remote],
                Up = true,
                Vni = vtep.Vni,
                Local = UnderlayOf(underlays, host, anyLink),
                Remote = UnderlayOf(underlays, remote, anyLink),
                Port = CrossHost.Port,
            });
            ports.Add(new DesiredOvsPort(vtep.PortName, null) { Trunks = [.. carried] });
        }

        var topology = new TopologySpec(NameOf(lab.Name, host))
        {
            // The host's namespace holds the outer ends and the VTEPs: used, never created or deleted by the lab.
            Namespaces = [.. lab.NodesOn(host).Select(n => n.Namespace)
                .Concat(hostNamespace is not null ? [hostNamespace] : [])
                .Distinct(StringComparer.Ordinal).Select(n => new TopologyNamespace(n))],
            Links = links,
            SourcePath = lab.SourcePath,
        };
        return new OvsHostPart(
            topology,
            new DesiredOvsBridge(OvsFabric.BridgeOf(lab.Name), ports),
            trunks.ToDictionary(t => t.Key, t => (IReadOnlyList<int>)[.. t.Value]));
    }

    private static int TagOf(IReadOnlyDictionary<LinkId, int> tags, LinkId id)
    {
        if (!tags.TryGetValue(id, out var tag))
        {
            throw new ArgumentException($"link {id} has no VLAN tag", nameof(tags));
        }

        return tag is >= OvsFabric.FirstTag and <= OvsFabric.LastTag
            ? tag
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"link {id}: VLAN tag {tag} is outside {OvsFabric.FirstTag}..{OvsFabric.LastTag}"), nameof(tags));
    }
}
