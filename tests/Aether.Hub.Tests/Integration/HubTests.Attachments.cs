namespace Aether.Hub.Tests.Integration;

/// <summary>Several containers on one network: attached and detached one by one, reaching each other and the
/// network's tunnel through the host, and nothing of another network.</summary>
public sealed partial class HubTests
{
    [Fact]
    public async Task Containers_attached_to_one_network_reach_each_other_and_the_tunnel_but_not_another_network()
    {
        var storeA = new InMemoryHubStore();
        var hubA = await StartAsync(_hostA, "a", storeA);
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());
        var c1 = await Box.CreateNamespaceWithIpAsync("c1");
        var c2 = await Box.CreateNamespaceWithIpAsync("c2");
        var other = await Box.CreateNamespaceWithIpAsync("co");
        foreach (var ns in new[] { c1, c2, other })
        {
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
        }

        // Network 0 alone on host A: wgN, its route, no container and no veth.
        var alone = Request(a: true, net: 0) with { Container = null, Address = null };
        var added = await hubA.AddNetworkAsync(alone, default);
        Assert.True(added.Created);
        Assert.Empty(added.Network.Attachments);
        Assert.False(added.Network.Nat);
        Assert.Null(await Ip.LinkAsync(HostA, "veth-root0"));
        Assert.Contains("10.201.0.0/24 dev " + Box.Name("a") + "0", await RoutesAsync(HostA));
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);

        // Two containers attached: the first gets the lowest free address (.2) and eth0, the second what it asks for.
        var first = await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "one", Container = c1 }, default);
        Assert.True(first.Created);
        Assert.Equal(new HubAttachmentInfo("one", "net-0", c1, "veth0-1", "eth0", "10.201.0.2", "10.201.0.1", true), first.Attachment);
        var second = await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "two", Container = c2, Interface = "wan7", Address = "10.201.0.5/24" }, default);
        Assert.Equal(new HubAttachmentInfo("two", "net-0", c2, "veth0-2", "wan7", "10.201.0.5", "10.201.0.1", true), second.Attachment);
        Assert.Equal("veth", await KindAsync(HostA, "veth0-1"));
        Assert.Equal("veth", await KindAsync(HostA, "veth0-2"));
        Assert.Contains("10.201.0.5/32", await AddressesAsync(c2, "wan7"));
        // The gateway lives on the network's first host end; the others answer ARP for it as the host's address.
        Assert.Contains("10.201.0.1/32", await AddressesAsync(HostA, "veth0-1"));
        Assert.DoesNotContain("10.201.0.1/32", await AddressesAsync(HostA, "veth0-2"));
        Assert.Contains("default via 10.201.0.1 dev wan7", await RoutesAsync(c2));
        Assert.Contains("10.201.0.5 dev veth0-2", await RoutesAsync(HostA));

        // Each other through the host, and the far container through the tunnel.
        await PingAsync(c1, "10.201.0.5", expect: true);
        await PingAsync(c2, "10.201.0.2", expect: true);
        await PingAsync(c1, "10.201.0.3", expect: true);
        await PingAsync(c2, "10.201.0.3", expect: true);
        var listed = Assert.Single(hubA.ListNetworks());
        Assert.Equal(["one", "two"], listed.Attachments.Select(a => a.AttachmentId));
        Assert.True(listed.Nat);

        // The same request again: nothing new. The id with other fields, an address in use, one outside: refused.
        var linksBefore = Summary(await Ip.LinksAsync(HostA));
        Assert.False((await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "one", Container = c1 }, default)).Created);
        Assert.False((await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "two", Container = c2, Interface = "wan7", Address = "10.201.0.5" }, default)).Created);
        var conflicts = new[]
        {
            new HubAttachRequest { AttachmentId = "one", Container = c2 },
            new HubAttachRequest { AttachmentId = "one", Container = c1, Address = "10.201.0.9" },
            new HubAttachRequest { AttachmentId = "three", Container = other, Address = "10.201.0.5" },
            new HubAttachRequest { AttachmentId = "three", Container = c1, Interface = "eth0" },
        };
        foreach (var request in conflicts)
        {
            var conflict = await Assert.ThrowsAsync<HubException>(() => hubA.AttachAsync("net-0", request, default));
            Assert.True(conflict.Kind == HubErrorKind.Conflict, conflict.ToString());
        }

        var invalid = await Assert.ThrowsAsync<HubException>(() => hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "bad id", Interface = "much-too-long-name", Address = "10.201.0" }, default));
        Assert.Equal(HubErrorKind.Invalid, invalid.Kind);
        Assert.Equal(["attachmentId", "container", "interface", "address"], invalid.Errors.Select(e => e.Field));
        foreach (var (address, why) in new[] { ("10.202.0.9", "outside"), ("10.201.0.1", "gateway"), ("10.201.0.255", "broadcast"), ("10.201.0.9/16", "prefix length") })
        {
            var bad = await Assert.ThrowsAsync<HubException>(() => hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "three", Container = other, Address = address }, default));
            Assert.Equal((HubErrorKind.Invalid, "address"), (bad.Kind, bad.Errors.Single().Field));
            Assert.Contains(why, bad.Message, StringComparison.Ordinal);
        }

        var missing = await Assert.ThrowsAsync<HubException>(() => hubA.AttachAsync("net-9", new HubAttachRequest { AttachmentId = "three", Container = other }, default));
        Assert.Equal(HubErrorKind.NotFound, missing.Kind);
        Assert.Equal(linksBefore, Summary(await Ip.LinksAsync(HostA)));
        Assert.Null(await Ip.LinkAsync(other, "eth0"));

        // Another network with its own container on host A: it cannot reach network 0's containers, even with a
        // route made by hand, and they cannot reach it.
        await hubA.AddNetworkAsync(Request(a: true, net: 1) with { Container = other, Address = "10.202.0.2" }, default);
        await Ip.RunAsync("-n", other, "route", "add", "10.201.0.0/24", "via", "10.202.0.1", "dev", "eth1", "onlink");
        await Ip.RunAsync("-n", c1, "route", "add", "10.202.0.0/24", "via", "10.201.0.1", "dev", "eth0", "onlink");
        await PingAsync(other, "10.201.0.2", expect: false);
        await PingAsync(c1, "10.202.0.2", expect: false);
        var nft = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "-j", "list", "table", "inet", "aether-hub");
        Assert.Equal(0, nft.Code);
        Assert.Contains("\"veth0-1\"", nft.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"veth0-2\"", nft.Stdout, StringComparison.Ordinal);

        // Detach one: its pair, address and host route go, the other still pings the far side.
        await hubA.DetachAsync("net-0", "two", default);
        Assert.Null(await Ip.LinkAsync(HostA, "veth0-2"));
        Assert.Null(await Ip.LinkAsync(c2, "wan7"));
        Assert.DoesNotContain("10.201.0.5 dev veth0-2", await RoutesAsync(HostA));
        Assert.Contains("10.201.0.1/32", await AddressesAsync(HostA, "veth0-1"));
        await PingAsync(c1, "10.201.0.3", expect: true);
        var gone = await Assert.ThrowsAsync<HubException>(() => hubA.DetachAsync("net-0", "two", default));
        Assert.Equal(HubErrorKind.NotFound, gone.Kind);

        // A restart from the store brings the attachment back as it was (its names and address).
        _hubs.Remove(hubA);
        await hubA.DisposeAsync();
        await Ip.RunAsync("-n", c1, "link", "del", "eth0");
        var restarted = await StartAsync(_hostA, "a", storeA);
        var back = restarted.ListNetworks().Single(n => n.NetworkId == "net-0").Attachments.Single();
        Assert.Equal(("one", "veth0-1", "eth0", "10.201.0.2"), (back.AttachmentId, back.HostInterface, back.Interface, back.Address));
        await PingAsync(c1, "10.201.0.3", expect: true);
    }

    [Fact]
    public async Task A_container_that_never_had_a_route_is_attached_with_the_default_route()
    {
        // Loopback down: the namespace's main routing table does not exist yet, and a dump asking for it fails with
        // ENOENT; the attach must read that as "no default route" rather than fail.
        var hub = await StartAsync(_hostA, "a", new InMemoryHubStore());
        var fresh = await Box.CreateNamespaceWithIpAsync("cf");
        await hub.AddNetworkAsync(Request(a: true, net: 0) with { Container = null, Address = null }, default);

        var attached = await hub.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "fresh", Container = fresh }, default);

        Assert.True(attached.Created);
        Assert.True(attached.Attachment.DefaultRoute);
        Assert.Contains("default via 10.201.0.1 dev eth0", await RoutesAsync(fresh));
    }
}
