using System.Net;
using System.Net.Sockets;
using Aether.Labs.Tests.Files;
using Aether.Topology;
using Aether.WireGuard;

namespace Aether.Labs.Tests.Placement;

/// <summary><c>transport: wireguard</c>: on a link or as the lab's default in <c>cross_host</c>, its refusals, its
/// MTU, and what a host's compile makes of it (one WireGuard device per remote host, the links' VXLANs between the
/// tunnel's inner addresses).</summary>
public sealed class TransportFileTests
{
    /// <summary>r1 on h1; r2 and s1 on h2 (lines 2 to 5), links from line 6.</summary>
    private const string Placed = "name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\n  s1: { kind: linux, host: h2 }\n";

    private static readonly HostId H1 = HostId.Parse("h1");
    private static readonly HostId H2 = HostId.Parse("h2");

    [Fact]
    public void Links_take_the_labs_transport_unless_they_name_their_own()
    {
        var lab = LabFile.Valid(Placed + "cross_host: { transport: wireguard }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, s1:eth1]\n    transport: vxlan\n");
        Assert.Equal(CrossHostTransport.WireGuard, lab.CrossHostTransport);
        Assert.Equal([CrossHostTransport.WireGuard, CrossHostTransport.Vxlan], lab.Links.Select(lab.TransportOf));
        Assert.Equal(CrossHostTransport.Vxlan, LabFile.Valid(Placed + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n").CrossHostTransport);

        // Written back, read back the same.
        var again = LabFile.Valid(LabWriter.Write(lab));
        Assert.Equal(lab.Links.Select(lab.TransportOf), again.Links.Select(again.TransportOf));
        Assert.Equal(CrossHostTransport.WireGuard, again.CrossHostTransport);
    }

    [Fact]
    public void The_mtu_makes_room_for_vxlan_inside_wireguard()
    {
        var lab = LabFile.Valid(Placed + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: wireguard\n  - endpoints: [r1:eth2, r2:eth2]\n");
        Assert.Equal(1390, lab.InterfaceMtu(lab.Links[0], AddressFamily.InterNetwork)); // 1500 - 50 - 60
        Assert.Equal(1370, lab.InterfaceMtu(lab.Links[0], AddressFamily.InterNetworkV6)); // 1500 - 50 - 80
        Assert.Equal(1450, lab.InterfaceMtu(lab.Links[1], AddressFamily.InterNetwork));
        Assert.Equal(1500, lab.UnderlayMtu(lab.Links[0], AddressFamily.InterNetwork));

        // 177 leaves 67 under lower: refused, naming the overhead; 178 leaves 68.
        LabFile.Error(Placed + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: wireguard\n    mtu: 177\n", 9, 10, "links[0].mtu",
            "177 does not fit a cross-host link (r1 on h1, r2 on h2): cross_host.mtu lower takes VXLAN in WireGuard's 110 bytes off it, leaving 67, below 68; allowed here: 178..65535");
        Assert.Equal(68, LabFile.Valid(Placed + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: wireguard\n    mtu: 178\n") is var ok ? ok.InterfaceMtu(ok.Links[0], AddressFamily.InterNetwork) : 0);
    }

    [Fact]
    public void Transport_is_refused_where_it_cannot_apply()
    {
        LabFile.Error("name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\nlinks:\n  - endpoints: [a:eth1, b:eth1]\n    transport: wireguard\n", 7, 16, "links[0].transport",
            "applies to a link between hosts (a lab whose nodes are placed with host: ID); no node here has a host");
        LabFile.Error("name: x\nfabric: ovs\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: wireguard\n", 8, 16, "links[0].transport",
            "the ovs fabric carries links between hosts through its VTEPs (VXLAN); transport: wireguard is for the veth fabric");
        Assert.Contains(LabFile.Errors(Placed + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: ipsec\n"), e => e.Contains("links[0].transport", StringComparison.Ordinal) && e.Contains("vxlan, wireguard", StringComparison.Ordinal));
        Assert.Contains(LabFile.Errors("name: x\nfabric: ovs\nnodes:\n  r1: { kind: linux, host: h1 }\ncross_host: { transport: wireguard }\n"), e => e.Contains("cross_host.transport", StringComparison.Ordinal));
    }

    [Fact]
    public void A_host_compiles_one_tunnel_per_remote_host_and_vxlans_inside_it()
    {
        var lab = LabFile.Valid("name: x\ncross_host: { transport: wireguard }\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\n  r3: { kind: linux, host: h3 }\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r2:eth2]\n    mtu: 9000\n  - endpoints: [r1:eth3, r3:eth1]\n    transport: vxlan\n");
        var h3 = HostId.Parse("h3");
        var underlays = new Dictionary<HostId, IPAddress> { [H1] = IPAddress.Parse("192.0.2.1"), [H2] = IPAddress.Parse("192.0.2.2"), [h3] = IPAddress.Parse("192.0.2.3") };
        var vnis = lab.Links.Select((l, i) => (l.Id, Vni: (uint)(5000 + i))).ToDictionary(x => x.Id, x => x.Vni);
        var (k1, k2) = (WireGuardSecretKey.GeneratePrivate(), WireGuardSecretKey.GeneratePrivate());
        var keys = new Dictionary<HostId, WireGuardKey> { [H1] = k1.GetPublicKey(), [H2] = k2.GetPublicKey() };

        var spec = LabTopology.CompileForHost(lab, H1, underlays, vnis, "aethostns", wireguard: new HostWireGuard(k1, keys, new Dictionary<HostId, int> { [H2] = 7 }));

        Assert.Equal(["eth1 Vxlan 169.254.64.14>169.254.64.15 1390", "eth2 Vxlan 169.254.64.14>169.254.64.15 8890", "eth3 Vxlan 192.0.2.1>192.0.2.3 1450"],
            spec.Links.Where(l => l.Kind == TopologyLinkKind.Vxlan).Select(l => $"{l.Name} {l.Kind} {l.Local}>{l.Remote} {l.Mtu}"));
        var tunnel = Assert.Single(spec.Links, l => l.Kind == TopologyLinkKind.WireGuard);
        Assert.Equal(CrossHostWireGuard.DeviceName("x", H1, H2), tunnel.Name);
        Assert.Equal("aethostns", tunnel.Namespace);
        Assert.Equal(8940, tunnel.Mtu); // the largest inner MTU + VXLAN's 50
        Assert.Equal(["169.254.64.14/31"], tunnel.Addresses.Select(a => a.ToString()));
        Assert.Equal(k1, tunnel.WireGuard!.PrivateKey);
        Assert.Equal((ushort)51827, tunnel.WireGuard.ListenPort);
        var peer = Assert.Single(tunnel.WireGuard.Peers);
        Assert.Equal(k2.GetPublicKey(), peer.PublicKey);
        Assert.Equal("192.0.2.2:51827", peer.Endpoint!.ToString());
        Assert.Equal(["169.254.64.15/32"], peer.AllowedIPs.Select(a => a.ToString()));

        // The other host's compile is the mirror image: its own key, the same port, the other address of the /31.
        var other = LabTopology.CompileForHost(lab, H2, underlays, vnis, "aethostns", wireguard: new HostWireGuard(k2, keys, new Dictionary<HostId, int> { [H1] = 7 }));
        var mirror = Assert.Single(other.Links, l => l.Kind == TopologyLinkKind.WireGuard);
        Assert.Equal(["169.254.64.15/31"], mirror.Addresses.Select(a => a.ToString()));
        Assert.Equal("192.0.2.1:51827", mirror.WireGuard!.Peers[0].Endpoint!.ToString());
        Assert.NotEqual(tunnel.Name, mirror.Name);

        // Missing keys or slot: refused, naming what is missing.
        Assert.Contains("was given no WireGuard keys", Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(lab, H1, underlays, vnis, "aethostns")).Message, StringComparison.Ordinal);
        Assert.Contains("no WireGuard tunnel is allotted between hosts h1 and h2", Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(lab, H1, underlays, vnis, "aethostns", wireguard: new HostWireGuard(k1, keys, new Dictionary<HostId, int>()))).Message, StringComparison.Ordinal);
        Assert.Contains("host h2 has published no WireGuard public key", Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(lab, H1, underlays, vnis, "aethostns", wireguard: new HostWireGuard(k1, new Dictionary<HostId, WireGuardKey>(), new Dictionary<HostId, int> { [H2] = 7 }))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slots_give_ports_and_inner_addresses_and_names_fit()
    {
        Assert.Equal((ushort)51820, CrossHostWireGuard.PortOf(0));
        Assert.Equal((ushort)55915, CrossHostWireGuard.PortOf(4095));
        Assert.Equal("169.254.64.0", CrossHostWireGuard.InnerAddress(0, H1, H2).ToString());
        Assert.Equal("169.254.64.1", CrossHostWireGuard.InnerAddress(0, H2, H1).ToString());
        Assert.Equal("169.254.95.255", CrossHostWireGuard.InnerAddress(4095, H2, H1).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => CrossHostWireGuard.PortOf(4096));
        var name = CrossHostWireGuard.DeviceName("a-very-long-lab-name", H1, H2);
        Assert.Equal(15, name.Length);
        Assert.StartsWith("a-very", name, StringComparison.Ordinal);
        Assert.NotEqual(name, CrossHostWireGuard.DeviceName("a-very-long-lab-name", H2, H1));
    }
}
