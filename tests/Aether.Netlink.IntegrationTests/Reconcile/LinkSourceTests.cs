using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>Loops run on timers: these tests run apart from the parallel kernel tests, so that their deadlines measure
/// the loop and not the load. (Under that load a loop once started its first pass only after 10 s: namespace entries
/// queued behind namespace creations that waited on the kernel's pernet lock; the two now have separate workers.)</summary>
[CollectionDefinition(nameof(LinkSourceTests), DisableParallelization = true)]
public sealed class LinkSourceCollection
{
}

[Collection(nameof(LinkSourceTests))]
public sealed class LinkSourceTests : SandboxTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private NetworkNamespace _a = null!;
    private NetworkNamespace _b = null!;
    private NetlinkHandle _h = null!;
    private string _veth = null!;
    private string _peer = null!;
    private string _bridge = null!;

    protected override Task SetUpAsync()
    {
        _a = Box.CreateNamespace("a");
        _b = Box.CreateNamespace("b");
        _h = Box.OpenAt(_a);
        _veth = Box.Name("v");
        _peer = Box.Name("p");
        _bridge = Box.Name("br");
        return Task.CompletedTask;
    }

    private LinkSource Source(params DesiredLink[] desired) => Box.Own(new LinkSource(_h, Box.Token, desired));

    private DesiredLink[] Desired() =>
    [
        new DesiredLink(_veth, new Veth(_peer) { PeerNamespace = _b }) { Mtu = 1400 },
        new DesiredLink(_bridge, new Bridge()),
    ];

    [Fact]
    public async Task A_pass_creates_marks_and_raises_then_the_next_finds_nothing_to_do()
    {
        var source = Source(Desired());
        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal(2, first.Applied.Count);

        var veth = await Ip.RequireLinkAsync(_a.Name, _veth);
        Assert.Equal("aether:" + Box.Token, Ip.Str(veth, "ifalias"));
        Assert.Equal(1400, Ip.Int(veth, "mtu"));
        Assert.Contains("UP", Ip.Flags(veth));
        var peer = await Ip.RequireLinkAsync(_b.Name, _peer);
        Assert.Contains("UP", Ip.Flags(peer));
        Assert.Equal(Ip.Int(peer, "ifindex"), Ip.Int(veth, "link_index"));
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_a.Name, _bridge)));

        var second = await source.RunPassAsync(CancellationToken.None);
        Assert.True(second.Plan.IsEmpty, string.Join("; ", second.Plan));
    }

    [Fact]
    public async Task Creations_sent_together_report_each_one_and_a_failure_in_the_middle_leaves_the_others_made()
    {
        // The veth's peer name is taken in B, after the plan, by a link that is not ours: its creation fails (EEXIST)
        // between two that succeed. (Taken before the plan, it is a conflict the plan reports: see below.)
        var second = Box.Name("br2");
        var source = Source(new DesiredLink(_bridge, new Bridge()), new DesiredLink(_veth, new Veth(_peer) { PeerNamespace = _b }), new DesiredLink(second, new Bridge()) { Up = false });
        var plan = await source.PlanPassAsync(CancellationToken.None);
        Assert.DoesNotContain(plan, op => op.Conflict);
        await Ip.RunAsync("-n", _b.Name!, "link", "add", _peer, "type", "bridge");

        var pass = await source.ApplyPlanAsync(plan, CancellationToken.None);
        var error = Assert.IsType<NetlinkException>(pass.Error);
        Assert.Equal(Errno.EEXIST, error.Errno);
        Assert.Equal(["link " + _bridge, "link " + second], pass.Applied.Select(op => op.Target));
        Assert.Equal("link " + _veth, Assert.Single(pass.Pending).Target);

        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_a.Name, _bridge)));
        var down = await Ip.RequireLinkAsync(_a.Name, second);
        Assert.DoesNotContain("UP", Ip.Flags(down));
        Assert.Equal("aether:" + Box.Token, Ip.Str(down, "ifalias"));
        Assert.Null(await Ip.LinkAsync(_a.Name, _veth));
        Assert.Equal("bridge", Ip.InfoKind(await Ip.RequireLinkAsync(_b.Name, _peer)));

        // The next plan sees the foreign link that holds the peer's name: a conflict, before anything is tried.
        var next = await source.PlanPassAsync(CancellationToken.None);
        var conflict = Assert.Single(next, op => op.Conflict);
        Assert.Contains($"{_peer} exists in the peer's namespace and is not ours", conflict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_orphaned_peer_of_ours_is_deleted_before_its_pair_is_made_again()
    {
        var source = Source(new DesiredLink(_veth, new Veth(_peer) { PeerNamespace = _b }));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var peerIndex = Ip.Int(await Ip.RequireLinkAsync(_b.Name, _peer), "ifindex");

        // An orphan: our end renamed away and no longer ours, the peer in B still marked and holding its name.
        await Ip.RunAsync("-n", _a.Name!, "link", "set", _veth, "name", Box.Name("gone"));
        await Ip.RunAsync("-n", _a.Name!, "link", "set", Box.Name("gone"), "alias", "someone-else");
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(["delete peer of link " + _veth + ": an orphan: its partner is missing", "create link " + _veth + ": missing"], pass.Applied.Select(op => op.ToString()));
        Assert.NotEqual(peerIndex, Ip.Int(await Ip.RequireLinkAsync(_b.Name, _peer), "ifindex"));
        Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task A_veth_with_both_ends_here_is_stable()
    {
        var source = Source(new DesiredLink(_veth, new Veth(_peer)));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var again = await source.RunPassAsync(CancellationToken.None);
        Assert.True(again.Plan.IsEmpty, string.Join("; ", again.Plan));
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_a.Name, _peer)));
    }

    [Fact]
    public async Task Drift_made_with_ip_is_repaired()
    {
        var source = Source(Desired());
        await source.RunPassAsync(CancellationToken.None);

        await Ip.RunAsync("-n", _a.Name!, "link", "set", _veth, "mtu", "1300");
        await Ip.RunAsync("-n", _a.Name!, "link", "set", _bridge, "down");
        await Ip.RunAsync("-n", _b.Name!, "link", "set", _peer, "down");
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(3, pass.Applied.Count);
        Assert.Equal(1400, Ip.Int(await Ip.RequireLinkAsync(_a.Name, _veth), "mtu"));
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_a.Name, _bridge)));
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(_b.Name, _peer)));
    }

    [Fact]
    public async Task A_stale_pair_is_deleted_and_recreated_and_the_report_says_so()
    {
        var source = Source(Desired());
        await source.RunPassAsync(CancellationToken.None);

        // The stale pair of reference 000: our veth now pairs with a stray end, and a different veth holds the peer's name.
        await Ip.RunAsync("-n", _a.Name!, "link", "del", _veth);
        await Ip.RunAsync("-n", _a.Name!, "link", "add", _veth, "type", "veth", "peer", "name", Box.Name("x"));
        await Ip.RunAsync("-n", _a.Name!, "link", "set", _veth, "alias", "aether:" + Box.Token);
        await Ip.RunAsync("-n", _b.Name!, "link", "add", _peer, "type", "veth", "peer", "name", Box.Name("y"));
        await Ip.RunAsync("-n", _b.Name!, "link", "set", _peer, "alias", "aether:" + Box.Token); // ours, from an earlier run

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Contains(pass.Applied, op => op.Kind == OperationKind.Delete && op.Reason.Contains("not its partner", StringComparison.Ordinal));
        var veth = await Ip.RequireLinkAsync(_a.Name, _veth);
        var peer = await Ip.RequireLinkAsync(_b.Name, _peer);
        Assert.Equal(Ip.Int(peer, "ifindex"), Ip.Int(veth, "link_index"));
    }

    [Fact]
    public async Task A_stray_peer_that_is_not_ours_is_a_conflict()
    {
        var source = Source(Desired());
        await source.RunPassAsync(CancellationToken.None);
        Assert.Equal("aether:" + Box.Token, Ip.Str(await Ip.RequireLinkAsync(_b.Name, _peer), "ifalias"));

        await Ip.RunAsync("-n", _a.Name!, "link", "del", _veth);
        await Ip.RunAsync("-n", _a.Name!, "link", "add", _veth, "type", "veth", "peer", "name", Box.Name("x"));
        await Ip.RunAsync("-n", _a.Name!, "link", "set", _veth, "alias", "aether:" + Box.Token);
        await Ip.RunAsync("-n", _b.Name!, "link", "add", _peer, "type", "veth", "peer", "name", Box.Name("y"));

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.NotNull(await Ip.LinkAsync(_b.Name, _peer)); // someone else's: left alone
    }

    [Fact]
    public async Task A_foreign_link_with_our_name_is_a_conflict_and_stays_untouched()
    {
        await Ip.RunAsync("-n", _a.Name!, "link", "add", _bridge, "type", "bridge");
        var source = Source(new DesiredLink(_bridge, new Bridge()));
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.Contains("not ours", pass.Error!.Message, StringComparison.Ordinal);
        var bridge = await Ip.RequireLinkAsync(_a.Name, _bridge);
        Assert.DoesNotContain("UP", Ip.Flags(bridge));
        Assert.Null(Ip.Str(bridge, "ifalias"));
    }

    [Fact]
    public async Task Owned_links_no_longer_desired_go_and_foreign_ones_stay()
    {
        await Source(new DesiredLink(_bridge, new Bridge())).RunPassAsync(CancellationToken.None);
        var foreign = Box.Name("f");
        await Ip.RunAsync("-n", _a.Name!, "link", "add", foreign, "type", "bridge");

        var pass = await Source().RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        var names = await Ip.LinkNamesAsync(_a.Name);
        Assert.DoesNotContain(_bridge, names);
        Assert.Contains(foreign, names);
    }

    [Fact]
    public async Task A_loop_heals_a_deleted_veth_through_the_hint_path()
    {
        using var loop = new ReconcileLoop(Source(Desired()), new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => (await Ip.LinkAsync(_a.Name, _veth)) is not null, loop);
            await Ip.RunAsync("-n", _a.Name!, "link", "del", _veth);
            await WaitForAsync(async () => await Ip.LinkAsync(_a.Name, _veth) is { } v && Ip.Flags(v).Contains("UP"), loop);
            Assert.True(loop.Status.Passes >= 2);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Without_hints_the_resync_heals()
    {
        using var loop = new ReconcileLoop(Source(Desired()), new ReconcileLoopOptions { Resync = TimeSpan.FromMilliseconds(300), HintsEnabled = false });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => (await Ip.LinkAsync(_a.Name, _veth)) is not null, loop);
            await Ip.RunAsync("-n", _a.Name!, "link", "del", _veth);
            await WaitForAsync(async () => (await Ip.LinkAsync(_a.Name, _veth)) is not null, loop);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_loop_stops_when_its_namespace_is_deleted()
    {
        using var loop = new ReconcileLoop(Source(Desired()), new ReconcileLoopOptions { Resync = TimeSpan.FromMilliseconds(200) });
        await loop.StartAsync(CancellationToken.None);
        await WaitForAsync(() => Task.FromResult(loop.Status.Passes >= 1), loop);
        NetworkNamespace.Delete(_a.Name!);
        try
        {
            await loop.ExecuteTask!.WaitAsync(Patience * 2);
        }
        catch (TimeoutException)
        {
            var s = loop.Status;
            Assert.Fail($"loop still running: {s.Passes} passes, {s.ConsecutiveFailures} failures in a row, last {s.LastReport?.Outcome}: {s.LastReport?.Error}, next pass {s.NextPass}");
        }

        Assert.Equal(PassOutcome.NamespaceGone, loop.Status.LastReport?.Outcome);
        Assert.False(NetworkNamespace.Exists(_a.Name!));
    }

    [Fact]
    public async Task A_burst_that_overruns_a_tiny_monitor_buffer_still_converges_in_a_few_passes()
    {
        var source = Box.Own(new LinkSource(_h, Box.Token, Desired()) { HintOptions = new MonitorOptions { ReceiveBufferSize = 4096 } });
        var counting = new OverrunCounter(source);
        using var loop = new ReconcileLoop(counting, new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => await Ip.LinkAsync(_a.Name, _veth) is { } v && Ip.Flags(v).Contains("UP"), loop);
            var before = loop.Status.Passes;

            // 4000 changes to a foreign bridge, with our veth deleted in the middle, from one `ip -batch`: the
            // monitor's 4 KiB buffer overflows, and only the overrun tells the loop that something happened.
            var foreign = Box.Name("f");
            await Ip.RunAsync("-n", _a.Name!, "link", "add", foreign, "type", "bridge");
            var batch = Path.Combine(Path.GetTempPath(), Box.Token + ".batch");
            var lines = new List<string>();
            for (var i = 0; i < 2000; i++)
            {
                lines.Add($"link set {foreign} {(i % 2 == 0 ? "up" : "down")}");
                if (i == 1000)
                {
                    lines.Add($"link del {_veth}");
                }
            }

            await File.WriteAllLinesAsync(batch, lines);
            try
            {
                await Ip.RunAsync("-n", _a.Name!, "-batch", batch);
            }
            finally
            {
                File.Delete(batch);
            }

            await WaitForAsync(async () => await Ip.LinkAsync(_a.Name, _veth) is { } v && Ip.Flags(v).Contains("UP"), loop);
            Assert.True(counting.Overruns > 0, "the burst did not overrun the monitor: the test proves nothing");
            var passes = loop.Status.Passes - before;
            Assert.True(passes <= 10, $"{passes} passes for one burst of 4000 changes");
            Assert.NotNull(await Ip.LinkAsync(_a.Name, foreign)); // foreign: untouched
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Passes hints through and counts the overruns among them.</summary>
    private sealed class OverrunCounter(IReconcileSource inner) : IReconcileSource
    {
        private int _overruns;

        public int Overruns => Volatile.Read(ref _overruns);

        public string Name => inner.Name;

        public Task<PassResult> RunPassAsync(CancellationToken cancellationToken) => inner.RunPassAsync(cancellationToken);

        public IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => Count(inner.Subscribe(cancellationToken)!, cancellationToken);

        private async IAsyncEnumerable<object> Count(IAsyncEnumerable<object> hints, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var hint in hints.WithCancellation(cancellationToken))
            {
                if (hint is OverrunEvent)
                {
                    Interlocked.Increment(ref _overruns);
                }

                yield return hint;
            }
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, ReconcileLoop? loop = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                var s = loop?.Status;
                Assert.Fail($"condition not met in time; loop: {s?.Passes} passes, running {s?.Running}, {s?.ConsecutiveFailures} failures, last {s?.LastReport?.Outcome}: {s?.LastReport?.Error}; next {s?.NextPass}; now {DateTimeOffset.UtcNow}");
            }

            await Task.Delay(20);
        }
    }
}
