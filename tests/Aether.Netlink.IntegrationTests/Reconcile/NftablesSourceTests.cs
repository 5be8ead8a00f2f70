using System.Net;
using System.Net.Sockets;
using System.Text;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Nftables;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A loop runs on a timer here too: these tests run apart from the parallel kernel tests (see
/// <see cref="LinkSourceCollection"/>).</summary>
[CollectionDefinition(nameof(NftablesSourceTests), DisableParallelization = true)]
public sealed class NftablesSourceCollection
{
}

/// <summary>
/// The nftables source against the kernel, in test namespaces only. The oracle is <c>nft -j list ruleset</c> run with
/// <c>ip netns exec</c>; a table of someone else's sits next to ours and must come through every pass unchanged, and
/// the host's ruleset is read before and after each test and must not change.
/// </summary>
[Collection(nameof(NftablesSourceTests))]
public sealed class NftablesSourceTests : SandboxTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private NetworkNamespace _ns = null!;
    private NftContext _nft = null!;
    private AppliedRecord _record = null!;
    private string? _hostRuleset;
    private string _foreign = null!;

    private string Ns => _ns.Name!;

    private string Table => "aether-" + Box.Token;

    protected override async Task SetUpAsync()
    {
        _hostRuleset = await Nft.HostRulesetAsync();
        _ns = Box.CreateNamespace("n");
        _nft = Box.Own(NftContext.OpenAt(_ns));
        _record = AppliedRecord.InMemory();

        // Someone else's table, in the same family, with a counter that must keep its count.
        _foreign = "foreign-" + Box.Token;
        await Nft.ScriptAsync(Ns, $$"""
            table inet {{_foreign}} {
                chain postrouting {
                    type nat hook postrouting priority 50; policy accept;
                    ip daddr 192.0.2.0/24 counter packets 7 bytes 700 masquerade
                }
            }
            """);
    }

    private NftablesSource Source(params NftChain[] chains) => new(_nft, Box.Token, chains, new NftablesSourceOptions { Record = _record });

    private static NftChain Nat(params NftRule[] rules) => NftChain.NatPostrouting(rules);

    private static NftRule Masq(string prefix, string device = "eth0") => NftRule.Masquerade(IPPrefix.Parse(prefix), device);

    private Task<string> ForeignAsync() => Nft.RunAsync(Ns, "-j", "list", "table", "inet", _foreign);

    private async Task AssertHostUnchangedAsync() => Assert.Equal(_hostRuleset, await Nft.HostRulesetAsync());

    /// <summary>The masquerade rules of our postrouting chain, as nft lists them: the source prefix of each.</summary>
    private async Task<List<string>> MasqueradedAsync() =>
        [.. (await Nft.RulesAsync(Ns, "inet", Table, "postrouting")).Select(r =>
        {
            var right = r.GetProperty("expr")[0].GetProperty("match").GetProperty("right").GetProperty("prefix");
            return right.GetProperty("addr").GetString() + "/" + right.GetProperty("len").GetInt32();
        })];

    [Fact]
    public async Task A_pass_creates_the_table_then_the_next_finds_nothing_to_do_and_the_foreign_table_is_untouched()
    {
        var foreign = await ForeignAsync();
        var source = Source(Nat(Masq("10.0.0.0/24"), Masq("10.0.1.0/24", "eth1")));
        Assert.Equal($"nftables inet {Table} in {Ns}", source.Name);

        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal([$"create nftables inet {Table}: missing"], first.Applied.Select(op => op.ToString()));
        Assert.Equal(["10.0.0.0/24", "10.0.1.0/24"], await MasqueradedAsync());
        Assert.Equal([$"inet {Table}", $"inet {_foreign}"], (await Nft.TablesAsync(Ns)).Order(StringComparer.Ordinal));
        Assert.True(_record.TryGet(source.Target, out _));

        var second = await source.RunPassAsync(CancellationToken.None);
        Assert.True(second.Plan.IsEmpty, string.Join("; ", second.Plan));

        // A fresh source with an empty record (a restarted controller) finds it in sync too: the masquerade rules
        // read back exactly as they were given.
        var restarted = new NftablesSource(_nft, Box.Token, source.Desired!.Chains, new NftablesSourceOptions { Record = AppliedRecord.InMemory() });
        Assert.True((await restarted.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);

        Assert.Equal(foreign, await ForeignAsync());
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task A_rule_deleted_by_hand_comes_back_at_the_next_pass()
    {
        var source = Source(Nat(Masq("10.0.0.0/24"), Masq("10.0.1.0/24")));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var foreign = await ForeignAsync();

        var handle = (await Nft.RulesAsync(Ns, "inet", Table, "postrouting"))[0].GetProperty("handle").GetInt64();
        await Nft.RunAsync(Ns, "delete", "rule", "inet", Table, "postrouting", "handle", handle.ToString());
        Assert.Equal(["10.0.1.0/24"], await MasqueradedAsync());

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal([$"update nftables inet {Table}: chain postrouting: 1 rule missing (1 of 2 present)"], pass.Applied.Select(op => op.ToString()));
        Assert.Equal(["10.0.0.0/24", "10.0.1.0/24"], await MasqueradedAsync());
        Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
        Assert.Equal(foreign, await ForeignAsync());
    }

    [Fact]
    public async Task Chains_and_rules_added_by_hand_inside_our_table_go_and_a_deleted_table_comes_back()
    {
        var source = Source(Nat(Masq("10.0.0.0/24")));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await Nft.RunAsync(Ns, "add", "chain", "inet", Table, "extra");
        await Nft.RunAsync(Ns, "add", "rule", "inet", Table, "postrouting", "ip", "saddr", "10.9.0.0/16", "masquerade");

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Equal(
            [$"update nftables inet {Table}: chain postrouting: 1 rule not desired (2 present, want 1); chain extra not desired"],
            pass.Applied.Select(op => op.ToString()));
        Assert.Equal(["10.0.0.0/24"], await MasqueradedAsync());
        Assert.DoesNotContain(await Nft.TableItemsAsync(Ns, "inet", Table), i => i.TryGetProperty("chain", out var c) && c.GetProperty("name").GetString() == "extra");

        await Nft.RunAsync(Ns, "delete", "table", "inet", Table);
        pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Equal([$"create nftables inet {Table}: missing (deleted since it was applied)"], pass.Applied.Select(op => op.ToString()));
        Assert.Equal(["10.0.0.0/24"], await MasqueradedAsync());
    }

    [Fact]
    public async Task A_rule_nft_prints_differently_is_recorded_as_the_kernel_shows_it_and_then_left_alone()
    {
        // "in" against an anonymous set comes back as "==".
        var rule = NftRule.FromJson("""[{"match":{"op":"in","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,80]}}},{"accept":null}]""");
        var filter = new NftChain("input", [rule]) { Type = "filter", Hook = "input", Priority = 0 };
        var source = Source(filter);
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var listed = Assert.Single(await Nft.RulesAsync(Ns, "inet", Table, "input"));
        Assert.Equal("==", listed.GetProperty("expr")[0].GetProperty("match").GetProperty("op").GetString());

        Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);

        // Drift is still drift: the rule deleted by hand comes back.
        await Nft.RunAsync(Ns, "flush", "chain", "inet", Table, "input");
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Equal([$"update nftables inet {Table}: chain input: 1 rule missing (0 of 1 present)"], pass.Applied.Select(op => op.ToString()));
        Assert.Single(await Nft.RulesAsync(Ns, "inet", Table, "input"));
    }

    [Fact]
    public async Task A_table_the_kernel_refuses_is_a_terminal_failure_and_changes_nothing()
    {
        var source = Source(Nat(Masq("10.0.0.0/24")));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var before = await Nft.RunAsync(Ns, "-j", "list", "ruleset");

        var filter = new NftChain("postrouting", [Masq("10.0.0.0/24")]) { Type = "filter", Hook = "postrouting", Priority = 0 };
        var bad = Source(filter);
        await bad.CheckAsync(CancellationToken.None); // hook checks are made at commit only: check passes
        var pass = await bad.RunPassAsync(CancellationToken.None);
        var error = Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.Contains("EOPNOTSUPP (Operation not supported)", error.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.IsType<NftablesException>(error.InnerException).Errno);
        Assert.Equal(before, await Nft.RunAsync(Ns, "-j", "list", "ruleset"));
    }

    [Fact]
    public async Task No_chains_deletes_our_table_and_release_forgets_it_leaving_the_foreign_one()
    {
        var foreign = await ForeignAsync();
        Assert.Null((await Source(Nat(Masq("10.0.0.0/24"))).RunPassAsync(CancellationToken.None)).Error);

        var none = Source();
        var pass = await none.RunPassAsync(CancellationToken.None);
        Assert.Equal([$"delete nftables inet {Table}: no longer desired"], pass.Applied.Select(op => op.ToString()));
        Assert.Equal([$"inet {_foreign}"], await Nft.TablesAsync(Ns));
        Assert.Equal(0, _record.Count);

        var source = Source(Nat(Masq("10.0.0.0/24")));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await source.ReleaseAsync(CancellationToken.None);
        Assert.Equal([$"inet {_foreign}"], await Nft.TablesAsync(Ns));
        Assert.Equal(0, _record.Count);
        Assert.Equal(foreign, await ForeignAsync());
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task A_loop_heals_a_deleted_rule_through_the_hint_path()
    {
        using var loop = new ReconcileLoop(Source(Nat(Masq("10.0.0.0/24"))), new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => (await Nft.TablesAsync(Ns)).Contains($"inet {Table}"), loop);
            // The monitor is subscribed once the loop's first pass is done: wait for that pass to be counted (under
            // load it ends well after its table appears), then a moment for the subscription.
            await WaitForAsync(() => Task.FromResult(loop.Status.Passes >= 1), loop);
            await Task.Delay(200);
            var passes = loop.Status.Passes;
            await Nft.RunAsync(Ns, "flush", "chain", "inet", Table, "postrouting");
            await WaitForAsync(async () => (await MasqueradedAsync()).Count == 1, loop);
            // The repair shows in the kernel before its pass ends and is counted.
            await WaitForAsync(() => Task.FromResult(loop.Status.Passes > passes), loop);
            Assert.True(loop.Status.Passes > passes);

            // A change to someone else's table is not a hint for us (the passes our own repair woke are over first).
            await Task.Delay(500);
            passes = loop.Status.Passes;
            await Nft.RunAsync(Ns, "add", "chain", "inet", _foreign, "other");
            await Task.Delay(500);
            Assert.Equal(passes, loop.Status.Passes);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Masquerade_lets_a_namespace_behind_nat_reach_a_third_that_sees_the_nat_address()
    {
        // A (10.210.1.2) -- (10.210.1.1) NAT (10.210.2.1) -- (10.210.2.2) C. C has no route back to 10.210.1.0/24:
        // only traffic that leaves NAT with NAT's address can be answered.
        var a = Box.CreateNamespace("a");
        var c = Box.CreateNamespace("c");
        string na = Box.Name("na"), nc = Box.Name("nc");
        await Ip.RunAsync("-n", Ns, "link", "add", na, "type", "veth", "peer", "name", "eth0", "netns", a.Name!);
        await Ip.RunAsync("-n", Ns, "link", "add", nc, "type", "veth", "peer", "name", "eth0", "netns", c.Name!);
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.210.1.1/24", "dev", na);
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.210.2.1/24", "dev", nc);
        await Ip.RunAsync("-n", a.Name!, "addr", "add", "10.210.1.2/24", "dev", "eth0");
        await Ip.RunAsync("-n", c.Name!, "addr", "add", "10.210.2.2/24", "dev", "eth0");
        foreach (var (ns, dev) in new[] { (Ns, na), (Ns, nc), (a.Name!, "eth0"), (c.Name!, "eth0"), (a.Name!, "lo"), (c.Name!, "lo") })
        {
            await Ip.RunAsync("-n", ns, "link", "set", dev, "up");
        }

        await Ip.RunAsync("-n", a.Name!, "route", "add", "default", "via", "10.210.1.1");
        await SysctlOracle.WriteAsync(Ns, "net.ipv4.ip_forward", "1");

        // Without the NAT rule the echo reaches C, whose answer has nowhere to go.
        Assert.NotEqual(0, (await Ip.RunInAsync(a.Name!, "ping", "-c", "1", "-W", "1", "10.210.2.2")).Code);

        var source = Source(Nat(Masq("10.210.1.0/24", nc)));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var (code, stdout, stderr) = await Ip.RunInAsync(a.Name!, "ping", "-c", "2", "-W", "2", "10.210.2.2");
        Assert.True(code == 0, stdout + stderr);

        // What C sees: a datagram from A arrives from NAT's address.
        using var listener = c.RunInside(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, 0));
            return s;
        });
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var sender = a.RunInside(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var receive = new byte[64];
        using var cts = new CancellationTokenSource(Patience);
        var received = listener.ReceiveFromAsync(receive, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token).AsTask();
        await sender.SendToAsync(Encoding.ASCII.GetBytes(Box.Token), SocketFlags.None, new IPEndPoint(IPAddress.Parse("10.210.2.2"), port));
        var result = await received;
        Assert.Equal(Box.Token, Encoding.ASCII.GetString(receive, 0, result.ReceivedBytes));
        Assert.Equal(IPAddress.Parse("10.210.2.1"), ((IPEndPoint)result.RemoteEndPoint).Address);
        await AssertHostUnchangedAsync();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, ReconcileLoop? loop = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                var s = loop?.Status;
                Assert.Fail($"condition not met in time; loop: {s?.Passes} passes, running {s?.Running}, {s?.ConsecutiveFailures} failures, last {s?.LastReport?.Outcome}: {s?.LastReport?.Error}; next {s?.NextPass}");
            }

            await Task.Delay(20);
        }
    }
}
