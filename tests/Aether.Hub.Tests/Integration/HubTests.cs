using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.WireGuard;
using Aether.WireGuard.Tests;
using Aether.WireGuard.Tests.Integration;

namespace Aether.Hub.Tests.Integration;

/// <summary>
/// The hub end to end on this machine's kernel: two hosts simulated as namespaces joined by a veth underlay, a hub
/// bound to each host namespace, one container namespace behind each, and a third namespace on host A's side that
/// stands for the internet. <c>ip -j</c>, <c>wg show</c> and <c>nft -j</c> are the oracles, and pings the proof.
/// </summary>
public sealed partial class HubTests : SandboxTest
{
    private readonly WireGuardSecretKey[] _keysA = [WireGuardSecretKey.GeneratePrivate(), WireGuardSecretKey.GeneratePrivate(), WireGuardSecretKey.GeneratePrivate()];
    private readonly WireGuardSecretKey[] _keysB = [WireGuardSecretKey.GeneratePrivate(), WireGuardSecretKey.GeneratePrivate(), WireGuardSecretKey.GeneratePrivate()];
    private NetworkNamespace _hostA = null!;
    private NetworkNamespace _hostB = null!;
    private string _cA = null!;
    private string _cB = null!;
    private string _internet = null!;
    private readonly List<WireGuardHub> _hubs = [];

    private string HostA => _hostA.Name!;

    private string HostB => _hostB.Name!;

    [Fact]
    public async Task Containers_talk_over_two_networks_isolated_from_each_other_and_reach_out_through_the_first_networks_NAT()
    {
        var storeA = new InMemoryHubStore();
        var hubA = await StartAsync(_hostA, "a", storeA);
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());

        // Network 1 on both hosts.
        var addA = await hubA.AddNetworkAsync(Request(a: true, net: 0), default);
        Assert.True(addA.Created);
        Assert.Equal((Box.Name("a") + "0", "veth-root0", "eth0"), (addA.Network.WgInterface, addA.Network.VethRoot, addA.Network.EthInterface));
        Assert.Equal(_keysA[0].GetPublicKey().ToString(), addA.Network.PublicKey);
        Assert.True(addA.Network.Nat);
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);

        // The objects, read with ip: wg and veth-root in the host, eth0 in the container with its address and routes.
        Assert.Equal(hubA.Backend == WireGuardBackendKind.Kernel ? "wireguard" : "tun", await KindAsync(HostA, Box.Name("a") + "0"));
        Assert.Equal("veth", await KindAsync(HostA, "veth-root0"));
        var eth0 = await Ip.RequireLinkAsync(_cA, "eth0");
        Assert.Contains("UP", Ip.Flags(eth0));
        Assert.Contains("10.201.0.2/32", await AddressesAsync(_cA, "eth0"));
        Assert.Contains("10.201.0.1/32", await AddressesAsync(HostA, "veth-root0"));
        var routes = await RoutesAsync(_cA);
        Assert.Contains("default via 10.201.0.1 dev eth0", routes);
        Assert.Contains("10.201.0.0/24 via 10.201.0.1 dev eth0", routes);
        Assert.Equal("1", (await Ip.RunInAsync(HostA, "cat", "/proc/sys/net/ipv4/ip_forward")).Stdout.Trim());

        await PingAsync(_cA, "10.201.0.3", expect: true);

        // Status agrees with wg show, and the ping made a handshake and moved bytes.
        var status = await hubA.GetStatusAsync(default);
        var net1 = Assert.Single(status.Networks);
        Assert.True(net1.DeviceUp);
        Assert.Equal(51820, net1.ListenPort);
        var peer = Assert.Single(net1.Peers);
        var wg = await WgShowInAsync(Box.Name("a") + "0");
        Assert.Equal(wg.Peers.Single().PublicKey, peer.PublicKey);
        Assert.Equal(_keysB[0].GetPublicKey().ToString(), peer.PublicKey);
        Assert.Equal(["10.201.0.0/24"], peer.AllowedIps);
        Assert.Equal("192.168.77.2:51820", peer.Endpoint);
        Assert.NotNull(peer.LatestHandshake);
        Assert.True(peer.ReceivedBytes > 0 && peer.SentBytes > 0, $"rx {peer.ReceivedBytes} tx {peer.SentBytes}");

        // The same request again changes nothing.
        var linksBefore = await Ip.LinksAsync(HostA);
        var again = await hubA.AddNetworkAsync(Request(a: true, net: 0), default);
        Assert.False(again.Created);
        Assert.Equal(Summary(linksBefore), Summary(await Ip.LinksAsync(HostA)));

        // A second network on both: eth1, and pings on it too.
        var add2 = await hubA.AddNetworkAsync(Request(a: true, net: 1), default);
        Assert.False(add2.Network.Nat);
        await hubB.AddNetworkAsync(Request(a: false, net: 1), default);
        await PingAsync(_cA, "10.202.0.3", expect: true);
        await PingAsync(_cA, "10.201.0.3", expect: true);
        Assert.DoesNotContain("default via 10.202.0.1 dev eth1", await RoutesAsync(_cA)); // the default stays on the first

        // Traffic cannot cross: network 1's path to network 2's address (a route made by hand) goes nowhere.
        await Ip.RunAsync("-n", _cA, "route", "add", "10.202.0.3/32", "via", "10.201.0.1", "dev", "eth0", "onlink");
        await PingAsync(_cA, "10.202.0.3", expect: false);
        await Ip.RunAsync("-n", _cA, "route", "del", "10.202.0.3/32");

        // The first network's NAT: the internet namespace has no route back to 10.201.0.0/24, so only a
        // masqueraded ping gets its answer.
        await PingAsync(_cA, "198.18.0.2", expect: true);
        var nft = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "-j", "list", "table", "inet", "aether-hub");
        Assert.Equal(0, nft.Code);
        Assert.Contains("masquerade", nft.Stdout, StringComparison.Ordinal);
        Assert.Contains("10.201.0.0", nft.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("10.202.0.0", nft.Stdout, StringComparison.Ordinal);

        // Removing network 2 leaves network 1 pinging.
        await hubA.RemoveNetworkAsync("net-1", default);
        Assert.Null(await Ip.LinkAsync(_cA, "eth1"));
        Assert.Null(await Ip.LinkAsync(HostA, "veth-root1"));
        Assert.Null(await Ip.LinkAsync(HostA, Box.Name("a") + "1"));
        Assert.DoesNotContain("10.202.0.0/24", string.Join('\n', await RoutesAsync(_cA)), StringComparison.Ordinal);
        await PingAsync(_cA, "10.201.0.3", expect: true);
        await PingAsync(_cA, "10.202.0.3", expect: false);
        Assert.Equal(["net-0"], hubA.ListNetworks().Select(n => n.NetworkId));
        var notFound = await Assert.ThrowsAsync<HubException>(() => hubA.RemoveNetworkAsync("net-1", default));
        Assert.Equal(HubErrorKind.NotFound, notFound.Kind);
    }

    [Fact]
    public async Task Drift_is_repaired_and_a_restarted_hub_reconciles_from_its_store()
    {
        var storeA = new InMemoryHubStore();
        var hubA = await StartAsync(_hostA, "a", storeA);
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());
        await hubA.AddNetworkAsync(Request(a: true, net: 0), default);
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);
        await PingAsync(_cA, "10.201.0.3", expect: true);

        // eth0 deleted by hand (its veth-root0 goes with it): a hint wakes the loop, and the pair, the addresses and
        // the routes come back.
        await Ip.RunAsync("-n", _cA, "link", "del", "eth0");
        await WaitForAsync(async () => (await Ip.RunInAsync(_cA, "ping", "-c", "1", "-W", "1", "10.201.0.3")).Code == 0, 30, "eth0 repaired");
        Assert.Contains("default via 10.201.0.1 dev eth0", await RoutesAsync(_cA));

        // The peer removed with wg(8): the resync puts it back. (Not checked gone first: a loop pass still due from the
        // repair above can put it back before a second wg(8) looks; wg set failing would fail the test.)
        var wgA = Box.Name("a") + "0";
        await Wg.RequireAsync(null, "set", wgA, "peer", _keysB[0].GetPublicKey().ToString(), "remove");
        await WaitForAsync(async () => (await WgShowInAsync(wgA)).Peers.Count == 1, 30, "peer restored");
        await PingAsync(_cA, "10.201.0.3", expect: true);

        // Restart: the hub goes away, eth0 is deleted while it is down, a new hub on the same store brings the
        // network back and the peers handshake again.
        _hubs.Remove(hubA);
        await hubA.DisposeAsync();
        await Ip.RunAsync("-n", _cA, "link", "del", "eth0");
        var restarted = await StartAsync(_hostA, "a", storeA);
        Assert.Equal(["net-0"], restarted.ListNetworks().Select(n => n.NetworkId));
        Assert.NotNull(await Ip.LinkAsync(_cA, "eth0"));
        await PingAsync(_cA, "10.201.0.3", expect: true);
        var peer = (await restarted.GetStatusAsync(default)).Networks.Single().Peers.Single();
        Assert.NotNull(peer.LatestHandshake);
    }

    [Fact]
    public async Task Bad_conflicting_and_failing_requests_change_nothing_and_say_why()
    {
        var hub = await StartAsync(_hostA, "a", new InMemoryHubStore());
        var before = Summary(await Ip.LinksAsync(HostA));

        // Invalid: every bad field at once.
        var invalid = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(Request(a: true, net: 0) with { NetworkCidr = "10.201.0.0/33", PrivateKey = "nope", Index = -1 }, default));
        Assert.Equal(HubErrorKind.Invalid, invalid.Kind);
        Assert.Equal(["index", "privateKey", "networkCidr"], invalid.Errors.Select(e => e.Field).Where(f => f is "index" or "privateKey" or "networkCidr"));
        var noContainer = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(Request(a: true, net: 0) with { Container = Box.Name("none") }, default));
        Assert.Equal((HubErrorKind.Invalid, "container"), (noContainer.Kind, noContainer.Errors.Single().Field));

        // A foreign eth5 in the container: a conflict found before anything is made.
        await Ip.RunAsync("-n", _cA, "link", "add", "eth5", "type", "veth", "peer", "name", "eth5p");
        var foreign = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(Request(a: true, net: 0) with { Index = 5 }, default));
        Assert.True(foreign.Kind == HubErrorKind.Conflict, foreign.ToString());
        Assert.Contains("eth5", foreign.Message, StringComparison.Ordinal);
        Assert.Equal(before, Summary(await Ip.LinksAsync(HostA)));

        // A foreign link holding the device's name in the host: a conflict, nothing made.
        await Ip.RunAsync("-n", HostA, "link", "add", Box.Name("a") + "7", "type", "bridge");
        var foreignWg = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(Request(a: true, net: 0) with { Index = 7 }, default));
        Assert.True(foreignWg.Kind == HubErrorKind.Conflict, foreignWg.ToString());
        Assert.Equal("wireguard in the host", foreignWg.Step);
        Assert.Null(await Ip.LinkAsync(HostA, "veth-root7"));
        Assert.Null(await Ip.LinkAsync(_cA, "eth7"));
        await Ip.RunAsync("-n", HostA, "link", "del", Box.Name("a") + "7");

        // A failure half-way: the listen port is taken in the host namespace, so the device cannot be configured
        // after the veth pair was made; the pair is rolled back and the step named.
        using var squatter = _hostA.RunInside(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Any, 51829));
            return socket;
        });
        var failed = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(Request(a: true, net: 0) with { ListenPort = 51829 }, default));
        Assert.Equal(HubErrorKind.Failed, failed.Kind);
        Assert.Equal("wireguard in the host", failed.Step);
        Assert.Null(await Ip.LinkAsync(HostA, "veth-root0"));
        Assert.Null(await Ip.LinkAsync(_cA, "eth0"));
        Assert.Null(await Ip.LinkAsync(HostA, Box.Name("a") + "0"));
        Assert.Equal(before, Summary(await Ip.LinksAsync(HostA)));
        Assert.Empty(hub.ListNetworks());

        // Accepted, then conflicting requests: same id with other settings, same index, same port, overlapping CIDR.
        await hub.AddNetworkAsync(Request(a: true, net: 0), default);
        foreach (var request in new[]
        {
            Request(a: true, net: 0) with { Address = "10.201.0.9" },
            Request(a: true, net: 1) with { Index = 0 },
            Request(a: true, net: 1) with { ListenPort = 51820 },
            Request(a: true, net: 1) with { NetworkCidr = "10.201.0.0/16", Address = "10.201.1.2", Gateway = "10.201.1.1" },
        })
        {
            var conflict = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(request, default));
            Assert.Equal(HubErrorKind.Conflict, conflict.Kind);
        }

        Assert.Single(hub.ListNetworks());
    }

    protected override async Task SetUpAsync()
    {
        _hostA = Box.CreateNamespace("ha");
        _hostB = Box.CreateNamespace("hb");
        _cA = await Box.CreateNamespaceWithIpAsync("ca");
        _cB = await Box.CreateNamespaceWithIpAsync("cb");
        _internet = await Box.CreateNamespaceWithIpAsync("in");
        foreach (var ns in new[] { HostA, HostB, _cA, _cB, _internet })
        {
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
        }

        // The underlay between the hosts, and host A's uplink to the internet namespace (which has no route back to
        // the containers' networks).
        await Ip.RunAsync("-n", HostA, "link", "add", "under", "type", "veth", "peer", "name", "under", "netns", HostB);
        await Ip.RunAsync("-n", HostA, "addr", "add", "192.168.77.1/30", "dev", "under");
        await Ip.RunAsync("-n", HostB, "addr", "add", "192.168.77.2/30", "dev", "under");
        await Ip.RunAsync("-n", HostA, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink", "netns", _internet);
        await Ip.RunAsync("-n", HostA, "addr", "add", "198.18.0.1/30", "dev", "uplink");
        await Ip.RunAsync("-n", _internet, "addr", "add", "198.18.0.2/30", "dev", "uplink");
        foreach (var (ns, link) in new[] { (HostA, "under"), (HostB, "under"), (HostA, "uplink"), (_internet, "uplink") })
        {
            await Ip.RunAsync("-n", ns, "link", "set", link, "up");
        }
    }

    protected override async Task TearDownAsync()
    {
        foreach (var hub in _hubs)
        {
            await hub.DisposeAsync();
        }
    }

    private async Task<WireGuardHub> StartAsync(NetworkNamespace host, string side, IHubStore store, string owner = "hub")
    {
        var hub = await WireGuardHub.StartAsync(store, new WireGuardHubOptions
        {
            Owner = owner,
            HostNamespace = host,
            WireGuardPrefix = Box.Name(side),
            Loop = new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(2), ResyncGrid = TimeSpan.FromMilliseconds(100) },
        });
        _hubs.Add(hub);
        return hub;
    }

    /// <summary>Network <paramref name="net"/> (0 or 1) as host A or host B asks for it: 10.201.0.0/24 and
    /// 10.202.0.0/24, container A at .2 and B at .3, gateway .1 on both sides, ports 51820 and 51821.</summary>
    private HubNetworkRequest Request(bool a, int net) => new()
    {
        NetworkId = "net-" + net,
        Index = net,
        Container = a ? _cA : _cB,
        PrivateKey = (a ? _keysA : _keysB)[net].ToBase64(),
        ListenPort = 51820 + net,
        PeerEndpoint = (a ? "192.168.77.2:" : "192.168.77.1:") + (51820 + net),
        PeerPublicKey = (a ? _keysB : _keysA)[net].GetPublicKey().ToString(),
        Address = $"10.20{net + 1}.0.{(a ? 2 : 3)}",
        NetworkCidr = $"10.20{net + 1}.0.0/24",
        Gateway = $"10.20{net + 1}.0.1",
        PersistentKeepalive = 0,
    };

    private static async Task<string?> KindAsync(string ns, string link) => Ip.InfoKind(await Ip.RequireLinkAsync(ns, link));

    private static async Task<List<string>> AddressesAsync(string ns, string link)
    {
        var json = await Ip.JsonAsync(ns, "addr", "show", "dev", link);
        return [.. json.SelectMany(l => l.GetProperty("addr_info").EnumerateArray()).Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")];
    }

    /// <summary>The namespace's main-table IPv4 routes as <c>DST [via GW] dev DEV</c>.</summary>
    private static async Task<List<string>> RoutesAsync(string ns)
    {
        var json = await Ip.JsonAsync(ns, "-4", "route", "show");
        return [.. json.Select(r => r.GetProperty("dst").GetString() + (r.TryGetProperty("gateway", out var gw) ? " via " + gw.GetString() : "") + " dev " + r.GetProperty("dev").GetString())];
    }

    private static string Summary(JsonElement[] links) =>
        string.Join(' ', links.Select(l => Ip.Str(l, "ifname") + ":" + Ip.Int(l, "ifindex")).Order(StringComparer.Ordinal));

    private static async Task<WgShow> WgShowInAsync(string device) => await WgShow.ReadAsync(device);

    private static async Task PingAsync(string ns, string address, bool expect)
    {
        // The first packets of a fresh tunnel wait for its handshake: allow a few tries before calling it failed.
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < (expect ? 5 : 1); attempt++)
        {
            (code, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", address);
            if (code == 0)
            {
                break;
            }
        }

        Assert.True(expect == (code == 0), $"ping {address} from {ns} {(expect ? "failed" : "worked")} (exit {code}): {stdout} {stderr}");
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, int seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"not within {seconds} s: {what}");
            }

            await Task.Delay(200);
        }
    }
}
