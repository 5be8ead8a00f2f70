using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Topology;

namespace Aether.Netlink.IntegrationTests.Topology;

/// <summary>A topology's <c>nat</c> through the controller: masquerade on a router between two namespaces, repaired
/// after a hand edit, removed when dropped from the file and by destroy, with other tables left alone. The oracle is
/// <c>nft -j list ruleset</c> inside the test namespaces, and ping.</summary>
public sealed class NatControllerTests : SandboxTest
{
    private string _left = null!;
    private string _router = null!;
    private string _right = null!;
    private string _state = null!;

    private string Table => "aether-" + Box.Token;

    protected override Task SetUpAsync()
    {
        (_left, _router, _right) = (Box.Name("l"), Box.Name("r"), Box.Name("g"));
        foreach (var ns in new[] { _left, _router, _right })
        {
            Box.TrackNamespace(ns);
        }

        _state = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    /// <summary>left (10.202.1.2) - router - right (10.202.2.1); right has no route back to 10.202.1.0/24.</summary>
    private TopologySpec Spec(bool nat = true) => new(Box.Token)
    {
        Namespaces =
        [
            new TopologyNamespace(_left),
            new TopologyNamespace(_router)
            {
                Sysctls = [new("net.ipv4.ip_forward", "1")],
                Nat = nat ? [new TopologyMasquerade(IPPrefix.Parse("10.202.1.0/24"), "right0")] : [],
            },
            new TopologyNamespace(_right),
        ],
        Links =
        [
            new TopologyLink("eth0", TopologyLinkKind.Veth) { Namespace = _left, Addresses = [IPPrefix.Parse("10.202.1.2/24")], Peer = new TopologyPeer("left0") { Namespace = _router, Addresses = [IPPrefix.Parse("10.202.1.1/24")] } },
            new TopologyLink("eth0", TopologyLinkKind.Veth) { Namespace = _right, Addresses = [IPPrefix.Parse("10.202.2.1/24")], Peer = new TopologyPeer("right0") { Namespace = _router, Addresses = [IPPrefix.Parse("10.202.2.2/24")] } },
        ],
        Routes = [new TopologyRoute(_left, null) { Via = IPAddress.Parse("10.202.1.1") }],
    };

    private TopologyController Controller(TopologySpec spec) => new(spec, new ControllerOptions { StateDirectory = _state });

    private static string Show(TopologyResult r) => string.Join("\n", r.Lines) + (r.Error is null ? string.Empty : "\nerror: " + r.Error);

    private string NatLine(char symbol, string? reason = null) =>
        $"{symbol} nat in {_router}: masquerade 10.202.1.0/24 out right0" + (reason is null ? string.Empty : $" ({reason})");

    private async Task<int> PingAsync() => (await Ip.RunInAsync(_left, "ping", "-c", "1", "-W", "2", "10.202.2.1")).Code;

    [Fact]
    public async Task Nat_lets_a_namespace_behind_a_router_reach_one_with_no_route_back_and_is_kept()
    {
        var plan = await Controller(Spec()).PlanAsync();
        Assert.Contains(plan.Lines, l => l.ToString() == NatLine('+'));

        var applied = await Controller(Spec()).ApplyAsync();
        Assert.True(applied.Error is null, Show(applied));
        Assert.Contains(applied.Lines, l => l.ToString() == NatLine('+'));
        Assert.Equal([$"inet {Table}"], await Nft.TablesAsync(_router));
        Assert.Equal(0, await PingAsync());

        var again = await Controller(Spec()).ApplyAsync();
        Assert.True(again.InSync, Show(again));
        Assert.Contains(again.Lines, l => l.ToString() == NatLine('='));

        // A hand edit inside our table is drift: shown by plan, put back by apply.
        await Nft.RunAsync(_router, "flush", "chain", "inet", Table, "postrouting");
        Assert.NotEqual(0, await PingAsync());
        Assert.Contains((await Controller(Spec()).PlanAsync()).Lines, l => l.ToString() == NatLine('~', "chain postrouting: 1 rule missing (0 of 1 present)"));
        Assert.Null((await Controller(Spec()).ApplyAsync()).Error);
        Assert.Equal(0, await PingAsync());
    }

    [Fact]
    public async Task Run_puts_back_a_flushed_nat_chain_through_the_nftables_hint()
    {
        Assert.Null((await Controller(Spec()).ApplyAsync()).Error);
        using var stop = new CancellationTokenSource();
        var reports = new System.Collections.Concurrent.ConcurrentQueue<Aether.Reconcile.PassReport>();
        var run = Controller(Spec()).RunAsync(new Aether.Reconcile.ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) }, reports.Enqueue, cancellationToken: stop.Token);
        try
        {
            // The loops' first passes find everything in sync; then only a hint can wake the router's loop. The host's
            // loop reports many passes of its own, so it is the router's first pass that is waited for: counted as the
            // probe's answer below, it would let the chain be flushed before the router's monitors are up.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!reports.Any(r => r.Source.StartsWith(_router, StringComparison.Ordinal)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the router's loop never made its first pass");
                await Task.Delay(20);
            }

            // A loop's first pass ends before its monitors are surely subscribed (they open on the namespace threads,
            // which a busy machine queues): a table of someone else's, made and removed until the router's loop
            // answers with a pass, shows the nftables hint path is live before the chain is flushed.
            var probe = "probe-" + Box.Token;
            var passes = reports.Count(r => r.Source.StartsWith(_router, StringComparison.Ordinal));
            while (reports.Count(r => r.Source.StartsWith(_router, StringComparison.Ordinal)) == passes)
            {
                Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromSeconds(30), "the router's loop never answered an nftables change");
                await Nft.RunAsync(_router, "add", "table", "inet", probe);
                await Nft.RunAsync(_router, "delete", "table", "inet", probe);
                await Task.Delay(100);
            }

            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            await Nft.RunAsync(_router, "flush", "chain", "inet", Table, "postrouting");
            while ((await Nft.RulesAsync(_router, "inet", Table, "postrouting")).Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the flushed chain was not repaired; reports: " + string.Join("; ", reports.Select(r => $"{r.Source} {r.Outcome} {r.Error}")));
                await Task.Delay(20);
            }

            Assert.Equal(0, await PingAsync());
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task Nat_dropped_from_the_file_takes_its_table_away_and_leaves_other_tables()
    {
        Assert.Null((await Controller(Spec()).ApplyAsync()).Error);
        await Nft.RunAsync(_router, "add", "table", "inet", "foreign-" + Box.Token);

        var applied = await Controller(Spec(nat: false)).ApplyAsync();
        Assert.True(applied.Error is null, Show(applied));
        Assert.Contains(applied.Lines, l => l.ToString() == $"- nftables inet {Table} in {_router} (no longer desired)");
        Assert.Equal([$"inet foreign-{Box.Token}"], await Nft.TablesAsync(_router));
        Assert.True((await Controller(Spec(nat: false)).ApplyAsync()).InSync);
    }

    [Fact]
    public async Task Destroy_removes_the_table_from_a_namespace_the_topology_did_not_create()
    {
        await Ip.RunAsync("netns", "add", _router);
        await Nft.RunAsync(_router, "add", "table", "ip", "foreign-" + Box.Token);
        Assert.Null((await Controller(Spec()).ApplyAsync()).Error);
        Assert.Equal([$"inet {Table}", $"ip foreign-{Box.Token}"], (await Nft.TablesAsync(_router)).Order(StringComparer.Ordinal));

        var destroyed = await Controller(Spec()).DestroyAsync();
        Assert.True(destroyed.Error is null, Show(destroyed));
        Assert.Contains(destroyed.Lines, l => l.ToString() == $"- nftables inet {Table} in {_router} (no longer desired)");
        Assert.Contains(_router, await Ip.NetnsNamesAsync());
        Assert.Equal([$"ip foreign-{Box.Token}"], await Nft.TablesAsync(_router));
        Assert.DoesNotContain(_left, await Ip.NetnsNamesAsync());
    }
}
