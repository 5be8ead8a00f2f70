using System.Net;
using Aether.Labs.Tests.Files;
using Aether.Topology;

namespace Aether.Labs.Tests.Placement;

/// <summary>The topology each host's agent applies for a placed lab: its nodes, veth pairs inside the host, a VXLAN
/// for each local end of a cross-host link, the two ends of each tunnel mirror images.</summary>
public sealed class CompileForHostTests
{
    /// <summary>Three hosts: a1 and a2 on h1, b1 on h2, c1 on h3; one link inside h1 and one between each pair of
    /// hosts (h2-h3 at MTU 9000).</summary>
    private const string Tri = """
        name: tri
        nodes:
          a1: { kind: linux, host: h1 }
          a2: { kind: linux, host: h1 }
          b1: { kind: arista_ceos, host: h2 }
          c1: { kind: juniper_vmx, host: h3, namespace: aetc1 }
        links:
          - endpoints: [a1:eth1, a2:eth1]
          - endpoints: [a1:eth2, b1:Ethernet1]
          - endpoints: [b1:Ethernet2, c1:ge-0/0/0]
            mtu: 9000
          - endpoints: [c1:ge-0/0/1, a2:eth2]

        """;

    private const string HostNs = "aetunderlayns";

    private static readonly HostId H1 = HostId.Parse("h1");
    private static readonly HostId H2 = HostId.Parse("h2");
    private static readonly HostId H3 = HostId.Parse("h3");

    private static readonly Dictionary<HostId, IPAddress> V4 = new()
    {
        [H1] = IPAddress.Parse("192.0.2.1"),
        [H2] = IPAddress.Parse("192.0.2.2"),
        [H3] = IPAddress.Parse("192.0.2.3"),
    };

    private static Dictionary<LinkId, uint> Vnis(LabSpec lab) =>
        lab.Links.Select((l, i) => (l.Id, Vni: (uint)(5000 + i))).ToDictionary(x => x.Id, x => x.Vni);

    private static TopologySpec For(LabSpec lab, HostId host, IReadOnlyDictionary<HostId, IPAddress>? underlays = null, IReadOnlySet<LinkId>? excluded = null, IReadOnlySet<LinkId>? down = null) =>
        LabTopology.CompileForHost(lab, host, underlays ?? V4, Vnis(lab), HostNs, excluded, down);

    /// <summary>A link as comparable text: every field that matters to the apply.</summary>
    private static string Show(TopologyLink l) =>
        $"{l.Namespace}/{l.Name} {l.Kind} up={l.Up} mtu={l.Mtu} peer={l.Peer?.Namespace}/{l.Peer?.Name} vni={l.Vni} local={l.Local} remote={l.Remote} port={l.Port} underlay={(l.Underlay is null ? "-" : l.Underlay.Namespace ?? "host")} master={l.Master} parent={l.Parent} addrs={l.Addresses.Count}";

    [Fact]
    public void Each_host_gets_its_nodes_and_its_ends()
    {
        var lab = LabFile.Valid(Tri);

        var h1 = For(lab, H1);
        Assert.Equal("lab-tri@h1", h1.Name);
        Assert.Equal(["tri-a1", "tri-a2", "aetunderlayns"], h1.Namespaces.Select(n => n.Name)); // the host's, where its tunnels run
        Assert.Equal(
        [
            "tri-a1/eth1 Veth up=True mtu= peer=tri-a2/eth1 vni= local= remote= port= underlay=- master= parent= addrs=0",
            "tri-a1/eth2 Vxlan up=True mtu=1450 peer=/ vni=5001 local=192.0.2.1 remote=192.0.2.2 port=4789 underlay=aetunderlayns master= parent= addrs=0",
            "tri-a2/eth2 Vxlan up=True mtu=1450 peer=/ vni=5003 local=192.0.2.1 remote=192.0.2.3 port=4789 underlay=aetunderlayns master= parent= addrs=0",
        ], h1.Links.Select(Show));

        var h2 = For(lab, H2);
        Assert.Equal("lab-tri@h2", h2.Name);
        Assert.Equal(["tri-b1", "aetunderlayns"], h2.Namespaces.Select(n => n.Name));
        Assert.Equal(
        [
            "tri-b1/eth1 Vxlan up=True mtu=1450 peer=/ vni=5001 local=192.0.2.2 remote=192.0.2.1 port=4789 underlay=aetunderlayns master= parent= addrs=0",
            "tri-b1/eth2 Vxlan up=True mtu=8950 peer=/ vni=5002 local=192.0.2.2 remote=192.0.2.3 port=4789 underlay=aetunderlayns master= parent= addrs=0",
        ], h2.Links.Select(Show));

        var h3 = For(lab, H3);
        Assert.Equal(["aetc1", "aetunderlayns"], h3.Namespaces.Select(n => n.Name));
        Assert.Equal(["aetc1/eth1", "aetc1/eth2"], h3.Links.Select(l => l.Namespace + "/" + l.Name));
        Assert.All(h3.Links, l => Assert.Equal(TopologyLinkKind.Vxlan, l.Kind));
    }

    [Fact]
    public void The_two_ends_of_every_cross_host_link_are_mirror_images()
    {
        var lab = LabFile.Valid(Tri);
        var byHost = lab.Hosts.ToDictionary(h => h, h => For(lab, h));
        Assert.Equal(3, lab.CrossHostLinks.Count);
        foreach (var link in lab.CrossHostLinks)
        {
            var (ha, hb) = (lab.HostOf(link.A)!.Value, lab.HostOf(link.B)!.Value);
            var a = Assert.Single(byHost[ha].Links, l => l.Name == link.A.Linux && l.Namespace == lab.Node(link.A.Node).Namespace);
            var b = Assert.Single(byHost[hb].Links, l => l.Name == link.B.Linux && l.Namespace == lab.Node(link.B.Node).Namespace);
            Assert.Equal((TopologyLinkKind.Vxlan, TopologyLinkKind.Vxlan), (a.Kind, b.Kind));
            Assert.Equal(a.Vni, b.Vni);
            Assert.Equal((a.Local, a.Remote), (b.Remote, b.Local));
            Assert.Equal((V4[ha], V4[hb]), (a.Local, a.Remote));
            Assert.Equal((a.Port, a.Mtu, a.Underlay), (b.Port, b.Mtu, b.Underlay));
            Assert.Null(a.Peer);
        }

        // Every end of every link is made exactly once across the three hosts.
        var ends = byHost.Values.SelectMany(t => t.Links.SelectMany(l => l.Peer is null ? [l.Namespace + "/" + l.Name] : new[] { l.Namespace + "/" + l.Name, l.Peer.Namespace + "/" + l.Peer.Name })).ToList();
        var expected = lab.Links.SelectMany(l => new[] { l.A, l.B }).Select(e => lab.Node(e.Node).Namespace + "/" + e.Linux).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), ends.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_link_with_both_ends_on_one_host_stays_the_veth_compile_makes()
    {
        var lab = LabFile.Valid(Tri);
        var local = Assert.Single(For(lab, H1).Links, l => l.Kind == TopologyLinkKind.Veth);
        var whole = LabTopology.Compile(lab).Links[0];
        Assert.Equal(Show(whole), Show(local));
    }

    [Fact]
    public void A_lab_on_one_host_compiles_as_compile_does()
    {
        var text = Tri.Replace("host: h2", "host: h1", StringComparison.Ordinal).Replace("host: h3", "host: h1", StringComparison.Ordinal);
        var lab = LabFile.Valid(text);
        var one = LabTopology.CompileForHost(lab, H1, new Dictionary<HostId, IPAddress>(), new Dictionary<LinkId, uint>(), null);
        var whole = LabTopology.Compile(lab);
        Assert.Equal(whole.Namespaces.Select(n => n.Name), one.Namespaces.Select(n => n.Name));
        Assert.Equal(whole.Links.Select(Show), one.Links.Select(Show));
        Assert.Equal("lab-tri@h1", one.Name);
        Assert.Equal("lab-tri", whole.Name);
    }

    [Fact]
    public void Placement_does_not_change_what_compile_makes_of_a_lab()
    {
        var unplaced = LabFile.Valid(Tri.Replace(", host: h1", "", StringComparison.Ordinal).Replace(", host: h2", "", StringComparison.Ordinal).Replace(", host: h3", "", StringComparison.Ordinal));
        Assert.False(unplaced.IsPlaced);
        var before = LabTopology.Compile(unplaced);
        var placed = LabTopology.Compile(LabFile.Valid(Tri));
        Assert.Equal(before.Name, placed.Name);
        Assert.Equal(before.Namespaces.Select(n => n.Name), placed.Namespaces.Select(n => n.Name));
        Assert.Equal(before.Links.Select(Show), placed.Links.Select(Show));
        Assert.All(before.Links, l => Assert.Equal(TopologyLinkKind.Veth, l.Kind));
        Assert.Equal(4, before.Links.Count);
    }

    [Fact]
    public void A_lab_without_hosts_is_not_compiled_per_host()
    {
        var unplaced = LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux }\n");
        var e = Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(unplaced, H1, V4, new Dictionary<LinkId, uint>(), null));
        Assert.Contains("places no node on a host", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_the_underlay_setting_the_interface_keeps_the_link_mtu()
    {
        var lab = LabFile.Valid(Tri + "cross_host: { mtu: underlay }\n");
        Assert.Equal([1500, 9000], For(lab, H2).Links.Select(l => l.Mtu!.Value));
        Assert.Equal(9050, lab.UnderlayMtu(lab.Links[2], System.Net.Sockets.AddressFamily.InterNetwork));
        Assert.Equal(9000, LabFile.Valid(Tri).UnderlayMtu(lab.Links[2], System.Net.Sockets.AddressFamily.InterNetwork));
    }

    [Fact]
    public void An_ipv6_underlay_takes_70_bytes()
    {
        var lab = LabFile.Valid(Tri);
        var v6 = new Dictionary<HostId, IPAddress> { [H1] = IPAddress.Parse("2001:db8::1"), [H2] = IPAddress.Parse("2001:db8::2"), [H3] = IPAddress.Parse("2001:db8::3") };
        var h2 = For(lab, H2, v6);
        Assert.Equal([1430, 8930], h2.Links.Select(l => l.Mtu!.Value));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), h2.Links[0].Remote);
    }

    [Fact]
    public void The_host_namespace_null_means_the_host()
    {
        var lab = LabFile.Valid(Tri);
        var h3 = LabTopology.CompileForHost(lab, H3, V4, Vnis(lab), null);
        Assert.All(h3.Links, l => Assert.Equal(new VxlanUnderlay(null), l.Underlay));
    }

    [Fact]
    public void Down_and_excluded_links_as_compile_treats_them()
    {
        var lab = LabFile.Valid(Tri);
        var (toB, toC) = (lab.Links[1].Id, lab.Links[3].Id);
        var h1 = For(lab, H1, excluded: new HashSet<LinkId> { toC }, down: new HashSet<LinkId> { toB, lab.Links[0].Id });
        Assert.Equal(["eth1 False", "eth2 False"], h1.Links.Select(l => $"{l.Name} {l.Up}"));
        Assert.Equal(["tri-a1", "tri-a1"], h1.Links.Select(l => l.Namespace));
        var h2 = For(lab, H2, down: new HashSet<LinkId> { toB });
        Assert.Equal([false, true], h2.Links.Select(l => l.Up));
    }

    [Fact]
    public void A_host_without_nodes_gets_an_empty_topology()
    {
        var lab = LabFile.Valid(Tri);
        var none = For(lab, HostId.Parse("h9"));
        Assert.Equal("lab-tri@h9", none.Name);
        Assert.Empty(none.Namespaces);
        Assert.Empty(none.Links);
    }

    [Fact]
    public void Missing_or_unusable_inputs_are_refused_naming_them()
    {
        var lab = LabFile.Valid(Tri);
        var vnis = Vnis(lab);
        string Refused(IReadOnlyDictionary<HostId, IPAddress> underlays, IReadOnlyDictionary<LinkId, uint> v) =>
            Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(lab, H1, underlays, v, null)).Message;

        Assert.Contains("host h2 has no underlay address (needed by cross-host link a1:eth2-b1:eth1)", Refused(V4.Where(kv => kv.Key != H2).ToDictionary(), vnis), StringComparison.Ordinal);
        Assert.Contains("host h1 has no underlay address", Refused(V4.Where(kv => kv.Key != H1).ToDictionary(), vnis), StringComparison.Ordinal);
        Assert.Contains("cross-host link a2:eth2-c1:eth2 has no VNI", Refused(V4, vnis.Where(kv => kv.Key != lab.Links[3].Id).ToDictionary()), StringComparison.Ordinal);
        Assert.Contains("VNI 0 is outside 1..16777215", Refused(V4, new Dictionary<LinkId, uint>(vnis) { [lab.Links[1].Id] = 0 }), StringComparison.Ordinal);
        Assert.Contains("VNI 16777216 is outside", Refused(V4, new Dictionary<LinkId, uint>(vnis) { [lab.Links[1].Id] = 16777216 }), StringComparison.Ordinal);
        Assert.Contains("both have VNI 7 on host h1", Refused(V4, new Dictionary<LinkId, uint>(vnis) { [lab.Links[1].Id] = 7, [lab.Links[3].Id] = 7 }), StringComparison.Ordinal);
        Assert.Contains("different address families", Refused(new Dictionary<HostId, IPAddress>(V4) { [H2] = IPAddress.Parse("2001:db8::2") }, vnis), StringComparison.Ordinal);
        Assert.Contains("239.1.1.1 is not a unicast address", Refused(new Dictionary<HostId, IPAddress>(V4) { [H2] = IPAddress.Parse("239.1.1.1") }, vnis), StringComparison.Ordinal);
        Assert.Contains("0.0.0.0 is not a unicast address", Refused(new Dictionary<HostId, IPAddress>(V4) { [H1] = IPAddress.Any }, vnis), StringComparison.Ordinal);

        // A host whose links all stay inside it needs neither underlay nor VNI; a link that does not touch the host
        // needs nothing from it.
        var h2Only = LabTopology.CompileForHost(lab, H2, V4.Where(kv => kv.Key != H1).ToDictionary(), vnis.Where(kv => kv.Key != lab.Links[1].Id).ToDictionary(), null, excluded: new HashSet<LinkId> { lab.Links[1].Id });
        Assert.Single(h2Only.Links);
    }

    [Fact]
    public void A_placed_lab_on_the_ovs_fabric_is_sent_to_the_ovs_compile()
    {
        var lab = LabFile.Valid(Tri) with { Fabric = LabFabric.Ovs };
        Assert.Contains("lab tri is on the ovs fabric: compiled by CompileOvsForHost", Assert.Throws<ArgumentException>(() => For(lab, H1)).Message, StringComparison.Ordinal);
    }
}
