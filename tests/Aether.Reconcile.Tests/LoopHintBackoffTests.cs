namespace Aether.Reconcile.Tests;

/// <summary>A backoff paces timer retries, not new evidence: a hint wakes a loop whose last pass failed.</summary>
public sealed class LoopHintBackoffTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly ReconcileLoopOptions Options = new()
    {
        Resync = TimeSpan.FromSeconds(30),
        ResyncGrid = TimeSpan.Zero,
        Jitter = 0.1,
        CoalesceWindow = TimeSpan.FromMilliseconds(10),
        BackoffBase = TimeSpan.FromSeconds(4), // every backoff here is at least 2 s
        BackoffCap = TimeSpan.FromSeconds(30),
    };

    private static readonly Operation Missing = new(OperationKind.Create, Stage.Addresses, ObjectKey.Link(Scope.Host, "eth0"), "link eth0 missing");

    private readonly FakeSource _source = new();
    private ReconcileLoop? _loop;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_loop is not null)
        {
            await _loop.StopAsync(CancellationToken.None);
            _loop.Dispose();
        }
    }

    private async Task<ReconcileLoop> StartAsync(TimeProvider time)
    {
        _loop = new ReconcileLoop(_source, Options, time, random: new Random(7));
        await _loop.StartAsync(CancellationToken.None);
        return _loop;
    }

    private static async Task WaitArmedAsync(ManualTime time, TimeSpan due)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!time.Armed().Contains(due))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no timer armed for {due}: " + string.Join(", ", time.Armed()));
            await Task.Delay(2);
        }
    }

    [Fact]
    public async Task A_hint_wakes_a_loop_in_backoff_one_coalesce_window_after_the_failed_pass()
    {
        var time = new ManualTime();
        _source.Drift = _ => [Missing];
        _source.ApplyFails = (pass, _) => pass == 1 ? new InvalidOperationException("add 10.0.0.2/24: link eth0 missing") : null;
        var loop = await StartAsync(time);

        var failed = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        var backoff = await time.NextTimerAsync();
        Assert.True(backoff >= TimeSpan.FromSeconds(2), $"backoff {backoff}");

        // The link appeared: its event wakes the loop, one coalesce window after the failed pass, not after the backoff.
        loop.Hint();
        await WaitArmedAsync(time, Options.CoalesceWindow);
        time.Advance(Options.CoalesceWindow);
        var retried = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(2, retried.PassId);
        Assert.Equal(PassOutcome.Converged, retried.Outcome);
        Assert.Equal(failed.Started + Options.CoalesceWindow, retried.Started); // the clock moved only by the window
        Assert.Equal(0, loop.Status.ConsecutiveFailures);
    }

    [Fact]
    public async Task A_hint_that_came_during_the_failed_pass_wakes_it_too()
    {
        var time = new ManualTime();
        _source.Drift = _ => [Missing];
        _source.ApplyFails = (pass, _) => pass == 1 ? new InvalidOperationException("link eth0 missing") : null;
        ReconcileLoop? loop = null;
        _source.OnApply = _ =>
        {
            loop!.Hint(); // the fix arrived while the pass ran, after it observed
            return Task.CompletedTask;
        };
        loop = await StartAsync(time);

        Assert.Equal(PassOutcome.Failed, (await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait)).Outcome);
        await WaitArmedAsync(time, Options.CoalesceWindow);
        time.Advance(Options.CoalesceWindow);
        Assert.Equal(PassOutcome.Converged, (await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait)).Outcome);
    }

    [Fact]
    public async Task Failed_passes_a_hint_woke_space_out_so_a_pass_that_hints_itself_cannot_spin()
    {
        var time = new ManualTime();
        _source.Drift = _ => [Missing];
        _source.ApplyFails = (_, _) => new InvalidOperationException("kernel said no");
        var loop = await StartAsync(time);
        Assert.Equal(PassOutcome.Failed, (await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait)).Outcome);

        // Each failed pass hints itself (its own changes are events) and fails the same way: the gaps double, 10, 20,
        // 40, 80 ms.
        for (var i = 0; i < 4; i++)
        {
            var gap = Options.CoalesceWindow * (1 << i);
            loop.Hint();
            await WaitArmedAsync(time, gap);
            Assert.Equal(i + 1, _source.Passes);
            time.Advance(gap);
            var report = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
            Assert.Equal(PassOutcome.Failed, report.Outcome);
            Assert.Equal(i + 2, report.PassId);
        }

        // Without a hint the backoff's timer retries, and that resets the spacing.
        var backoff = await time.NextTimerAsync();
        Assert.True(backoff >= TimeSpan.FromSeconds(30 / 2), $"backoff {backoff} after 5 failures");
        time.Advance(backoff);
        Assert.Equal(PassOutcome.Failed, (await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait)).Outcome);
        loop.Hint();
        await WaitArmedAsync(time, Options.CoalesceWindow);
    }

    [Fact]
    public async Task Failed_passes_that_fail_another_way_each_time_keep_the_gap_at_the_window()
    {
        var time = new ManualTime();
        _source.Drift = _ => [Missing];
        // Progress: each pass gets one link further (the next veth of a batch deletion is gone now).
        _source.ApplyFails = (pass, _) => pass <= 5 ? new InvalidOperationException($"link h{pass} missing") : null;
        var loop = await StartAsync(time);
        Assert.Equal(PassOutcome.Failed, (await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait)).Outcome);
        for (var pass = 2; pass <= 6; pass++)
        {
            loop.Hint();
            await WaitArmedAsync(time, Options.CoalesceWindow);
            time.Advance(Options.CoalesceWindow);
            var report = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
            Assert.Equal(pass, report.PassId);
            Assert.Equal(pass <= 5 ? PassOutcome.Failed : PassOutcome.Converged, report.Outcome);
        }
    }

    [Fact]
    public async Task On_the_real_clock_a_hint_runs_the_retry_long_before_a_backoff_of_seconds()
    {
        _source.Drift = _ => [Missing];
        _source.ApplyFails = (pass, _) => pass == 1 ? new InvalidOperationException("link eth0 missing") : null;
        var loop = await StartAsync(TimeProvider.System);
        var failed = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        Assert.True(loop.Status.NextPass - (failed.Started + failed.Duration) >= TimeSpan.FromSeconds(2), $"backoff to {loop.Status.NextPass}");

        var hinted = DateTimeOffset.UtcNow;
        loop.Hint();
        var retried = await loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(PassOutcome.Converged, retried.Outcome);
        // Generous: the retry is due 10 ms after the failed pass; the backoff would have been 2 s or more.
        Assert.True(retried.Started - hinted < TimeSpan.FromSeconds(1), $"retry {retried.Started - hinted} after the hint");
    }
}
