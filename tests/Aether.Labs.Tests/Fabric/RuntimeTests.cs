using System.Collections.Concurrent;
using System.Diagnostics;
using Aether.Labs;

namespace Aether.Labs.Tests.Fabric;

/// <summary>The lab runtime: a link broken while it runs is repaired from the kernel's hint (no reconciliation
/// period passes) and the stored state says up again; the periodic reconciliation reports its counts.</summary>
public sealed class RuntimeTests : LabTest
{
    [Fact]
    public async Task A_link_deleted_while_the_runtime_runs_is_repaired_from_the_hint_and_stored_up()
    {
        var lab = Lab(3, (1, "eth1", 2, "eth1"), (2, "eth2", 3, "eth1"));
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        var reports = new ConcurrentQueue<LabRuntimeReport>();
        using var cts = new CancellationTokenSource();
        var options = new LabRuntimeOptions { ReconcileEvery = TimeSpan.FromMinutes(10), Resync = TimeSpan.FromMinutes(10) };
        var run = Task.Run(() => LabRuntime.RunAsync(Controller(lab), options, reports.Enqueue, cancellationToken: cts.Token));
        try
        {
            await Task.Delay(500); // the loops are subscribed (the first pass of each is done well before this)
            await Ip.RunAsync("-n", Ns(lab, "r2"), "link", "del", "eth2");

            var clock = Stopwatch.StartNew();
            while (!reports.Any(r => r.Trigger == "repair" && r.Result.AllUp))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "no repair reported: " + string.Join("; ", reports.Select(r => r.Trigger)));
                await Task.Delay(10);
            }

            await AssertWholeAsync(lab, lab.Links[1]);
            Assert.All(await Store.GetLinksAsync(lab.Name), l => Assert.Equal(LinkStatus.Up, l.Status));
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task The_periodic_reconciliation_reports_the_counts()
    {
        var lab = Lab(2, (1, "eth1", 2, "eth1"));
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        var reports = new ConcurrentQueue<LabRuntimeReport>();
        using var cts = new CancellationTokenSource();
        var options = new LabRuntimeOptions { ReconcileEvery = TimeSpan.FromMilliseconds(200), Resync = TimeSpan.FromMinutes(10) };
        var run = Task.Run(() => LabRuntime.RunAsync(Controller(lab), options, reports.Enqueue, cancellationToken: cts.Token));
        try
        {
            var clock = Stopwatch.StartNew();
            while (!reports.Any(r => r.Trigger == "resync"))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "no reconciliation reported");
                await Task.Delay(10);
            }

            Assert.Equal(new ReconcileCounts(1, 1, 0, 0), reports.First(r => r.Trigger == "resync").Result.Counts);
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
