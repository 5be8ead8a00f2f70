namespace Aether.Hub.Tests.Integration;

/// <summary>Routes the hub does not own in a container (a default route made by another network's driver), and
/// peers' allowed IPs outside the network routed into the tunnel.</summary>
public sealed partial class HubTests
{
    [Fact]
    public async Task A_container_with_a_default_route_not_the_hubs_joins_without_taking_it()
    {
        var storeA = new InMemoryHubStore();
        var hubA = await StartAsync(_hostA, "a", storeA);
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());

        // The container's first network is someone else's: a veth to another namespace and a default route through it.
        var c = await Box.CreateNamespaceWithIpAsync("cf");
        var bridge = await Box.CreateNamespaceWithIpAsync("br");
        await Ip.RunAsync("-n", c, "link", "set", "lo", "up");
        await Ip.RunAsync("-n", c, "link", "add", "fgn", "type", "veth", "peer", "name", "fgn", "netns", bridge);
        await Ip.RunAsync("-n", c, "addr", "add", "192.168.99.2/24", "dev", "fgn");
        await Ip.RunAsync("-n", bridge, "addr", "add", "192.168.99.1/24", "dev", "fgn");
        await Ip.RunAsync("-n", c, "link", "set", "fgn", "up");
        await Ip.RunAsync("-n", bridge, "link", "set", "fgn", "up");
        await Ip.RunAsync("-n", c, "route", "add", "default", "via", "192.168.99.1", "dev", "fgn");

        await hubA.AddNetworkAsync(Request(a: true, net: 0) with { Container = null, Address = null }, default);
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);
        var joined = await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "web", Container = c }, default);
        Assert.Equal(new HubAttachmentInfo("web", "net-0", c, "veth0-1", "eth0", "10.201.0.2", "10.201.0.1", false), joined.Attachment);
        var routes = await RoutesAsync(c);
        Assert.Contains("default via 192.168.99.1 dev fgn", routes);
        Assert.DoesNotContain(routes, r => r.StartsWith("default via 10.201.0.1", StringComparison.Ordinal));
        Assert.Contains("10.201.0.0/24 via 10.201.0.1 dev eth0", routes);
        Assert.Contains("10.201.0.2/32", await AddressesAsync(c, "eth0"));
        Assert.False(Assert.Single(hubA.ListNetworks()).Nat);
        await PingAsync(c, "10.201.0.1", expect: true);
        await PingAsync(c, "10.201.0.3", expect: true); // the far container, over the tunnel, without NAT

        // A later attachment of the same container follows the rule too.
        await hubA.AddNetworkAsync(Request(a: true, net: 1) with { Container = null, Address = null }, default);
        var second = await hubA.AttachAsync("net-1", new HubAttachRequest { AttachmentId = "web", Container = c }, default);
        Assert.False(second.Attachment.DefaultRoute);
        Assert.Equal("eth1", second.Attachment.Interface);
        Assert.Contains("10.202.0.0/24 via 10.202.0.1 dev eth1", await RoutesAsync(c));

        // A restarted hub keeps the decision (from its store): the foreign route stays, none of the hub's appears.
        _hubs.Remove(hubA);
        await hubA.DisposeAsync();
        var restarted = await StartAsync(_hostA, "a", storeA);
        Assert.All(restarted.ListNetworks().SelectMany(n => n.Attachments), a => Assert.False(a.DefaultRoute));
        await Task.Delay(500);
        routes = await RoutesAsync(c);
        Assert.Contains("default via 192.168.99.1 dev fgn", routes);
        Assert.DoesNotContain(routes, r => r.StartsWith("default via 10.20", StringComparison.Ordinal));
        await PingAsync(c, "10.201.0.3", expect: true);

        // The foreign route goes: nothing moves by itself (decided at attach time); attached again, it takes it.
        await Ip.RunAsync("-n", c, "route", "del", "default");
        await Task.Delay(2500); // more than one resync
        Assert.DoesNotContain(await RoutesAsync(c), r => r.StartsWith("default", StringComparison.Ordinal));
        await restarted.DetachAsync("net-0", "web", default);
        var again = await restarted.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "web", Container = c }, default);
        Assert.True(again.Attachment.DefaultRoute);
        Assert.Contains("default via 10.201.0.1 dev eth0", await RoutesAsync(c));
        Assert.True(restarted.ListNetworks().Single(n => n.NetworkId == "net-0").Nat);
    }

    [Fact]
    public async Task Peers_allowed_ips_outside_the_network_are_routed_into_the_tunnel_and_clashes_are_refused()
    {
        var hubA = await StartAsync(_hostA, "a", new InMemoryHubStore());
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());
        var pubA = _keysA[0].GetPublicKey().ToString();
        var pubB = _keysB[0].GetPublicKey().ToString();

        // Host B announces a remote subnet, 10.77.0.0/24, in which host B has an address of its own (on lo).
        await Ip.RunAsync("-n", HostB, "addr", "add", "10.77.0.5/32", "dev", "lo");
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);
        var peerB = new HubPeerRequest { PublicKey = pubB, Endpoint = "192.168.77.2:51820", AllowedIps = ["10.201.0.0/25", "10.77.0.0/24"] };
        await hubA.AddNetworkAsync(Request(a: true, net: 0) with { PeerPublicKey = null, PeerEndpoint = null, PersistentKeepalive = null, Peers = [peerB], Address = "10.201.0.130" }, default);
        var wgA = Box.Name("a") + "0";
        var hostRoutes = await RoutesAsync(HostA);
        Assert.Contains("10.201.0.0/24 dev " + wgA, hostRoutes);
        Assert.Contains("10.77.0.0/24 dev " + wgA, hostRoutes);
        Assert.DoesNotContain("10.201.0.0/25 dev " + wgA, hostRoutes); // inside the network: its route covers it
        Assert.Contains("10.77.0.0/24 via 10.201.0.1 dev eth0", await RoutesAsync(_cA));
        await PingAsync(_cA, "10.77.0.5", expect: true);

        // An attached container gets the route too.
        var c = await Box.CreateNamespaceWithIpAsync("cr");
        await Ip.RunAsync("-n", c, "link", "set", "lo", "up");
        await hubA.AttachAsync("net-0", new HubAttachRequest { AttachmentId = "r", Container = c, Address = "10.201.0.131" }, default);
        Assert.Contains("10.77.0.0/24 via 10.201.0.1 dev eth0", await RoutesAsync(c));
        await PingAsync(c, "10.77.0.5", expect: true);

        // Refused, each naming the field, nothing changed: default routes, another network's CIDR or peers' IPs.
        await hubA.AddNetworkAsync(Request(a: true, net: 1) with { Container = null, Address = null, PeerPublicKey = null, PeerEndpoint = null, PersistentKeepalive = null, Peers = [new HubPeerRequest { PublicKey = _keysB[1].GetPublicKey().ToString(), AllowedIps = ["10.88.0.0/16"] }] }, default);
        var linksBefore = Summary(await Ip.LinksAsync(HostA));
        var routesBefore = string.Join('\n', await RoutesAsync(HostA));
        var wgBefore = await WgShowInAsync(wgA);
        var newKey = WireGuardSecretKeyPublic();
        foreach (var (network, peer, field, words) in new[]
        {
            ("net-0", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["0.0.0.0/0"] }, "allowedIps", "default route"),
            ("net-0", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["::/0"] }, "allowedIps", "host's own default route"),
            ("net-0", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["10.202.0.0/25"] }, "allowedIps", "network net-1's 10.202.0.0/24"),
            ("net-0", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["10.88.4.0/24"] }, "allowedIps", "network net-1"),
            ("net-1", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["10.77.0.128/25"] }, "allowedIps", "network net-0"),
            ("net-1", new HubPeerRequest { PublicKey = newKey, AllowedIps = ["10.201.0.0/16"] }, "allowedIps", "network net-0's 10.201.0.0/24"),
        })
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => hubA.SetPeerAsync(network, peer, default));
            Assert.Equal(HubErrorKind.Invalid, refused.Kind);
            var error = Assert.Single(refused.Errors);
            Assert.Equal(field, error.Field);
            Assert.Contains(words, error.Message, StringComparison.Ordinal);
        }

        var onAdd = await Assert.ThrowsAsync<HubException>(() => hubA.AddNetworkAsync(
            Request(a: true, net: 1) with { NetworkId = "net-2", Index = 2, ListenPort = 51822, NetworkCidr = "10.203.0.0/24", Gateway = "10.203.0.1", Container = null, Address = null, PeerPublicKey = null, PeerEndpoint = null, PersistentKeepalive = null, Peers = [new HubPeerRequest { PublicKey = newKey, AllowedIps = ["10.203.0.0/24", "10.77.0.0/16"] }] },
            default));
        Assert.Equal(HubErrorKind.Invalid, onAdd.Kind);
        Assert.Equal("peers[0].allowedIps", onAdd.Errors.Single().Field);
        Assert.Contains("network net-0", onAdd.Errors.Single().Message, StringComparison.Ordinal);
        var cidrClash = await Assert.ThrowsAsync<HubException>(() => hubA.AddNetworkAsync(
            Request(a: true, net: 1) with { NetworkId = "net-2", Index = 2, ListenPort = 51822, NetworkCidr = "10.77.0.0/16", Gateway = "10.77.9.1", Container = null, Address = null },
            default));
        Assert.Equal(HubErrorKind.Conflict, cidrClash.Kind);
        Assert.Contains("network net-0", cidrClash.Message, StringComparison.Ordinal);
        Assert.Equal(linksBefore, Summary(await Ip.LinksAsync(HostA)));
        Assert.Equal(routesBefore, string.Join('\n', await RoutesAsync(HostA)));
        Assert.Equal(wgBefore.Peers.Select(p => p.PublicKey + string.Join(',', p.AllowedIps)), (await WgShowInAsync(wgA)).Peers.Select(p => p.PublicKey + string.Join(',', p.AllowedIps)));
        Assert.Equal(["net-0", "net-1"], hubA.ListNetworks().Select(n => n.NetworkId).Order(StringComparer.Ordinal));

        // The remote subnet withdrawn: its routes go from the host and the containers.
        await hubA.SetPeerAsync("net-0", peerB with { AllowedIps = ["10.201.0.0/25"] }, default);
        Assert.DoesNotContain("10.77.0.0/24 dev " + wgA, await RoutesAsync(HostA));
        Assert.DoesNotContain(await RoutesAsync(c), r => r.StartsWith("10.77.", StringComparison.Ordinal));
        Assert.DoesNotContain(await RoutesAsync(_cA), r => r.StartsWith("10.77.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_attachment_or_peer_is_not_found_as_what_it_is()
    {
        var hubA = await StartAsync(_hostA, "a", new InMemoryHubStore());
        await hubA.AddNetworkAsync(Request(a: true, net: 0) with { Container = null, Address = null }, default);
        var noNetwork = await Assert.ThrowsAsync<HubException>(() => hubA.DetachAsync("nope", "x", default));
        Assert.Equal((HubErrorKind.NotFound, HubMissing.Network), (noNetwork.Kind, noNetwork.Missing));
        var noAttachment = await Assert.ThrowsAsync<HubException>(() => hubA.DetachAsync("net-0", "x", default));
        Assert.Equal((HubErrorKind.NotFound, HubMissing.Attachment), (noAttachment.Kind, noAttachment.Missing));
        var noPeer = await Assert.ThrowsAsync<HubException>(() => hubA.RemovePeerAsync("net-0", WireGuardSecretKeyPublic(), default));
        Assert.Equal((HubErrorKind.NotFound, HubMissing.Peer), (noPeer.Kind, noPeer.Missing));
        var noNetworkForPeer = await Assert.ThrowsAsync<HubException>(() => hubA.RemovePeerAsync("nope", WireGuardSecretKeyPublic(), default));
        Assert.Equal((HubErrorKind.NotFound, HubMissing.Network), (noNetworkForPeer.Kind, noNetworkForPeer.Missing));
    }

    private static string WireGuardSecretKeyPublic() => Aether.WireGuard.WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
}
