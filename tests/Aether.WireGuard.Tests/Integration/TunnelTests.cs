using System.Net;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.WireGuard.Tests.Integration;

/// <summary>
/// End to end, on this machine's kernel (which has no WireGuard, so through wireguard-go): two namespaces joined by
/// a veth underlay, a WireGuard device in each made and configured by the reconcile source, a ping through the
/// tunnel, and wg(8) as the oracle for what Aether reports.
/// </summary>
public sealed class TunnelTests : SandboxTest
{
    private static readonly IPPrefix TunnelA = IPPrefix.Parse("10.77.0.1/24");
    private static readonly IPPrefix TunnelB = IPPrefix.Parse("10.77.0.2/24");

    private readonly WireGuardSecretKey _keyA = WireGuardSecretKey.GeneratePrivate();
    private readonly WireGuardSecretKey _keyB = WireGuardSecretKey.GeneratePrivate();
    private readonly WireGuardKey _bystander = WireGuardSecretKey.GeneratePrivate().GetPublicKey(); // a peer that never answers

    private NetworkNamespace _a = null!;
    private NetworkNamespace _b = null!;
    private NetlinkHandle _ha = null!;
    private NetlinkHandle _hb = null!;
    private string _wa = null!;
    private string _wb = null!;

    private DesiredWireGuardPeer PeerB => new(_keyB.GetPublicKey())
    {
        Endpoint = IPEndPoint.Parse("192.168.77.2:51821"),
        AllowedIPs = [IPPrefix.Parse("10.77.0.2/32")],
    };

    private DesiredWireGuardPeer Bystander => new(_bystander) { AllowedIPs = [IPPrefix.Parse("10.77.0.99/32")] };

    [Fact]
    public async Task Two_namespaces_talk_through_a_tunnel_Aether_configured_and_keeps()
    {
        await using var backendA = await WireGuardBackends.OpenAsync(_a, WireGuardBackendOptions.Default with { RestartDelay = TimeSpan.FromMilliseconds(100) });
        await using var backendB = await WireGuardBackends.OpenAsync(_b);
        Assert.Equal(Directory.Exists("/sys/module/wireguard") ? WireGuardBackendKind.Kernel : WireGuardBackendKind.Userspace, backendA.Kind);

        var deviceA = new DesiredWireGuardDevice(_wa, _keyA) { ListenPort = 51820, Peers = [PeerB, Bystander] };
        var deviceB = new DesiredWireGuardDevice(_wb, _keyB)
        {
            ListenPort = 51821,
            Peers = [new DesiredWireGuardPeer(_keyA.GetPublicKey()) { Endpoint = IPEndPoint.Parse("192.168.77.1:51820"), AllowedIPs = [IPPrefix.Parse("10.77.0.1/32")] }],
        };
        var groupB = Group(_hb, backendB, deviceB, TunnelB);
        var first = await ConvergeAsync(Group(_ha, backendA, deviceA, TunnelA));
        Assert.Contains($"create wireguard {_wa}: missing", first);
        await ConvergeAsync(groupB);
        Assert.Empty((await Group(_ha, backendA, deviceA, TunnelA).RunPassAsync(default)).Plan); // a second pass changes nothing

        // Nothing has crossed yet.
        var before = (await backendA.GetDeviceAsync(_wa))!.FindPeer(_keyB.GetPublicKey())!;
        Assert.Null(before.LatestHandshake);
        Assert.Equal((0UL, 0UL), (before.ReceivedBytes, before.SentBytes));

        await PingAsync(expectSuccess: true);

        // Aether's status against wg show, read in between two reads of Aether's: counters only rise.
        var s1 = (await backendA.GetDeviceAsync(_wa))!;
        var wg = await WgShow.ReadAsync(_wa);
        var s2 = (await backendA.GetDeviceAsync(_wa))!;
        Assert.Equal(_keyA.ToBase64(), wg.PrivateKey);
        Assert.Equal(wg.PublicKey, s1.PublicKey.ToString());
        Assert.Equal(51820, wg.ListenPort);
        Assert.Equal(wg.ListenPort, s1.ListenPort);
        Assert.Equal(wg.Peers.Select(p => p.PublicKey).Order(StringComparer.Ordinal), s1.Peers.Select(p => p.PublicKey.ToString()).Order(StringComparer.Ordinal));
        var wgB = wg.Peers.Single(p => p.PublicKey == _keyB.GetPublicKey().ToString());
        var p1 = s1.FindPeer(_keyB.GetPublicKey())!;
        var p2 = s2.FindPeer(_keyB.GetPublicKey())!;
        Assert.Equal("192.168.77.2:51821", wgB.Endpoint);
        Assert.Equal(wgB.Endpoint, p1.Endpoint!.ToString());
        Assert.Equal(wgB.AllowedIps, p1.AllowedIPs.Select(a => a.ToString()));
        Assert.InRange(wgB.Received, p1.ReceivedBytes, p2.ReceivedBytes);
        Assert.InRange(wgB.Sent, p1.SentBytes, p2.SentBytes);
        Assert.Equal(wgB.LatestHandshake, p1.LatestHandshake!.Value.ToUnixTimeSeconds());

        // Handshake and counters rose with the ping.
        Assert.NotNull(p1.LatestHandshake);
        Assert.InRange(p1.LatestHandshake.Value, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.True(p1.ReceivedBytes > 0 && p1.SentBytes > 0, $"rx {p1.ReceivedBytes}, tx {p1.SentBytes}");
        var bystander = s1.FindPeer(_bystander)!;
        Assert.Equal((0UL, (DateTimeOffset?)null), (bystander.ReceivedBytes, bystander.LatestHandshake));

        // Removing another peer leaves this one alone: same session, same handshake, counters not reset.
        var withoutBystander = deviceA with { Peers = [PeerB] };
        var removal = await ConvergeAsync(Group(_ha, backendA, withoutBystander, TunnelA));
        Assert.Equal([$"delete peer {DesiredWireGuardPeer.ShortKey(_bystander)} on {_wa}: not desired"], removal);
        var kept = (await backendA.GetDeviceAsync(_wa))!.FindPeer(_keyB.GetPublicKey())!;
        Assert.Equal(p2.LatestHandshake, kept.LatestHandshake);
        Assert.True(kept.ReceivedBytes >= p2.ReceivedBytes && kept.SentBytes >= p2.SentBytes);
        Assert.DoesNotContain(_bystander.ToString(), (await WgShow.ReadAsync(_wa)).Peers.Select(p => p.PublicKey));

        // The peer removed: no tunnel. Re-added: the tunnel again.
        var removed = await ConvergeAsync(Group(_ha, backendA, deviceA with { Peers = [] }, TunnelA));
        Assert.Equal([$"delete peer {DesiredWireGuardPeer.ShortKey(_keyB.GetPublicKey())} on {_wa}: not desired"], removed);
        Assert.Empty((await WgShow.ReadAsync(_wa)).Peers);
        await PingAsync(expectSuccess: false);
        var readded = await ConvergeAsync(Group(_ha, backendA, withoutBystander, TunnelA));
        Assert.Equal([$"create peer {DesiredWireGuardPeer.ShortKey(_keyB.GetPublicKey())} on {_wa}: missing"], readded);
        await PingAsync(expectSuccess: true);

        // Drift made with wg(8) is repaired: a peer's allowed IPs changed by hand.
        await Wg.RequireAsync(null, "set", _wa, "peer", _keyB.GetPublicKey().ToString(), "allowed-ips", "10.99.0.0/16");
        var repaired = await ConvergeAsync(Group(_ha, backendA, withoutBystander, TunnelA));
        Assert.Equal([$"update peer {DesiredWireGuardPeer.ShortKey(_keyB.GetPublicKey())} on {_wa}: allowed IPs +10.77.0.2/32 -10.99.0.0/16"], repaired);
        Assert.Equal(["10.77.0.2/32"], (await WgShow.ReadAsync(_wa)).Peers.Single().AllowedIps);
        await PingAsync(expectSuccess: true);

        // A device deleted by hand comes back, configured, and carries traffic again.
        await Ip.RunAsync("-n", _a.Name!, "link", "del", _wa);
        await ConvergeAsync(Group(_ha, backendA, withoutBystander, TunnelA), passes: 40);
        var restored = await WgShow.ReadAsync(_wa);
        Assert.Equal(_keyA.ToBase64(), restored.PrivateKey);
        Assert.Equal(51820, restored.ListenPort);
        Assert.Equal(_keyB.GetPublicKey().ToString(), Assert.Single(restored.Peers).PublicKey);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_a.Name, _wa)));
        await PingAsync(expectSuccess: true);

        // Removing the device from the desired state deletes it, and nothing of it is left.
        var gone = await ConvergeAsync(new WireGuardSource(_ha, backendA, Box.Token, []));
        Assert.Equal([$"delete wireguard {_wa}: no longer desired"], gone);
        Assert.Null(await Ip.LinkAsync(_a.Name, _wa));
        Assert.Null(await backendA.GetDeviceAsync(_wa));
    }

    [Fact]
    public async Task A_reconcile_loop_brings_back_a_device_whose_wireguard_go_was_killed()
    {
        await using var backendA = await WireGuardBackends.OpenAsync(_a, WireGuardBackendOptions.Default with { RestartDelay = TimeSpan.FromMilliseconds(100) });
        await using var backendB = await WireGuardBackends.OpenAsync(_b);
        if (backendA is not Userspace.UserspaceWireGuardBackend userspace)
        {
            Assert.Equal(WireGuardBackendKind.Kernel, backendA.Kind); // nothing to kill: the kernel serves it
            return;
        }

        var deviceA = new DesiredWireGuardDevice(_wa, _keyA) { ListenPort = 51820, Peers = [PeerB] };
        var deviceB = new DesiredWireGuardDevice(_wb, _keyB)
        {
            ListenPort = 51821,
            Peers = [new DesiredWireGuardPeer(_keyA.GetPublicKey()) { Endpoint = IPEndPoint.Parse("192.168.77.1:51820"), AllowedIPs = [IPPrefix.Parse("10.77.0.1/32")] }],
        };
        await ConvergeAsync(Group(_hb, backendB, deviceB, TunnelB));
        using var loop = new ReconcileLoop(Group(_ha, backendA, deviceA, TunnelA), new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(60) });
        await loop.StartAsync(default);
        try
        {
            await UserspaceBackendTests.WaitForAsync(async () => (await Ip.RunInAsync(_a.Name!, "ping", "-c", "1", "-W", "1", "10.77.0.2")).Code == 0, 30);

            var pid = userspace.ProcessId(_wa)!.Value;
            System.Diagnostics.Process.GetProcessById(pid).Kill(); // its configuration dies with it

            // The restart is a hint: the loop applies the configuration again long before its 30 s resync.
            await UserspaceBackendTests.WaitForAsync(
                async () => userspace.ProcessId(_wa) is int next && next != pid && (await Ip.RunInAsync(_a.Name!, "ping", "-c", "1", "-W", "1", "10.77.0.2")).Code == 0,
                20);
            Assert.Equal(_keyA.ToBase64(), (await WgShow.ReadAsync(_wa)).PrivateKey);
        }
        finally
        {
            await loop.StopAsync(default);
        }
    }

    protected override async Task SetUpAsync()
    {
        _a = Box.CreateNamespace("a");
        _b = Box.CreateNamespace("b");
        _ha = Box.OpenAt(_a);
        _hb = Box.OpenAt(_b);
        _wa = Box.Name("wa");
        _wb = Box.Name("wb");

        // The underlay: a veth from a to b, 192.168.77.1/30 <-> 192.168.77.2/30.
        var ua = Box.Name("ua");
        var ub = Box.Name("ub");
        await _ha.CreateLinkAsync(new LinkSpec(ua, new Veth(ub) { PeerNamespace = _b }) { Up = true });
        await _hb.SetUpAsync(ub);
        await _ha.AddAddressAsync(new AddressSpec((await _ha.GetLinkAsync(ua)).Index, IPPrefix.Parse("192.168.77.1/30")));
        await _hb.AddAddressAsync(new AddressSpec((await _hb.GetLinkAsync(ub)).Index, IPPrefix.Parse("192.168.77.2/30")));
        await _ha.SetUpAsync("lo");
        await _hb.SetUpAsync("lo");
    }

    private SourceGroup Group(NetlinkHandle handle, IWireGuardBackend backend, DesiredWireGuardDevice device, IPPrefix address) =>
        new("tunnel", [
            new WireGuardSource(handle, backend, Box.Token, [device]),
            new AddressSource(handle, AppliedRecord.InMemory(), [new DesiredAddress(device.Name, address)]),
        ]);

    /// <summary>Runs passes until one finds nothing to do; returns what the passes applied, as report lines.</summary>
    private static async Task<List<string>> ConvergeAsync(IReconcileSource source, int passes = 10)
    {
        var applied = new List<string>();
        for (var i = 0; i < passes; i++)
        {
            var result = await source.RunPassAsync(default);
            applied.AddRange(result.Applied.Where(o => o is WireGuardOperation).Select(o => o.ToString()));
            if (result.Plan.IsEmpty)
            {
                return applied;
            }

            if (result.Error is not null && i == passes - 1)
            {
                throw new Xunit.Sdk.XunitException($"{source.Name} did not converge: {result.Error}");
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"{source.Name} did not converge in {passes} passes; applied: {string.Join("; ", applied)}");
    }

    private async Task PingAsync(bool expectSuccess)
    {
        var (code, stdout, stderr) = await Ip.RunInAsync(_a.Name!, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.77.0.2");
        Assert.True(expectSuccess == (code == 0), $"ping through the tunnel {(expectSuccess ? "failed" : "worked")} (exit {code}): {stdout} {stderr}");
    }
}
