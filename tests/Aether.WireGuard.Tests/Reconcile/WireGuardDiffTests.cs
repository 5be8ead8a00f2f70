using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;

namespace Aether.WireGuard.Tests.Reconcile;

/// <summary>The WireGuard source's diff, pure: observations in, plans out.</summary>
public sealed class WireGuardDiffTests : IDisposable
{
    private const string Mark = "aether:t/wg";
    private static readonly WireGuardSecretKey Key = WireGuardSecretKey.GeneratePrivate();
    private static readonly DesiredWireGuardPeer A = Peer("10.0.1.0/24");
    private static readonly DesiredWireGuardPeer B = Peer("10.0.2.0/24") with { Endpoint = IPEndPoint.Parse("192.0.2.2:51820"), PersistentKeepaliveInterval = 25 };
    private static readonly DesiredWireGuardPeer C = Peer("10.0.3.0/24", "fd03::/64") with { PresharedKey = WireGuardSecretKey.GeneratePreshared() };

    private readonly NetlinkHandle _handle = NetlinkHandle.Open();
    private readonly FakeBackend _backend = new();

    private static DesiredWireGuardDevice Wanted => new("wg0", Key) { ListenPort = 51820, Peers = [A, B, C] };

    public void Dispose() => _handle.Dispose();

    [Fact]
    public void A_missing_device_is_created_whole()
    {
        var plan = Source(Wanted).Diff(Observe(link: null, device: null));
        var op = Assert.IsType<WireGuardOperation>(Assert.Single(plan));
        Assert.Equal((OperationKind.Create, WireGuardStep.CreateDevice, "wireguard wg0", "missing"), (op.Kind, op.Step, op.Target, op.Reason));
        var full = WireGuardSource.FullConfig(Wanted);
        Assert.Equal(Key, full.PrivateKey);
        Assert.Equal((ushort)51820, full.ListenPort);
        Assert.False(full.ReplacePeers);
        Assert.Equal([A.PublicKey, B.PublicKey, C.PublicKey], full.Peers.Select(p => p.PublicKey));
        Assert.All(full.Peers, p => Assert.True(p.ReplaceAllowedIPs && !p.UpdateOnly && !p.Remove));
    }

    [Fact]
    public void A_device_as_desired_is_in_sync()
    {
        Assert.Empty(Source(Wanted).Diff(Observe(OurLink(), Actual())));
    }

    [Fact]
    public void Only_changed_peers_are_touched_and_each_alone()
    {
        var d = Peer("10.0.4.0/24");
        var wanted = Wanted with { Peers = [A with { AllowedIPs = [IPPrefix.Parse("10.0.1.0/24"), IPPrefix.Parse("10.9.0.1/32")] }, B, d] }; // A changed, B same, C gone, D new
        var plan = Source(wanted).Diff(Observe(OurLink(), Actual()));
        var ops = plan.Cast<WireGuardOperation>().ToList();
        Assert.Equal(3, ops.Count);

        var remove = ops[0]; // deletes first
        Assert.Equal((OperationKind.Delete, WireGuardStep.RemovePeer), (remove.Kind, remove.Step));
        Assert.Equal(new WireGuardPeerConfig(C.PublicKey) { Remove = true }, Assert.Single(remove.Config!.Peers));

        var update = ops.Single(o => o.Step == WireGuardStep.UpdatePeer);
        var change = Assert.Single(update.Config!.Peers);
        Assert.Equal(A.PublicKey, change.PublicKey);
        Assert.True(change.UpdateOnly && change.ReplaceAllowedIPs);
        Assert.Null(change.Endpoint);
        Assert.Null(change.PresharedKey);
        Assert.Null(change.PersistentKeepaliveInterval);
        Assert.Equal(["10.0.1.0/24", "10.9.0.1/32"], change.AllowedIPs.Select(p => p.ToString()));
        Assert.Equal("allowed IPs +10.9.0.1/32", update.Reason);
        Assert.False(update.Config.ReplacePeers);

        var add = ops.Single(o => o.Step == WireGuardStep.AddPeer);
        Assert.Equal(d.PublicKey, Assert.Single(add.Config!.Peers).PublicKey);
        Assert.DoesNotContain(ops, o => o.Config!.Peers.Any(p => p.PublicKey == B.PublicKey));
    }

    [Fact]
    public void A_changed_endpoint_keepalive_or_psk_is_updated_without_touching_allowed_ips()
    {
        var psk = WireGuardSecretKey.GeneratePreshared();
        var wanted = Wanted with { Peers = [A, B with { Endpoint = IPEndPoint.Parse("192.0.2.9:1"), PersistentKeepaliveInterval = 0, PresharedKey = psk }, C] };
        var op = Assert.IsType<WireGuardOperation>(Assert.Single(Source(wanted).Diff(Observe(OurLink(), Actual()))));
        var change = Assert.Single(op.Config!.Peers);
        Assert.Equal((IPEndPoint.Parse("192.0.2.9:1"), (ushort?)0, psk), (change.Endpoint, change.PersistentKeepaliveInterval, change.PresharedKey));
        Assert.False(change.ReplaceAllowedIPs);
        Assert.Empty(change.AllowedIPs);
        Assert.DoesNotContain(psk.ToBase64(), op.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_roamed_endpoint_of_a_peer_without_one_is_left_alone()
    {
        var device = Actual() with { Peers = [.. Actual().Peers.Select(p => p.PublicKey == A.PublicKey ? p with { Endpoint = IPEndPoint.Parse("198.51.100.7:40000") } : p)] };
        Assert.Empty(Source(Wanted).Diff(Observe(OurLink(), device)));
    }

    [Fact]
    public void Host_bits_and_order_of_allowed_ips_are_not_drift()
    {
        var wanted = Wanted with { Peers = [A, B, C with { AllowedIPs = [IPPrefix.Parse("fd03::1/64"), IPPrefix.Parse("10.0.3.7/24")] }] };
        Assert.Empty(Source(wanted).Diff(Observe(OurLink(), Actual())));
    }

    [Fact]
    public void Device_settings_are_set_alone_and_the_key_is_never_printed()
    {
        var other = WireGuardSecretKey.GeneratePrivate();
        var device = Actual() with { PrivateKey = other, ListenPort = 40000, FirewallMark = 7 };
        var op = Assert.IsType<WireGuardOperation>(Assert.Single(Source(Wanted).Diff(Observe(OurLink(), device))));
        Assert.Equal(WireGuardStep.ConfigureDevice, op.Step);
        Assert.Equal("another private key, listen port 40000, want 51820, fwmark 0x7, want 0x0", op.Reason);
        Assert.Equal(new WireGuardDeviceConfig { PrivateKey = Key, ListenPort = 51820, FirewallMark = 0 }, op.Config);
        Assert.DoesNotContain(Key.ToBase64(), op.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Key.ToBase64(), op.Config!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_left_to_the_device_is_not_drift()
    {
        var wanted = Wanted with { ListenPort = null };
        Assert.Empty(Source(wanted).Diff(Observe(OurLink(), Actual() with { ListenPort = 43210 })));
    }

    [Fact]
    public void Link_state_and_a_lost_mark_are_repaired_on_the_link()
    {
        _backend.Supervised.Add("wg0");
        var link = OurLink() with { Alias = null, Flags = 0 };
        var op = Assert.IsType<WireGuardOperation>(Assert.Single(Source(Wanted with { Mtu = 1400 }).Diff(Observe(link, Actual()))));
        Assert.Equal(WireGuardStep.UpdateLink, op.Step);
        Assert.Equal("mark lost (wireguard-go restarted), down, want up, MTU 1420, want 1400", op.Reason);
        Assert.Equal(new LinkChange { Alias = Mark, Up = true, Mtu = 1400 }, op.LinkChange);
    }

    [Fact]
    public void A_foreign_device_is_a_conflict_unless_adopted()
    {
        var foreign = OurLink() with { Alias = "someone else" };
        var conflict = Assert.Single(Source(Wanted).Diff(Observe(foreign, Actual() with { Peers = [] })));
        Assert.True(conflict.Conflict);
        Assert.Contains("not ours", conflict.Reason, StringComparison.Ordinal);

        var adopted = Source(Wanted, ConflictPolicy.Adopt).Diff(Observe(foreign, Actual() with { Peers = [] })).Cast<WireGuardOperation>().ToList();
        Assert.DoesNotContain(adopted, o => o.Conflict);
        Assert.Equal("adopted (alias was 'someone else')", adopted.Single(o => o.Step == WireGuardStep.UpdateLink).Reason);
        Assert.Equal(3, adopted.Count(o => o.Step == WireGuardStep.AddPeer));
    }

    [Fact]
    public void A_name_taken_by_another_kind_of_link_is_a_conflict_or_replaced_when_ours()
    {
        var veth = new Link { Index = 5, Name = "wg0", Alias = "someone", KindData = new Veth("x") };
        Assert.True(Assert.Single(Source(Wanted).Diff(Observe(veth, null))).Conflict);

        var ours = veth with { Alias = Mark };
        var ops = Source(Wanted).Diff(Observe(ours, null)).Cast<WireGuardOperation>().ToList();
        Assert.Equal([WireGuardStep.DeleteDevice, WireGuardStep.CreateDevice], ops.Select(o => o.Step));
        Assert.Equal("recreated: is a veth, not a WireGuard device", ops[1].Reason);
    }

    [Fact]
    public void Owned_devices_no_longer_desired_are_deleted_and_foreign_ones_left()
    {
        var links = new Dictionary<string, Link>(StringComparer.Ordinal)
        {
            ["wg1"] = new Link { Index = 8, Name = "wg1", Alias = Mark, KindData = new Tun() },
            ["wg2"] = new Link { Index = 9, Name = "wg2", Alias = "other", KindData = new Tun() },
        };
        var devices = new Dictionary<string, WireGuardDevice?>(StringComparer.Ordinal) { ["wg1"] = new WireGuardDevice { Name = "wg1" } };
        var op = Assert.IsType<WireGuardOperation>(Assert.Single(Source().Diff(new WireGuardObservation(links, devices, new HashSet<string>()))));
        Assert.Equal((OperationKind.Delete, WireGuardStep.DeleteDevice, "wireguard wg1", "no longer desired"), (op.Kind, op.Step, op.Target, op.Reason));
    }

    [Fact]
    public void Invalid_devices_are_refused_naming_the_field()
    {
        Assert.Contains("private key", Refused(new DesiredWireGuardDevice("wg0", WireGuardSecretKey.Zero)), StringComparison.Ordinal);
        Assert.Contains("listed twice", Refused(Wanted with { Peers = [A, A] }), StringComparison.Ordinal);
        Assert.Contains("own public key", Refused(Wanted with { Peers = [new DesiredWireGuardPeer(Key.GetPublicKey())] }), StringComparison.Ordinal);
        Assert.Contains("endpoint", Refused(Wanted with { Peers = [A with { Endpoint = new IPEndPoint(IPAddress.Loopback, 0) }] }), StringComparison.Ordinal);
        Assert.Contains("allowed IP", Refused(Wanted with { Peers = [A with { AllowedIPs = [IPPrefix.Parse("10.0.0.1/8"), IPPrefix.Parse("10.0.0.2/8")] }] }), StringComparison.Ordinal);
        Assert.Contains("wg0", Refused(Wanted with { Mtu = 20 }), StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => Source(new DesiredWireGuardDevice("a-name-over-15-bytes", Key)));
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => Source(Wanted, Wanted)).Message, StringComparison.Ordinal);
    }

    private static DesiredWireGuardPeer Peer(params string[] allowed) =>
        new(WireGuardSecretKey.GeneratePrivate().GetPublicKey()) { AllowedIPs = [.. allowed.Select(IPPrefix.Parse)] };

    private static Link OurLink() => new() { Index = 4, Name = "wg0", Alias = Mark, Flags = Iff.Up, Mtu = 1420, KindData = new Tun() };

    /// <summary>The device as it reports itself when it matches <see cref="Wanted"/>, status included.</summary>
    private static WireGuardDevice Actual() => new()
    {
        Name = "wg0",
        PrivateKey = Key,
        PublicKey = Key.GetPublicKey(),
        ListenPort = 51820,
        Peers = [.. new[] { A, B, C }.Select(p => new WireGuardPeer
        {
            PublicKey = p.PublicKey,
            PresharedKey = p.PresharedKey ?? WireGuardSecretKey.Zero,
            Endpoint = p.Endpoint,
            PersistentKeepaliveInterval = p.PersistentKeepaliveInterval,
            AllowedIPs = [.. p.AllowedIPs.Select(a => new IPPrefix(a.Network, a.PrefixLength)).Reverse()],
            ReceivedBytes = 1000,
            SentBytes = 2000,
            LatestHandshake = DateTimeOffset.UtcNow,
            ProtocolVersion = 1,
        })],
    };

    private WireGuardObservation Observe(Link? link, WireGuardDevice? device)
    {
        var links = new Dictionary<string, Link>(StringComparer.Ordinal);
        if (link is not null)
        {
            links[link.Name] = link;
        }

        return new WireGuardObservation(links, new Dictionary<string, WireGuardDevice?>(StringComparer.Ordinal) { ["wg0"] = device }, _backend.Supervised);
    }

    private WireGuardSource Source(params DesiredWireGuardDevice[] desired) => new(_handle, _backend, "t", desired);

    private WireGuardSource Source(DesiredWireGuardDevice device, ConflictPolicy policy) => new(_handle, _backend, "t", [device], policy);

    private string Refused(DesiredWireGuardDevice device) => Assert.ThrowsAny<ArgumentException>(() => Source(device)).Message;
}
