using System.Diagnostics;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// What wakes an agent besides a NOTIFY, and what a lost one costs: the kernel's link events in the node namespaces
/// (a cross-host end deleted by hand is back in seconds though the resync is a minute), and the timer (a change
/// written without any hint is applied at the next resync, and not before). Oracles: <c>ip -j -d</c>, psql, a
/// listener of the test's own.
/// </summary>
[Collection(KernelTimingCollection.Name)]
public sealed class ResilienceTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_cross_host_vxlan_deleted_or_set_down_is_repaired_in_seconds_with_a_minute_resync()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        var watchKernel = true;
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = TimeSpan.FromSeconds(60), KernelDebounce = watchKernel ? TimeSpan.FromMilliseconds(100) : null });
        agents.Start(1);
        agents.Start(2);
        await agents.RegisteredAsync();
        var lab = hosts.Prefix;
        var definition = $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h1 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r3:eth1]\n";
        var cluster = new ClusterLabs(db.Store, labs);
        var deployed = await cluster.DeployAsync(Read(definition), definition, TimeSpan.FromSeconds(60));
        Assert.True(deployed.AllUp, Describe(deployed));

        // Settled: the pass's own changes woke one more pass, which changed nothing and so made no event.
        await Task.Delay(1500);
        var passes = agents[1].Passes;
        await Task.Delay(3000);
        // At most a late straggler (a busy machine delivers the deploy's last events late); a pass that woke itself would make dozens.
        Assert.True(agents[1].Passes - passes <= 2, $"{agents[1].Passes - passes} passes in 3 s of an idle lab");

        // The cross-host VXLAN end deleted by hand: back within seconds (the timer is a minute away).
        var oldIndex = (await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1"))!.Value.GetProperty("ifindex").GetInt32();
        await SimulatedHosts.IpAsync("-n", $"{lab}-r1", "link", "del", "eth1");
        var repaired = await UntilAsync(async () => await IsUpAsync($"{lab}-r1", "eth1"), "r1:eth1 made again", 10);
        var back = (await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1"))!.Value;
        Assert.Equal("vxlan", back.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.NotEqual(oldIndex, back.GetProperty("ifindex").GetInt32());

        // The other end set down on its host: up again within seconds, and the store says every link is up.
        await SimulatedHosts.IpAsync("-n", $"{lab}-r2", "link", "set", "eth1", "down");
        var raised = await UntilAsync(async () => await IsUpAsync($"{lab}-r2", "eth1"), "r2:eth1 set up again", 10);
        _ = await UntilAsync(async () => (await cluster.StatusAsync(Read(definition))).AllUp, "every link up in the store", 10);

        // r3's namespace deleted whole: its veth peer in r1 goes too, which wakes a pass that makes r3 again; the
        // monitor follows the new namespace (another identity under the same name): a link deleted there is repaired.
        await SimulatedHosts.IpAsync("netns", "del", $"{lab}-r3");
        _ = await UntilAsync(async () => await IsUpAsync($"{lab}-r3", "eth1") && await IsUpAsync($"{lab}-r1", "eth2"), "r3 and its link made again", 10);
        await Task.Delay(500); // the pass after that one has followed the new namespace
        await SimulatedHosts.IpAsync("-n", $"{lab}-r3", "link", "del", "eth1");
        var followed = await UntilAsync(async () => await IsUpAsync($"{lab}-r3", "eth1"), "r3:eth1 made again in the new namespace", 10);

        // The control: the same agent without the kernel monitor leaves the deletion to its timer.
        await agents.StopAsync(1);
        watchKernel = false;
        agents.Start(1);
        await Task.Delay(1000); // its first pass (at start) done
        await SimulatedHosts.IpAsync("-n", $"{lab}-r1", "link", "del", "eth1");
        await Task.Delay(4000);
        Assert.Null(await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1"));
        Console.WriteLine($"kernel monitor: deleted VXLAN back in {repaired.TotalMilliseconds:F0} ms, set-down end up in {raised.TotalMilliseconds:F0} ms, in a re-made namespace {followed.TotalMilliseconds:F0} ms; without it, still gone after 4 s");

        agents.AssertRunning();
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
    }

    [Fact]
    public async Task A_change_written_without_a_hint_is_applied_by_the_timer_and_a_hinted_one_well_before()
    {
        var resync = TimeSpan.FromSeconds(6);
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = resync, KernelDebounce = null });
        agents.Start(1);
        agents.Start(2);
        await agents.RegisteredAsync();
        var lab = hosts.Prefix;
        string Definition(params string[] links) =>
            $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h1 }}\nlinks:\n"
            + string.Concat(links.Select(l => $"  - endpoints: [{l}]\n"));
        var cluster = new ClusterLabs(db.Store, labs);
        var first = Definition("r1:eth1, r2:eth1");
        Assert.True((await cluster.DeployAsync(Read(first), first, TimeSpan.FromSeconds(60))).AllUp);

        // With its hints: a cross-host link added is up well within the resync period.
        await using var listener = new ClusterListener(db.Store.ConnectionString);
        await listener.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var second = Definition("r1:eth1, r2:eth1", "r3:eth2, r2:eth2");
        var clock = Stopwatch.StartNew();
        var hinted = await cluster.DeployAsync(Read(second), second, TimeSpan.FromSeconds(30));
        var hintedTime = clock.Elapsed;
        Assert.True(hinted.AllUp, Describe(hinted));
        Assert.True(hintedTime < resync / 3, $"hinted change up in {hintedTime.TotalMilliseconds:F0} ms; the resync is {resync.TotalSeconds} s");
        Assert.Contains(await DrainAsync(listener), h => h.Lab == lab);

        // Dropped: the lab's definition changed in its store only (no placement or VNI written, so no NOTIFY). Every
        // agent has just run a pass (the deploy waited for their reports), so its timer is a resync away.
        var third = Definition("r1:eth1, r2:eth1", "r3:eth2, r2:eth2", "r1:eth3, r3:eth3");
        clock.Restart();
        await labs.SaveLabAsync(Read(third), third);
        var timed = await UntilAsync(async () => await IsUpAsync($"{lab}-r1", "eth3") && (await cluster.StatusAsync(Read(third))).AllUp, "the unhinted link applied and reported", resync.TotalSeconds + 4);
        Assert.True(timed > resync - TimeSpan.FromSeconds(2), $"the unhinted change was applied after {timed.TotalMilliseconds:F0} ms, before the timer could have run (resync {resync.TotalSeconds} s)");
        Assert.DoesNotContain(await DrainAsync(listener), h => h.Lab == lab || h.Host is not null);
        Console.WriteLine($"hinted change up in {hintedTime.TotalMilliseconds:F0} ms; unhinted change up in {timed.TotalMilliseconds:F0} ms (resync {resync.TotalSeconds} s)");

        agents.AssertRunning();
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
    }

    /// <summary>The hints heard so far (waiting 300 ms for stragglers).</summary>
    private static async Task<List<ClusterHint>> DrainAsync(ClusterListener listener)
    {
        List<ClusterHint> hints = [];
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            await foreach (var hint in listener.ReadAllAsync(quiet.Token))
            {
                hints.Add(hint);
            }
        }
        catch (OperationCanceledException)
        {
        }

        return hints;
    }
}
