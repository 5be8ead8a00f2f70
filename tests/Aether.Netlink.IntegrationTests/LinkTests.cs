using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>Links inside test namespaces, created and changed through Aether, checked with <c>ip -j -d link show</c>;
/// and the reverse: created with <c>ip</c>, read with Aether.</summary>
public sealed class LinkTests : SandboxTest
{
    private NetworkNamespace _ns = null!;
    private NetlinkHandle _h = null!;

    private string Ns => _ns.Name!;

    protected override Task SetUpAsync()
    {
        _ns = Box.CreateNamespace("l");
        _h = Box.OpenAt(_ns);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Veth_with_both_ends_in_the_namespace()
    {
        string a = Box.Name("va"), b = Box.Name("vb");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(b)));

        var ipA = await Ip.RequireLinkAsync(Ns, a);
        var ipB = await Ip.RequireLinkAsync(Ns, b);
        Assert.Equal("veth", Ip.InfoKind(ipA));
        Assert.Equal("veth", Ip.InfoKind(ipB));
        Assert.Equal(b, Ip.Str(ipA, "link")); // ip names the peer when it is in the same namespace
        Assert.Equal(a, Ip.Str(ipB, "link"));

        var la = await _h.GetLinkAsync(a);
        var lb = await _h.GetLinkAsync(b);
        Assert.Equal("veth", la.Kind);
        Assert.IsType<Veth>(la.KindData);
        Assert.Equal(Ip.Int(ipA, "ifindex"), la.Index);
        Assert.Equal(lb.Index, la.LinkIndex);
        Assert.Equal(la.Index, lb.LinkIndex);
        Assert.Null(la.LinkNetNsId);
        Assert.Null(await Ip.LinkAsync(null, a));

        // Deleting one end deletes the pair.
        await _h.DeleteLinkAsync(a);
        var names = await Ip.LinkNamesAsync(Ns);
        Assert.DoesNotContain(a, names);
        Assert.DoesNotContain(b, names);
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => _h.GetLinkAsync(a));
        Assert.Equal(Errno.ENODEV, ex.Errno);
        Assert.Null(await _h.FindLinkAsync(b));
    }

    [Fact]
    public async Task Veth_with_the_peer_created_directly_in_another_namespace()
    {
        using var other = Box.CreateNamespace("o");
        var h2 = Box.OpenAt(other);
        string a = Box.Name("va"), b = Box.Name("vb");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(b) { PeerNamespace = other }));

        Assert.DoesNotContain(b, await Ip.LinkNamesAsync(Ns));
        var ipA = await Ip.RequireLinkAsync(Ns, a);
        var ipB = await Ip.RequireLinkAsync(other.Name!, b);
        var ids = await Ip.JsonAsync(Ns, "netns", "list-id");
        var otherId = Assert.Single(ids, e => Ip.Str(e, "name") == other.Name).GetProperty("nsid").GetInt32();

        Assert.Equal(Ip.Int(ipB, "ifindex"), Ip.Int(ipA, "link_index"));
        Assert.Equal(otherId, Ip.Int(ipA, "link_netnsid"));

        var la = await _h.GetLinkAsync(a);
        var lb = await h2.GetLinkAsync(b);
        Assert.Equal("veth", la.Kind);
        Assert.Equal(lb.Index, la.LinkIndex);
        Assert.Equal(otherId, la.LinkNetNsId);
        Assert.Equal(otherId, await _h.GetNsIdAsync(other));
        Assert.Equal(Ip.Int(ipB, "link_netnsid"), lb.LinkNetNsId);
        Assert.Equal(la.Index, lb.LinkIndex);

        await h2.DeleteLinkAsync(lb.Index);
        Assert.DoesNotContain(a, await Ip.LinkNamesAsync(Ns));
    }

    [Fact]
    public async Task Host_veth_with_its_peer_in_a_test_namespace()
    {
        using var host = Box.Own(NetlinkHandle.Open());
        var a = Box.TrackHostLink(Box.Name("h"));
        var b = Box.Name("hp");
        await host.CreateLinkAsync(new LinkSpec(a, new Veth(b) { PeerNamespace = _ns }) { Up = true });
        await _h.SetUpAsync(b);

        var ipA = await Ip.RequireLinkAsync(null, a);
        var ipB = await Ip.RequireLinkAsync(Ns, b);
        Assert.Equal("veth", Ip.InfoKind(ipA));
        Assert.Equal(Ip.Int(ipB, "ifindex"), Ip.Int(ipA, "link_index"));
        Assert.Contains("UP", Ip.Flags(ipA));
        Assert.Contains("UP", Ip.Flags(ipB));
        Assert.DoesNotContain(b, await Ip.LinkNamesAsync(null));

        var la = await host.GetLinkAsync(a);
        Assert.Equal(Ip.Int(ipB, "ifindex"), la.LinkIndex);
        Assert.Equal(Ip.Int(ipA, "link_netnsid"), la.LinkNetNsId);
        Assert.Equal(await host.GetNsIdAsync(_ns), la.LinkNetNsId);
        Assert.True(la.IsUp);

        await host.DeleteLinkAsync(a);
        Assert.Null(await Ip.LinkAsync(null, a));
        Assert.Null(await Ip.LinkAsync(Ns, b));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task Bridge_with_stp(bool stp, int expected)
    {
        var br = Box.Name("br");
        await _h.CreateLinkAsync(new LinkSpec(br, new Bridge { Stp = stp }));

        var ip = await Ip.RequireLinkAsync(Ns, br);
        Assert.Equal("bridge", Ip.InfoKind(ip));
        Assert.Equal(expected, Ip.Int(Ip.InfoData(ip), "stp_state"));

        var link = await _h.GetLinkAsync(br);
        var data = Assert.IsType<Bridge>(link.KindData);
        Assert.Equal(stp, data.Stp);
        Assert.Equal((uint?)Ip.Int(Ip.InfoData(ip), "forward_delay"), data.ForwardDelay);
    }

    [Fact]
    public async Task Vxlan_over_a_veth_underlay()
    {
        string under = Box.Name("u"), vx = Box.Name("vx");
        await _h.CreateLinkAsync(new LinkSpec(under, new Veth(Box.Name("up"))));
        var underlay = await _h.GetLinkAsync(under);
        var spec = new Vxlan(4242)
        {
            Local = IPAddress.Parse("10.77.0.1"),
            Remote = IPAddress.Parse("10.77.0.2"),
            Port = 4789,
            UnderlayIndex = underlay.Index,
        };
        await _h.CreateLinkAsync(new LinkSpec(vx, spec));

        var ip = await Ip.RequireLinkAsync(Ns, vx);
        Assert.Equal("vxlan", Ip.InfoKind(ip));
        var d = Ip.InfoData(ip);
        Assert.Equal(4242, Ip.Int(d, "id"));
        Assert.Equal("10.77.0.1", Ip.Str(d, "local"));
        Assert.Equal("10.77.0.2", Ip.Str(d, "remote"));
        Assert.Equal(4789, Ip.Int(d, "port"));
        Assert.Equal(under, Ip.Str(d, "link"));

        var link = await _h.GetLinkAsync(vx);
        var data = Assert.IsType<Vxlan>(link.KindData);
        Assert.Equal(4242u, data.Id);
        Assert.Equal((ushort)4789, data.Port);
        Assert.Equal(IPAddress.Parse("10.77.0.2"), data.Remote);
        Assert.Equal(IPAddress.Parse("10.77.0.1"), data.Local);
        Assert.Null(data.Group);
        Assert.Equal(underlay.Index, data.UnderlayIndex);
    }

    [Fact]
    public async Task Macvlan_in_bridge_mode_on_a_veth()
    {
        string parent = Box.Name("p"), mv = Box.Name("mv");
        await _h.CreateLinkAsync(new LinkSpec(parent, new Veth(Box.Name("pp"))));
        var p = await _h.GetLinkAsync(parent);
        await _h.CreateLinkAsync(new LinkSpec(mv, new Macvlan(MacvlanMode.Bridge)) { ParentIndex = p.Index });

        var ip = await Ip.RequireLinkAsync(Ns, mv);
        Assert.Equal("macvlan", Ip.InfoKind(ip));
        Assert.Equal("bridge", Ip.Str(Ip.InfoData(ip), "mode"));
        Assert.Equal(parent, Ip.Str(ip, "link"));

        var link = await _h.GetLinkAsync(mv);
        Assert.Equal(MacvlanMode.Bridge, Assert.IsType<Macvlan>(link.KindData).Mode);
        Assert.Equal(p.Index, link.LinkIndex);

        // And a different mode reads back differently, so the check above can fail.
        var mv2 = Box.Name("mw");
        await _h.CreateLinkAsync(new LinkSpec(mv2, new Macvlan(MacvlanMode.Private)) { ParentIndex = p.Index });
        Assert.Equal("private", Ip.Str(Ip.InfoData(await Ip.RequireLinkAsync(Ns, mv2)), "mode"));
        Assert.Equal(MacvlanMode.Private, Assert.IsType<Macvlan>((await _h.GetLinkAsync(mv2)).KindData).Mode);
    }

    [Fact]
    public async Task Delete_by_name_and_by_index_and_ENODEV_when_missing()
    {
        string b1 = Box.Name("d1"), b2 = Box.Name("d2");
        await _h.CreateLinkAsync(new LinkSpec(b1, new Bridge()));
        await _h.CreateLinkAsync(new LinkSpec(b2, new Bridge()));
        var l2 = await _h.GetLinkAsync(b2);

        await _h.DeleteLinkAsync(b1);
        await _h.DeleteLinkAsync(l2.Index);

        var names = await Ip.LinkNamesAsync(Ns);
        Assert.DoesNotContain(b1, names);
        Assert.DoesNotContain(b2, names);
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => _h.DeleteLinkAsync(b1));
        Assert.Equal(Errno.ENODEV, ex.Errno);
        Assert.Contains("delete link " + b1, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_down_operstate_and_carrier()
    {
        string a = Box.Name("a"), b = Box.Name("b");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(b)) { Up = true });
        await _h.SetUpAsync(b);

        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(Ns, a)));
        var ipB = await Ip.RequireLinkAsync(Ns, b);
        Assert.Contains("UP", Ip.Flags(ipB));
        var lb = await WaitForAsync(() => _h.GetLinkAsync(b), l => l.OperState == OperState.Up);
        Assert.True(lb.IsUp);
        Assert.True(lb.IsLowerUp);
        Assert.True(lb.Carrier);
        Assert.Equal("UP", Ip.Str(await Ip.RequireLinkAsync(Ns, b), "operstate"));

        await _h.SetUpAsync(a, up: false);

        var ipA = await Ip.RequireLinkAsync(Ns, a);
        Assert.DoesNotContain("UP", Ip.Flags(ipA));
        Assert.Equal("DOWN", Ip.Str(ipA, "operstate"));
        var la = await _h.GetLinkAsync(a);
        Assert.False(la.IsUp);
        Assert.Equal(OperState.Down, la.OperState);

        lb = await WaitForAsync(() => _h.GetLinkAsync(b), l => l.OperState == OperState.LowerLayerDown);
        Assert.True(lb.IsUp);
        Assert.False(lb.Carrier);
        Assert.False(lb.IsLowerUp);
        ipB = await Ip.RequireLinkAsync(Ns, b);
        Assert.Equal("LOWERLAYERDOWN", Ip.Str(ipB, "operstate"));
        Assert.Contains("NO-CARRIER", Ip.Flags(ipB));
    }

    [Fact]
    public async Task Mtu_alias_and_mac()
    {
        string a = Box.Name("a");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(Box.Name("b"))));

        await _h.SetLinkAsync(a, new LinkChange { Mtu = 1400 });
        await _h.SetLinkAsync(a, new LinkChange { Alias = "aether:owned " + Box.Token });
        await _h.SetLinkAsync(a, new LinkChange { MacAddress = "02:11:22:33:44:55" });

        var ip = await Ip.RequireLinkAsync(Ns, a);
        Assert.Equal(1400, Ip.Int(ip, "mtu"));
        Assert.Equal("aether:owned " + Box.Token, Ip.Str(ip, "ifalias"));
        Assert.Equal("02:11:22:33:44:55", Ip.Str(ip, "address"));

        var link = await _h.GetLinkAsync(a);
        Assert.Equal(1400, link.Mtu);
        Assert.Equal("aether:owned " + Box.Token, link.Alias);
        Assert.Equal("02:11:22:33:44:55", link.MacAddress);

        // Several changes in one request.
        await _h.SetLinkAsync(link.Index, new LinkChange { Mtu = 9000, MacAddress = "02:aa:bb:cc:dd:ee", Up = true });
        ip = await Ip.RequireLinkAsync(Ns, a);
        Assert.Equal(9000, Ip.Int(ip, "mtu"));
        Assert.Equal("02:aa:bb:cc:dd:ee", Ip.Str(ip, "address"));
        Assert.Contains("UP", Ip.Flags(ip));
    }

    [Fact]
    public async Task Rename_by_index_and_by_name()
    {
        string a = Box.Name("r1"), b = Box.Name("r2"), c = Box.Name("r3");
        await _h.CreateLinkAsync(new LinkSpec(a, new Bridge()));
        var index = (await _h.GetLinkAsync(a)).Index;

        await _h.SetLinkAsync(index, new LinkChange { Name = b });
        var names = await Ip.LinkNamesAsync(Ns);
        Assert.Contains(b, names);
        Assert.DoesNotContain(a, names);
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns, b), "ifindex"));

        await _h.SetLinkAsync(b, new LinkChange { Name = c });
        names = await Ip.LinkNamesAsync(Ns);
        Assert.Contains(c, names);
        Assert.DoesNotContain(b, names);
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns, c), "ifindex"));
        Assert.Equal(c, (await _h.GetLinkAsync(index)).Name);
    }

    [Fact]
    public async Task Master_and_nomaster()
    {
        string br = Box.Name("br"), a = Box.Name("a");
        await _h.CreateLinkAsync(new LinkSpec(br, new Bridge()));
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(Box.Name("b"))));
        var bridge = await _h.GetLinkAsync(br);

        await _h.SetLinkAsync(a, new LinkChange { MasterIndex = bridge.Index });
        var ip = await Ip.RequireLinkAsync(Ns, a);
        Assert.Equal(br, Ip.Str(ip, "master"));
        Assert.Equal("bridge", Ip.Str(ip.GetProperty("linkinfo"), "info_slave_kind"));
        var link = await _h.GetLinkAsync(a);
        Assert.Equal(bridge.Index, link.MasterIndex);
        Assert.Equal("bridge", link.PortKind);
        Assert.Equal("veth", link.Kind);

        await _h.SetLinkAsync(a, new LinkChange { MasterIndex = 0 });
        ip = await Ip.RequireLinkAsync(Ns, a);
        Assert.Null(Ip.Str(ip, "master"));
        link = await _h.GetLinkAsync(a);
        Assert.Null(link.MasterIndex);
        Assert.Null(link.PortKind);
    }

    [Fact]
    public async Task Master_at_creation()
    {
        string br = Box.Name("br"), a = Box.Name("a");
        await _h.CreateLinkAsync(new LinkSpec(br, new Bridge()));
        var bridge = await _h.GetLinkAsync(br);
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(Box.Name("b"))) { MasterIndex = bridge.Index, Mtu = 1300, Alias = "made" });

        var ip = await Ip.RequireLinkAsync(Ns, a);
        Assert.Equal(br, Ip.Str(ip, "master"));
        Assert.Equal(1300, Ip.Int(ip, "mtu"));
        Assert.Equal("made", Ip.Str(ip, "ifalias"));
    }

    [Fact]
    public async Task Move_to_another_namespace()
    {
        using var other = Box.CreateNamespace("m");
        var h2 = Box.OpenAt(other);
        string a = Box.Name("ma"), b = Box.Name("mb");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(b)));

        await _h.MoveToNamespaceAsync(a, other);

        Assert.DoesNotContain(a, await Ip.LinkNamesAsync(Ns));
        var ip = await Ip.RequireLinkAsync(other.Name!, a);
        Assert.Equal("veth", Ip.InfoKind(ip));
        Assert.Null(await _h.FindLinkAsync(a));
        var moved = await h2.GetLinkAsync(a);
        Assert.Equal(Ip.Int(ip, "ifindex"), moved.Index);
        Assert.Equal((await _h.GetLinkAsync(b)).Index, moved.LinkIndex);
        Assert.Equal(await h2.GetNsIdAsync(_ns), moved.LinkNetNsId);
        Assert.Equal(Ip.Int(ip, "link_netnsid"), moved.LinkNetNsId);

        // And back, by index.
        await h2.MoveToNamespaceAsync(moved.Index, _ns);
        Assert.Contains(a, await Ip.LinkNamesAsync(Ns));
        Assert.DoesNotContain(a, await Ip.LinkNamesAsync(other.Name!));
        Assert.Equal(b, Ip.Str(await Ip.RequireLinkAsync(Ns, a), "link"));
    }

    [Fact]
    public async Task A_bridge_cannot_leave_its_namespace()
    {
        using var other = Box.CreateNamespace("m");
        var br = Box.Name("br");
        await _h.CreateLinkAsync(new LinkSpec(br, new Bridge()));

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => _h.MoveToNamespaceAsync(br, other));

        Assert.Equal(Errno.EINVAL, ex.Errno);
        Assert.False(string.IsNullOrEmpty(ex.KernelMessage));
        Assert.Contains(br, ex.Message, StringComparison.Ordinal);
        Assert.Contains(br, await Ip.LinkNamesAsync(Ns));
    }

    [Fact]
    public async Task Alias_given_at_creation_is_set()
    {
        var br = Box.Name("al");
        await _h.CreateLinkAsync(new LinkSpec(br, new Bridge()) { Alias = "owned-by " + Box.Token });

        Assert.Equal("owned-by " + Box.Token, Ip.Str(await Ip.RequireLinkAsync(Ns, br), "ifalias"));
        Assert.Equal("owned-by " + Box.Token, (await _h.GetLinkAsync(br)).Alias);

        // Created directly in another namespace: the alias is set there.
        using var other = Box.CreateNamespace("n");
        string a = Box.Name("xa"), b = Box.Name("xb");
        await _h.CreateLinkAsync(new LinkSpec(a, new Veth(b)) { Namespace = other, Alias = "far" });
        Assert.Equal("far", Ip.Str(await Ip.RequireLinkAsync(other.Name!, a), "ifalias"));
        Assert.DoesNotContain(a, await Ip.LinkNamesAsync(Ns));
    }

    [Fact]
    public async Task Veth_created_by_ip_is_read_by_Aether()
    {
        string a = Box.Name("ia"), b = Box.Name("ib");
        await Ip.RunAsync("-n", Ns, "link", "add", a, "mtu", "1450", "type", "veth", "peer", "name", b);
        await Ip.RunAsync("-n", Ns, "link", "set", a, "alias", "from-ip");

        var ipA = await Ip.RequireLinkAsync(Ns, a);
        var ipB = await Ip.RequireLinkAsync(Ns, b);
        var la = await _h.GetLinkAsync(a);
        Assert.Equal("veth", la.Kind);
        Assert.Equal(Ip.Int(ipA, "ifindex"), la.Index);
        Assert.Equal(Ip.Int(ipB, "ifindex"), la.LinkIndex);
        Assert.Equal(1450, la.Mtu);
        Assert.Equal("from-ip", la.Alias);
        Assert.Equal(Ip.Str(ipA, "address"), la.MacAddress);

        var listed = await _h.ListLinksAsync();
        Assert.Equal(
            (await Ip.LinksAsync(Ns)).Select(l => (Ip.Str(l, "ifname"), (int)Ip.Int(l, "ifindex")!)).Order(),
            listed.Select(l => ((string?)l.Name, l.Index)).Order());
    }

    [Theory]
    [InlineData("tap", true)]
    [InlineData("tun", false)]
    public async Task Tun_and_tap_created_by_ip_are_read_by_Aether(string mode, bool isTap)
    {
        var name = Box.Name("t");
        await Ip.RunAsync("-n", Ns, "tuntap", "add", "mode", mode, "name", name);

        var ip = await Ip.RequireLinkAsync(Ns, name);
        Assert.Equal("tun", Ip.InfoKind(ip));
        Assert.Equal(mode, Ip.Str(Ip.InfoData(ip), "type"));

        var link = await _h.GetLinkAsync(name);
        Assert.Equal("tun", link.Kind);
        var tun = Assert.IsType<Tun>(link.KindData);
        Assert.Equal(isTap, tun.IsTap);
        Assert.True(tun.Persist);
    }

    [Fact]
    public async Task Bridge_vxlan_and_macvlan_created_by_ip_are_decoded()
    {
        string br = Box.Name("br"), vx = Box.Name("vx"), mv = Box.Name("mv"), v = Box.Name("v");
        await Ip.RunAsync("-n", Ns, "link", "add", br, "type", "bridge", "stp_state", "1");
        await Ip.RunAsync("-n", Ns, "link", "add", v, "type", "veth", "peer", "name", Box.Name("w"));
        await Ip.RunAsync("-n", Ns, "link", "add", vx, "type", "vxlan", "id", "99", "remote", "10.3.3.3", "local", "10.3.3.1", "dstport", "4790", "dev", v);
        await Ip.RunAsync("-n", Ns, "link", "add", mv, "link", v, "type", "macvlan", "mode", "vepa");

        var links = (await _h.ListLinksAsync()).ToDictionary(l => l.Name, StringComparer.Ordinal);
        Assert.Equal(true, Assert.IsType<Bridge>(links[br].KindData).Stp);
        var x = Assert.IsType<Vxlan>(links[vx].KindData);
        Assert.Equal(99u, x.Id);
        Assert.Equal((ushort)4790, x.Port);
        Assert.Equal(IPAddress.Parse("10.3.3.3"), x.Remote);
        Assert.Equal(IPAddress.Parse("10.3.3.1"), x.Local);
        Assert.Equal(links[v].Index, x.UnderlayIndex);
        Assert.Equal(MacvlanMode.Vepa, Assert.IsType<Macvlan>(links[mv].KindData).Mode);
        Assert.Equal(links[v].Index, links[mv].LinkIndex);
    }

    private static async Task<Link> WaitForAsync(Func<Task<Link>> get, Func<Link, bool> condition)
    {
        // Operstate follows carrier through the kernel's linkwatch work, which runs asynchronously.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var link = await get();
            if (condition(link) || DateTime.UtcNow > deadline)
            {
                return link;
            }

            await Task.Delay(50);
        }
    }
}
