using System.Net;
using Aether.Labs.Tests.Files;
using Aether.Topology;

namespace Aether.Labs.Tests.Placement;

/// <summary>The ovs fabric's part of each host: veth ends on the lab's bridge with lab-wide tags, one VTEP per remote
/// host trunking exactly the tags of the links crossing to it.</summary>
public sealed class CompileOvsForHostTests
{
    /// <summary>a1, a2 on h1; b1, b2 on h2; c1 on h3. One link inside h1, two between h1 and h2 (one at MTU 9000),
    /// one between h2 and h3.</summary>
    private const string Lab = """
        name: otri
        fabric: ovs
        nodes:
          a1: { kind: linux, host: h1 }
          a2: { kind: linux, host: h1 }
          b1: { kind: linux, host: h2 }
          b2: { kind: linux, host: h2 }
          c1: { kind: linux, host: h3 }
        links:
          - endpoints: [a1:eth1, a2:eth1]
          - endpoints: [a1:eth2, b1:eth1]
          - endpoints: [a2:eth2, b2:eth1]
            mtu: 9000
          - endpoints: [b1:eth2, c1:eth1]

        """;

    private const string HostNs = "aetovshost";

    private static readonly HostId H1 = HostId.Parse("h1");
    private static readonly HostId H2 = HostId.Parse("h2");
    private static readonly HostId H3 = HostId.Parse("h3");

    private static readonly Dictionary<HostId, IPAddress> V4 = new()
    {
        [H1] = IPAddress.Parse("192.0.2.1"),
        [H2] = IPAddress.Parse("192.0.2.2"),
        [H3] = IPAddress.Parse("192.0.2.3"),
    };

    private static Dictionary<LinkId, int> Tags(LabSpec lab) => lab.Links.Select((l, i) => (l.Id, Tag: 100 + i)).ToDictionary(x => x.Id, x => x.Tag);

    private static Dictionary<HostId, OvsVtep> Vteps(HostId host) =>
        new[] { H1, H2, H3 }.Where(h => h != host).ToDictionary(h => h, h => new OvsVtep(h, "vxtest-" + h.Value, 7000u + (uint)h.Value[1]));

    private static OvsHostPart For(LabSpec lab, HostId host, IReadOnlyDictionary<LinkId, int>? tags = null, IReadOnlyDictionary<HostId, OvsVtep>? vteps = null, IReadOnlyDictionary<HostId, IPAddress>? underlays = null) =>
        LabTopology.CompileOvsForHost(lab, host, underlays ?? V4, tags ?? Tags(lab), vteps ?? Vteps(host), HostNs);

    private static string Show(TopologyLink l) =>
        $"{l.Namespace}/{l.Name} {l.Kind} mtu={l.Mtu} peer={l.Peer?.Namespace}/{l.Peer?.Name} vni={l.Vni} local={l.Local} remote={l.Remote} port={l.Port}";

    [Fact]
    public void Each_host_gets_its_ends_on_the_bridge_and_one_vtep_per_remote_host()
    {
        var lab = LabFile.Valid(Lab);
        var h1 = For(lab, H1);
        Assert.Equal("lab-otri@h1", h1.Topology.Name);
        Assert.Equal(["otri-a1", "otri-a2", HostNs], h1.Topology.Namespaces.Select(n => n.Name));
        string Port(string node, string linux) => OvsFabric.PortOf("otri", lab.Links.SelectMany(l => new[] { l.A, l.B }).Single(e => e.Node == node && e.Linux == linux));
        Assert.Equal(
        [
            $"{HostNs}/{Port("a1", "eth1")} Veth mtu= peer=otri-a1/eth1 vni= local= remote= port=",
            $"{HostNs}/{Port("a2", "eth1")} Veth mtu= peer=otri-a2/eth1 vni= local= remote= port=",
            $"{HostNs}/{Port("a1", "eth2")} Veth mtu=1450 peer=otri-a1/eth2 vni= local= remote= port=",
            $"{HostNs}/{Port("a2", "eth2")} Veth mtu=8950 peer=otri-a2/eth2 vni= local= remote= port=",
            $"{HostNs}/vxtest-h2 Vxlan mtu=8950 peer=/ vni=7050 local=192.0.2.1 remote=192.0.2.2 port=4789",
        ], h1.Topology.Links.Select(Show));
        Assert.Equal(OvsFabric.BridgeOf("otri"), h1.Bridge.Name);
        Assert.Equal(
            [$"{Port("a1", "eth1")}=100/", $"{Port("a2", "eth1")}=100/", $"{Port("a1", "eth2")}=101/", $"{Port("a2", "eth2")}=102/", "vxtest-h2=/101,102"],
            h1.Bridge.Ports.Select(p => $"{p.Name}={p.Tag}/{string.Join(",", p.Trunks)}"));
        Assert.Equal([H2], h1.Trunks.Keys);

        // h2 has two VTEPs (to h1 and h3), each carrying only its own links' tags; no VTEP to a host with no link.
        var h2 = For(lab, H2);
        Assert.Equal(["vxtest-h1=/101,102", "vxtest-h3=/103"], h2.Bridge.Ports.Where(p => p.Tag is null).Select(p => $"{p.Name}=/{string.Join(",", p.Trunks)}"));
        var h3 = For(lab, H3);
        Assert.Equal(["vxtest-h2"], h3.Topology.Links.Where(l => l.Kind == TopologyLinkKind.Vxlan).Select(l => l.Name));
    }

    [Fact]
    public void The_last_link_to_a_host_gone_takes_its_vtep_and_underlay_mode_keeps_the_mtu()
    {
        var lab = LabFile.Valid(Lab);
        var without = lab with { Links = [.. lab.Links.Where(l => l.B.Node != "c1")] };
        var h2 = For(without, H2);
        Assert.Equal(["vxtest-h1"], h2.Topology.Links.Where(l => l.Kind == TopologyLinkKind.Vxlan).Select(l => l.Name));
        Assert.DoesNotContain(h2.Bridge.Ports, p => p.Name == "vxtest-h3");
        Assert.Empty(For(without, H3).Bridge.Ports);

        var underlay = lab with { CrossHostMtu = CrossHostMtu.Underlay };
        Assert.Equal([1500, 9000, 9000], For(underlay, H1).Topology.Links.Where(l => l.Mtu is not null).Select(l => l.Mtu!.Value));
    }

    [Fact]
    public void Bad_inputs_name_what_is_wrong()
    {
        var lab = LabFile.Valid(Lab);
        var tags = Tags(lab);
        string Why(Func<OvsHostPart> compile) => Assert.Throws<ArgumentException>(compile).Message;

        Assert.StartsWith($"link {lab.Links[1].Id} has no VLAN tag", Why(() => For(lab, H1, tags: tags.Where(t => t.Key != lab.Links[1].Id).ToDictionary())), StringComparison.Ordinal);
        Assert.StartsWith($"link {lab.Links[0].Id}: VLAN tag 4095 is outside 100..4094", Why(() => For(lab, H1, tags: tags.ToDictionary(t => t.Key, t => t.Key == lab.Links[0].Id ? 4095 : t.Value))), StringComparison.Ordinal);
        Assert.StartsWith($"links {lab.Links[0].Id} and {lab.Links[1].Id} of lab otri both have VLAN tag 100", Why(() => For(lab, H1, tags: tags.ToDictionary(t => t.Key, t => t.Key == lab.Links[1].Id ? 100 : t.Value))), StringComparison.Ordinal);
        Assert.StartsWith($"cross-host link {lab.Links[1].Id}: no VTEP towards host h2", Why(() => For(lab, H1, vteps: new Dictionary<HostId, OvsVtep>())), StringComparison.Ordinal);
        Assert.StartsWith("host h2 has no underlay address", Why(() => For(lab, H1, underlays: V4.Where(u => u.Key != H2).ToDictionary())), StringComparison.Ordinal);
        Assert.Contains("different address families", Why(() => For(lab, H1, underlays: new Dictionary<HostId, IPAddress>(V4) { [H2] = IPAddress.Parse("2001:db8::2") })), StringComparison.Ordinal);
        Assert.StartsWith("the VTEP towards host h2: VNI 0 is outside", Why(() => For(lab, H1, vteps: new Dictionary<HostId, OvsVtep> { [H2] = new(H2, "vxtest-h2", 0) })), StringComparison.Ordinal);
        Assert.StartsWith("lab otri is on the veth fabric: compiled by CompileForHost", Why(() => For(lab with { Fabric = LabFabric.Veth }, H1)), StringComparison.Ordinal);
        Assert.StartsWith("lab otri places no node on a host", Why(() => For(lab with { Nodes = [.. lab.Nodes.Select(n => n with { Host = null })] }, H1)), StringComparison.Ordinal);
    }
}
