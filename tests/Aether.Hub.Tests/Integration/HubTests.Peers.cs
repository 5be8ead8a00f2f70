using Aether.WireGuard.Tests;
using Aether.WireGuard.Tests.Integration;
using Aether.WireGuard;

namespace Aether.Hub.Tests.Integration;

/// <summary>A network's peers changed one at a time on a live network: the other peer's session (its latest
/// handshake and its counters, read with <c>wg show</c>) goes on.</summary>
public sealed partial class HubTests
{
    [Fact]
    public async Task Adding_updating_and_removing_one_peer_keeps_the_other_peers_session()
    {
        // Host A's network has two peers: hub B and hub C, both in host B's namespace (C with an owner and device
        // prefix of its own), both keeping their sessions alive every second.
        var keyA = WireGuardSecretKey.GeneratePrivate();
        var keyB = WireGuardSecretKey.GeneratePrivate();
        var keyC = WireGuardSecretKey.GeneratePrivate();
        var pubB = keyB.GetPublicKey().ToString();
        var pubC = keyC.GetPublicKey().ToString();
        var hubA = await StartAsync(_hostA, "a", new InMemoryHubStore());
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());
        var hubC = await StartAsync(_hostB, "c", new InMemoryHubStore(), owner: "hubc");
        var a = await hubA.AddNetworkAsync(
            new HubNetworkRequest
            {
                NetworkId = "mesh", Index = 0, PrivateKey = keyA.ToBase64(), ListenPort = 51820, NetworkCidr = "10.200.0.0/16", Gateway = "10.200.0.1",
                Peers = [new HubPeerRequest { PublicKey = pubC, Endpoint = "192.168.77.2:51830", AllowedIps = ["10.200.3.0/24"] }],
            },
            default);
        Assert.Empty(a.Network.Attachments);
        foreach (var (hub, key, port, cidr) in new[] { (hubB, keyB, 51820, "10.200.2.0/24"), (hubC, keyC, 51830, "10.200.3.0/24") })
        {
            await hub.AddNetworkAsync(
                new HubNetworkRequest
                {
                    NetworkId = "mesh", Index = 0, PrivateKey = key.ToBase64(), ListenPort = port, NetworkCidr = cidr, Gateway = cidr.Replace(".0/24", ".1", StringComparison.Ordinal),
                    PeerPublicKey = keyA.GetPublicKey().ToString(), PeerEndpoint = "192.168.77.1:51820", PersistentKeepalive = 1,
                },
                default);
        }

        var wgA = Box.Name("a") + "0";
        var c0 = await WaitForHandshakeAsync(wgA, pubC);

        // Added: B joins; C's handshake and counters go on.
        var added = await hubA.SetPeerAsync("mesh", new HubPeerRequest { PublicKey = pubB, Endpoint = "192.168.77.2:51820", AllowedIps = ["10.200.2.0/24"] }, default);
        Assert.True(added.Created);
        var b0 = await WaitForHandshakeAsync(wgA, pubB);
        var c1 = await PeerAsync(wgA, pubC);
        Assert.Equal(c0.LatestHandshake, c1.LatestHandshake);
        Assert.True(c1.Received >= c0.Received && c1.Sent >= c0.Sent, $"C's counters went back: {c0} → {c1}");

        // Updated in place: B's allowed IPs, keepalive and preshared key; C untouched, B keeps its own session too.
        var psk = WireGuardSecretKey.GeneratePrivate().ToBase64();
        var updated = await hubA.SetPeerAsync("mesh", new HubPeerRequest { PublicKey = pubB, Endpoint = "192.168.77.2:51820", AllowedIps = ["10.200.2.0/24", "10.210.0.0/16"], PersistentKeepalive = 25, PresharedKey = psk }, default);
        Assert.False(updated.Created);
        Assert.True(updated.Peer.HasPresharedKey);
        var b1 = await PeerAsync(wgA, pubB);
        Assert.Equal(["10.200.2.0/24", "10.210.0.0/16"], b1.AllowedIps.Order(StringComparer.Ordinal));
        Assert.Equal("25", b1.Keepalive);
        Assert.Equal(b0.LatestHandshake, b1.LatestHandshake);
        var c2 = await PeerAsync(wgA, pubC);
        Assert.Equal(c0.LatestHandshake, c2.LatestHandshake);
        Assert.True(c2.Received >= c1.Received && c2.Sent >= c1.Sent, $"C's counters went back: {c1} → {c2}");

        // Status per peer: the configured peers joined with the device's report.
        var status = (await hubA.GetStatusAsync(default)).Networks.Single();
        Assert.Equal([pubC, pubB], status.Peers.Select(p => p.PublicKey));
        var sc = status.Peers[0];
        Assert.True(sc.Configured && sc.OnDevice);
        Assert.Equal("192.168.77.2:51830", sc.ConfiguredEndpoint);
        Assert.Equal(c2.LatestHandshake, sc.LatestHandshake!.Value.ToUnixTimeSeconds()); // wg prints whole seconds
        Assert.True(sc.ReceivedBytes >= c2.Received);

        // Invalid: a bad key, allowed IPs overlapping C's, a keepalive out of range; nothing changes on the device.
        var before = await WgShow.ReadAsync(wgA);
        foreach (var (request, field) in new[]
        {
            (new HubPeerRequest { PublicKey = "not-a-key", AllowedIps = ["10.200.9.0/24"] }, "publicKey"),
            (new HubPeerRequest { PublicKey = pubB, AllowedIps = ["10.200.3.128/25"] }, "allowedIps"),
            (new HubPeerRequest { PublicKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString(), AllowedIps = ["10.200.0.0/16"] }, "allowedIps"),
            (new HubPeerRequest { PublicKey = pubB, PersistentKeepalive = 70000 }, "persistentKeepalive"),
            (new HubPeerRequest { PublicKey = pubB, Endpoint = "192.168.77.2" }, "endpoint"),
            (new HubPeerRequest { PublicKey = pubB, PresharedKey = "short" }, "presharedKey"),
            (new HubPeerRequest { PublicKey = a.Network.PublicKey }, "publicKey"),
        })
        {
            var invalid = await Assert.ThrowsAsync<HubException>(() => hubA.SetPeerAsync("mesh", request, default));
            Assert.Equal(HubErrorKind.Invalid, invalid.Kind);
            Assert.Equal(field, invalid.Errors.Single().Field);
        }

        var all = await Assert.ThrowsAsync<HubException>(() => hubA.SetPeerAsync("mesh", new HubPeerRequest { PublicKey = "x", AllowedIps = ["10.1.2.3/8"], PersistentKeepalive = -1 }, default));
        Assert.Equal(["publicKey", "allowedIps", "persistentKeepalive"], all.Errors.Select(e => e.Field));
        Assert.Equal(HubErrorKind.NotFound, (await Assert.ThrowsAsync<HubException>(() => hubA.SetPeerAsync("nope", new HubPeerRequest { PublicKey = pubB }, default))).Kind);
        var after = await WgShow.ReadAsync(wgA);
        static string Shape(WgShow show) => string.Join(' ', show.Peers.Select(p => $"{p.PublicKey}:{string.Join(',', p.AllowedIps.Order(StringComparer.Ordinal))}:{p.Keepalive}:{p.PresharedKey}:{p.LatestHandshake}").Order(StringComparer.Ordinal));
        Assert.Equal(Shape(before), Shape(after));

        // Removed (its key in base64url): B goes, C's session goes on.
        await hubA.RemovePeerAsync("mesh", pubB.Replace('+', '-').Replace('/', '_').TrimEnd('='), default);
        Assert.DoesNotContain((await WgShow.ReadAsync(wgA)).Peers, p => p.PublicKey == pubB);
        var c3 = await PeerAsync(wgA, pubC);
        Assert.Equal(c0.LatestHandshake, c3.LatestHandshake);
        Assert.True(c3.Received >= c2.Received && c3.Sent >= c2.Sent, $"C's counters went back: {c2} → {c3}");
        Assert.Equal(HubErrorKind.NotFound, (await Assert.ThrowsAsync<HubException>(() => hubA.RemovePeerAsync("mesh", pubB, default))).Kind);
        Assert.Equal(HubErrorKind.Invalid, (await Assert.ThrowsAsync<HubException>(() => hubA.RemovePeerAsync("mesh", "zz", default))).Kind);

        // The drift loop keeps the map: a peer removed by hand comes back, one added by hand goes.
        await Wg.RequireAsync(null, "set", wgA, "peer", pubC, "remove");
        await Wg.RequireAsync(null, "set", wgA, "peer", pubB, "allowed-ips", "10.200.7.0/24");
        await WaitForAsync(async () => (await WgShow.ReadAsync(wgA)).Peers.Select(p => p.PublicKey).SequenceEqual([pubC]), 30, "peer map restored");
    }

    private static async Task<WgShowPeer> PeerAsync(string device, string key) => (await WgShow.ReadAsync(device)).Peers.Single(p => p.PublicKey == key);

    private static async Task<WgShowPeer> WaitForHandshakeAsync(string device, string key)
    {
        await WaitForAsync(async () => (await WgShow.ReadAsync(device)).Peers.Any(p => p.PublicKey == key && p.LatestHandshake > 0 && p.Received > 0), 30, "handshake with " + key);
        return await PeerAsync(device, key);
    }
}
