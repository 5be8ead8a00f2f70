using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Topology;

namespace Aether.Netlink.IntegrationTests.Topology;

/// <summary>The topology controller against the kernel: the aether-ctl case from empty and again, its failure stories
/// (missing peer, stale pair, an end in the wrong namespace; repaired when ours, refused untouched when not), destroy,
/// and a router chain that forwards a ping.</summary>
public sealed class ControllerTests : SandboxTest
{
    private string _ns = null!;
    private string _host = null!;
    private string _peer = null!;
    private string _state = null!;

    // The host end's /30, drawn at random: the host namespace is shared with every other test run on the machine, and
    // an address another run holds there would be (rightly) a conflict.
    private readonly string _net = $"10.200.{System.Security.Cryptography.RandomNumberGenerator.GetInt32(256)}.{4 * System.Security.Cryptography.RandomNumberGenerator.GetInt32(64)}";

    private string HostAddress => Offset(1);

    private string PeerAddress => Offset(2);

    private string Offset(int by)
    {
        var parts = _net.Split('.');
        return $"{parts[0]}.{parts[1]}.{parts[2]}.{int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture) + by}";
    }

    protected override Task SetUpAsync()
    {
        _ns = Box.Name("ns");
        Box.TrackNamespace(_ns);
        _host = Box.TrackHostLink(Box.Name("h"));
        _peer = Box.Name("p");
        _state = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    private TopologySpec Ctl() => new(Box.Token)
    {
        Namespaces = [new TopologyNamespace(_ns) { Sysctls = [new("net.ipv4.ip_forward", "1")] }],
        Links =
        [
            new TopologyLink(_host, TopologyLinkKind.Veth)
            {
                Peer = new TopologyPeer(_peer) { Namespace = _ns, Addresses = [IPPrefix.Parse(PeerAddress + "/30")] },
                Addresses = [IPPrefix.Parse(HostAddress + "/30")],
            },
        ],
        Routes = [new TopologyRoute(_ns, null) { Via = IPAddress.Parse(HostAddress) }],
    };

    private TopologyController Controller(TopologySpec? spec = null) => new(spec ?? Ctl(), new ControllerOptions { StateDirectory = _state });

    private static string Show(TopologyResult r) => string.Join("\n", r.Lines) + (r.Error is null ? string.Empty : "\nerror: " + r.Error);

    [Fact]
    public async Task The_aether_ctl_case_from_empty_then_again_changes_nothing()
    {
        var plan = await Controller().PlanAsync();
        Assert.Contains(plan.Lines, l => l.ToString() == $"+ namespace {_ns}");
        Assert.Contains(plan.Lines, l => l.ToString() == $"+ veth {_host} ↔ {_ns}/{_peer}");
        Assert.False(await Ip.NetnsNamesAsync().ContinueWith(t => t.Result.Contains(_ns))); // planning touched nothing

        var first = await Controller().ApplyAsync();
        Assert.True(first.Error is null, Show(first));
        Assert.Contains(first.Lines, l => l.ToString() == $"+ veth {_host} ↔ {_ns}/{_peer}");
        Assert.Contains(first.Lines, l => l.ToString() == $"+ address {PeerAddress}/30 on {_ns}/{_peer}");

        var host = await Ip.RequireLinkAsync(null, _host);
        var peer = await Ip.RequireLinkAsync(_ns, _peer);
        Assert.Contains("UP", Ip.Flags(host));
        Assert.Contains("UP", Ip.Flags(peer));
        Assert.Equal("aether:" + Box.Token, Ip.Str(host, "ifalias"));
        var routes = await Ip.JsonAsync(_ns, "route", "show", "default");
        Assert.Equal(HostAddress, Assert.Single(routes).GetProperty("gateway").GetString());
        var (_, forward, _) = await Ip.RunInAsync(_ns, "cat", "/proc/sys/net/ipv4/ip_forward");
        Assert.Equal("1", forward.Trim());

        var second = await Controller().ApplyAsync();
        Assert.True(second.InSync, Show(second));
        Assert.True((await Controller().PlanAsync()).InSync);
    }

    [Fact]
    public async Task A_kernel_failure_stops_apply_after_its_stage_naming_the_object_and_the_kernels_text()
    {
        // A gateway no address of the namespace reaches: the routes stage fails with the kernel's ENETUNREACH, the
        // sysctls stage after it is never run, and what this apply made before it (the namespace, the veth) is taken
        // back out.
        var spec = Ctl() with { Routes = [new TopologyRoute(_ns, null) { Via = IPAddress.Parse("192.0.2.1") }] };

        var result = await Controller(spec).ApplyAsync();

        Assert.StartsWith($"route default via 192.0.2.1 table 254 in {_ns}: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("Network is unreachable", result.Error, StringComparison.Ordinal);
        Assert.Contains("rolled back what this apply created", result.Error, StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.ToString() == $"+ veth {_host} ↔ {_ns}/{_peer}");
        Assert.Contains(result.Lines, l => l.ToString() == $"+ address {PeerAddress}/30 on {_ns}/{_peer}");
        Assert.DoesNotContain(result.Lines, l => l.Subject.StartsWith("route ", StringComparison.Ordinal) || l.Subject.StartsWith("sysctl ", StringComparison.Ordinal));
        Assert.DoesNotContain(_ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(null, _host));
    }

    [Fact]
    public async Task A_host_end_whose_peer_is_missing_is_recreated_and_named()
    {
        Assert.Null((await Controller().ApplyAsync()).Error);
        await Ip.RunAsync("link", "del", _host);
        await Ip.RunAsync("link", "add", _host, "type", "veth", "peer", "name", Box.Name("x"));
        Box.TrackHostLink(Box.Name("x"));
        await Ip.RunAsync("link", "set", _host, "alias", "aether:" + Box.Token); // ours, from a crashed run

        var repair = await Controller().ApplyAsync();
        Assert.True(repair.Error is null, Show(repair));
        Assert.Contains(repair.Lines, l => l.Kind == ChangeKind.Delete && l.Reason!.Contains($"its peer {_peer} is missing", StringComparison.Ordinal));
        await AssertPairedAsync();
    }

    [Fact]
    public async Task A_stale_pair_is_repaired_and_named()
    {
        Assert.Null((await Controller().ApplyAsync()).Error);
        await Ip.RunAsync("link", "del", _host);
        await Ip.RunAsync("link", "add", _host, "type", "veth", "peer", "name", Box.TrackHostLink(Box.Name("x")));
        await Ip.RunAsync("link", "set", _host, "alias", "aether:" + Box.Token);
        await Ip.RunAsync("-n", _ns, "link", "add", _peer, "type", "veth", "peer", "name", Box.Name("y"));
        await Ip.RunAsync("-n", _ns, "link", "set", _peer, "alias", "aether:" + Box.Token);

        var repair = await Controller().ApplyAsync();
        Assert.True(repair.Error is null, Show(repair));
        Assert.Contains(repair.Lines, l => l.Reason?.Contains("is not its partner", StringComparison.Ordinal) == true);
        await AssertPairedAsync();
    }

    [Fact]
    public async Task An_end_in_the_wrong_namespace_is_repaired_when_ours_and_refused_untouched_when_not()
    {
        await Ip.RunAsync("netns", "add", _ns);
        await Ip.RunAsync("link", "add", _host, "type", "veth", "peer", "name", Box.TrackHostLink(_peer));
        var before = await Ip.JsonAsync(null, "-d", "link", "show", _host);

        var refused = await Controller().ApplyAsync();
        Assert.NotNull(refused.Error);
        Assert.Contains("nothing was changed", refused.Error, StringComparison.Ordinal);
        Assert.Contains(refused.Lines, l => l.Kind == ChangeKind.Conflict && l.Subject.Contains(_host, StringComparison.Ordinal));
        Assert.Equal(before[0].GetProperty("ifindex").GetInt32(), (await Ip.RequireLinkAsync(null, _host)).GetProperty("ifindex").GetInt32());
        Assert.Null(Ip.Str(await Ip.RequireLinkAsync(null, _host), "ifalias"));
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(_ns)); // nothing was created in the namespace either

        await Ip.RunAsync("link", "set", _host, "alias", "aether:" + Box.Token);
        await Ip.RunAsync("link", "set", _peer, "alias", "aether:" + Box.Token);
        var repair = await Controller().ApplyAsync();
        Assert.True(repair.Error is null, Show(repair));
        Assert.Contains(repair.Lines, l => l.Reason?.Contains("in the wrong namespace", StringComparison.Ordinal) == true);
        await AssertPairedAsync();
        Assert.Null(await Ip.LinkAsync(null, _peer));
    }

    [Fact]
    public async Task Destroy_removes_what_the_topology_owns_and_nothing_else()
    {
        var foreign = Box.TrackHostLink(Box.Name("f"));
        await Ip.RunAsync("link", "add", foreign, "type", "bridge");
        Assert.Null((await Controller().ApplyAsync()).Error);

        var gone = await Controller().DestroyAsync();
        Assert.True(gone.Error is null, Show(gone));
        Assert.Contains(gone.Lines, l => l.ToString().StartsWith($"- namespace {_ns}", StringComparison.Ordinal));
        Assert.DoesNotContain(_ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(null, _host));
        Assert.NotNull(await Ip.LinkAsync(null, foreign));
        Assert.False(Directory.Exists(Path.Combine(_state, Box.Token)));
    }

    [Fact]
    public async Task A_namespace_that_existed_before_is_used_and_kept_by_destroy()
    {
        await Ip.RunAsync("netns", "add", _ns);
        Assert.Null((await Controller().ApplyAsync()).Error);
        Assert.Null((await Controller().DestroyAsync()).Error);
        Assert.Contains(_ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(_ns, _peer));
        Assert.Null(await Ip.LinkAsync(null, _host));
    }

    [Fact]
    public async Task A_router_chain_forwards_a_ping_end_to_end()
    {
        string left = Box.Name("l"), router = Box.Name("r"), right = Box.Name("g");
        foreach (var ns in new[] { left, router, right })
        {
            Box.TrackNamespace(ns);
        }

        var spec = new TopologySpec(Box.Token)
        {
            Namespaces = [new TopologyNamespace(left), new TopologyNamespace(router) { Sysctls = [new("net.ipv4.ip_forward", "1")] }, new TopologyNamespace(right)],
            Links =
            [
                new TopologyLink("eth0", TopologyLinkKind.Veth) { Namespace = left, Addresses = [IPPrefix.Parse("10.201.1.1/30")], Peer = new TopologyPeer("left0") { Namespace = router, Addresses = [IPPrefix.Parse("10.201.1.2/30")] } },
                new TopologyLink("eth0", TopologyLinkKind.Veth) { Namespace = right, Addresses = [IPPrefix.Parse("10.201.2.1/30")], Peer = new TopologyPeer("right0") { Namespace = router, Addresses = [IPPrefix.Parse("10.201.2.2/30")] } },
            ],
            Routes =
            [
                new TopologyRoute(left, null) { Via = IPAddress.Parse("10.201.1.2") },
                new TopologyRoute(right, null) { Via = IPAddress.Parse("10.201.2.2") },
            ],
        };
        var applied = await Controller(spec).ApplyAsync();
        Assert.True(applied.Error is null, Show(applied));
        var (code, stdout, stderr) = await Ip.RunInAsync(left, "ping", "-c", "1", "-W", "2", "10.201.2.1");
        Assert.True(code == 0, stdout + stderr);
        Assert.True((await Controller(spec).ApplyAsync()).InSync);
    }

    [Fact]
    public async Task Addresses_in_a_new_namespace_land_on_the_peer_each_names()
    {
        // A new namespace holding only peers (of two veths from the host and one from another new namespace): its
        // addresses stage takes their ifindexes from the other ends, not from a dump of its own. Each address must be
        // on the peer it names, whatever order the kernel numbered them in.
        var other = Box.Name("o");
        Box.TrackNamespace(other);
        var second = Box.TrackHostLink(Box.Name("s"));
        var spec = new TopologySpec(Box.Token)
        {
            Namespaces = [new TopologyNamespace(_ns), new TopologyNamespace(other)],
            Links =
            [
                new TopologyLink(second, TopologyLinkKind.Veth) { Peer = new TopologyPeer("b1") { Namespace = _ns, Addresses = [IPPrefix.Parse("10.202.0.6/30")] } },
                new TopologyLink(_host, TopologyLinkKind.Veth) { Peer = new TopologyPeer("a1") { Namespace = _ns, Addresses = [IPPrefix.Parse("10.202.0.2/30")] } },
                new TopologyLink("x0", TopologyLinkKind.Veth) { Namespace = other, Addresses = [IPPrefix.Parse("10.202.0.9/30")], Peer = new TopologyPeer("c1") { Namespace = _ns, Addresses = [IPPrefix.Parse("10.202.0.10/30"), IPPrefix.Parse("fd00:202::a/64")] } },
            ],
        };

        var applied = await Controller(spec).ApplyAsync();
        Assert.True(applied.Error is null, Show(applied));
        foreach (var (device, want) in new[] { ("a1", new[] { "10.202.0.2" }), ("b1", ["10.202.0.6"]), ("c1", ["10.202.0.10", "fd00:202::a"]) })
        {
            var shown = await Ip.JsonAsync(_ns, "addr", "show", "dev", device, "scope", "global");
            var got = Assert.Single(shown).GetProperty("addr_info").EnumerateArray().Where(a => a.TryGetProperty("local", out _)).Select(a => a.GetProperty("local").GetString()).ToArray();
            Assert.Equal(want.Order(StringComparer.Ordinal), got.Order(StringComparer.Ordinal));
        }

        Assert.True((await Controller(spec).ApplyAsync()).InSync);
    }

    private async Task AssertPairedAsync()
    {
        var host = await Ip.RequireLinkAsync(null, _host);
        var peer = await Ip.RequireLinkAsync(_ns, _peer);
        Assert.Equal(Ip.Int(peer, "ifindex"), Ip.Int(host, "link_index"));
        Assert.Contains("UP", Ip.Flags(host));
        Assert.True((await Controller().PlanAsync()).InSync);
    }
}
