using System.Net;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class LinkSpecValidationTests
{
    private static readonly LinkSpec Valid = new("veth-host", new Veth("veth-ns")) { Mtu = 1500, MacAddress = "02:00:00:00:00:01", Alias = "aether" };

    [Fact]
    public void Valid_specs_pass()
    {
        Valid.Validate();
        new LinkSpec("br0", new Bridge { Stp = true }).Validate();
        new LinkSpec("vx0", new Vxlan(100) { Remote = IPAddress.Parse("192.0.2.1"), Port = 4789 }).Validate();
        new LinkSpec("mv0", new Macvlan()) { ParentIndex = 2 }.Validate();
    }

    [Fact]
    public void Bad_name() => Rejects.With(() => (Valid with { Name = "bad/name" }).Validate(), "Name", "'bad/name'");

    [Theory]
    [InlineData(67)]
    [InlineData(65536)]
    [InlineData(-1)]
    public void Bad_mtu(int mtu) => Rejects.With(() => (Valid with { Mtu = mtu }).Validate(), "Mtu", $"MTU {mtu}");

    [Fact]
    public void Bad_mac() => Rejects.With(() => (Valid with { MacAddress = "zz:00" }).Validate(), "MacAddress", "'zz:00'");

    [Fact]
    public void Long_alias() => Rejects.With(() => (Valid with { Alias = new string('a', 300) }).Validate(), "Alias", "300");

    [Fact]
    public void Negative_master() => Rejects.With(() => (Valid with { MasterIndex = -2 }).Validate(), "MasterIndex", "-2");

    [Fact]
    public void Non_positive_parent() => Rejects.With(() => (Valid with { ParentIndex = -3 }).Validate(), "ParentIndex", "-3");

    [Fact]
    public void Non_positive_index() => Rejects.With(() => (Valid with { Index = -7 }).Validate(), "Index", "-7");

    [Fact]
    public void Macvlan_without_parent() => Rejects.With(() => new LinkSpec("mv0", new Macvlan()).Validate(), "ParentIndex", "'mv0'");

    [Fact]
    public void Bad_macvlan_mode() =>
        Rejects.With(() => new LinkSpec("mv0", new Macvlan((MacvlanMode)3)) { ParentIndex = 2 }.Validate(), "Mode", "3");

    [Fact]
    public void Bad_veth_peer_name() => Rejects.With(() => (Valid with { Kind = new Veth("peer name") }).Validate(), "PeerName", "'peer name'");

    [Fact]
    public void Bad_veth_peer_mtu() => Rejects.With(() => (Valid with { Kind = new Veth("p") { PeerMtu = 20 } }).Validate(), "PeerMtu", "20");

    [Fact]
    public void Bad_veth_peer_mac() =>
        Rejects.With(() => (Valid with { Kind = new Veth("p") { PeerMacAddress = "nope" } }).Validate(), "PeerMacAddress", "'nope'");

    [Fact]
    public void Vxlan_id_over_24_bits() => Rejects.With(() => new LinkSpec("vx0", new Vxlan(0x1000000)).Validate(), "Id", "16777216");

    [Fact]
    public void Vxlan_unicast_group() =>
        Rejects.With(() => new LinkSpec("vx0", new Vxlan(1) { Group = IPAddress.Parse("10.0.0.1"), UnderlayIndex = 2 }).Validate(), "Group", "10.0.0.1");

    [Fact]
    public void Vxlan_multicast_remote() =>
        Rejects.With(() => new LinkSpec("vx0", new Vxlan(1) { Remote = IPAddress.Parse("239.1.1.1") }).Validate(), "Remote", "239.1.1.1");

    [Fact]
    public void Vxlan_port_zero() => Rejects.With(() => new LinkSpec("vx0", new Vxlan(1) { Port = 0 }).Validate(), "Port", "port 0");

    [Fact]
    public void Tun_cannot_be_created_over_rtnetlink() =>
        Assert.Throws<NotSupportedException>(() => new LinkSpec("tun0", new Tun()).Validate());
}
