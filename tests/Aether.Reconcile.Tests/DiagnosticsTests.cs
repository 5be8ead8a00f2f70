using System.Collections.Concurrent;
using System.Diagnostics;

namespace Aether.Reconcile.Tests;

/// <summary>The <c>Aether</c> activity source: a pass is the root of its own trace, tagged with its source and outcome;
/// <see cref="AetherDiagnostics.Phase"/> records phases as children laid end to end.</summary>
public sealed class DiagnosticsTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public DiagnosticsTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AetherDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task A_pass_is_a_root_activity_with_its_source_kind_and_outcome_even_inside_another()
    {
        var name = "diag-" + Guid.NewGuid().ToString("N");
        var fake = new FakeSource { Drift = n => n == 1 ? [new Operation(OperationKind.Create, Stage.Links, ObjectKey.Link(Scope.Host, "aetdiag"), "missing")] : [] };
        var group = new SourceGroup(name, [fake]) { Kind = "topology" };
        using var outer = AetherDiagnostics.ActivitySource.StartActivity("aether.test.outer");
        Assert.NotNull(outer);
        using var loop = new ReconcileLoop(group, new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(30), ResyncGrid = TimeSpan.Zero });
        await loop.StartAsync(CancellationToken.None);
        var report = await loop.Reports.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        await loop.StopAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Converged, report.Outcome);

        var pass = Assert.Single(_stopped, a => (a.GetTagItem("aether.reconcile.source") as string) == name);
        Assert.Equal("aether.reconcile.pass", pass.OperationName);
        Assert.Null(pass.ParentId); // not a child of the activity current when the loop started
        Assert.NotEqual(outer.TraceId, pass.TraceId);
        Assert.Equal("topology", pass.GetTagItem(ReconcileMetrics.SourceKindAttribute));
        Assert.Equal("converged", pass.GetTagItem(ReconcileMetrics.OutcomeAttribute));
        Assert.Equal(1, pass.GetTagItem("aether.reconcile.operations"));
        Assert.Equal(ActivityStatusCode.Unset, pass.Status);
    }

    [Fact]
    public async Task A_failed_pass_has_the_error_status()
    {
        var name = "diag-" + Guid.NewGuid().ToString("N");
        var fake = new FakeSource { ObserveFails = _ => new IOException("netlink: Operation not permitted") };
        using var loop = new ReconcileLoop(new SourceGroup(name, [fake]), new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(30), ResyncGrid = TimeSpan.Zero });
        await loop.StartAsync(CancellationToken.None);
        var report = await loop.Reports.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        await loop.StopAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Failed, report.Outcome);

        // The loop retries after its backoff (50-100 ms): on a slow machine a retry may run before it is stopped,
        // and every pass of this source failed the same way.
        var passes = _stopped.Where(a => (a.GetTagItem("aether.reconcile.source") as string) == name).ToList();
        Assert.NotEmpty(passes);
        Assert.All(passes, pass =>
        {
            Assert.Equal("failed", pass.GetTagItem(ReconcileMetrics.OutcomeAttribute));
            Assert.Equal("group", pass.GetTagItem(ReconcileMetrics.SourceKindAttribute));
            Assert.Equal(ActivityStatusCode.Error, pass.Status);
            Assert.Contains("Operation not permitted", pass.StatusDescription, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Phases_are_children_laid_end_to_end_and_nothing_without_a_current_activity()
    {
        AetherDiagnostics.Phase("aether.test.orphan"); // no current Aether activity: nothing recorded
        Activity parent;
        using (parent = AetherDiagnostics.ActivitySource.StartActivity("aether.test.parent")!)
        {
            await Task.Delay(20);
            AetherDiagnostics.Phase("first");
            await Task.Delay(20);
            AetherDiagnostics.Phase("second");
            Assert.Same(parent, Activity.Current);
        }

        Assert.DoesNotContain(_stopped, a => a.OperationName == "aether.test.orphan");
        var phases = _stopped.Where(a => a.ParentSpanId == parent.SpanId).OrderBy(a => a.StartTimeUtc).ToList();
        Assert.Equal(["first", "second"], phases.Select(p => p.OperationName));
        Assert.Equal(parent.StartTimeUtc, phases[0].StartTimeUtc);
        Assert.Equal(phases[0].StartTimeUtc + phases[0].Duration, phases[1].StartTimeUtc);
        Assert.All(phases, p => Assert.InRange(p.Duration, TimeSpan.FromMilliseconds(15), TimeSpan.FromSeconds(5)));
        Assert.All(phases, p => Assert.Equal(parent.TraceId, p.TraceId));
    }
}
