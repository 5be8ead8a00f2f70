namespace Aether.Reconcile.Tests;

public sealed class LoopTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly ReconcileLoopOptions Options = new()
    {
        Resync = TimeSpan.FromSeconds(30),
        ResyncGrid = TimeSpan.Zero,
        Jitter = 0.1,
        CoalesceWindow = TimeSpan.FromMilliseconds(10),
        BackoffBase = TimeSpan.FromMilliseconds(100),
        BackoffCap = TimeSpan.FromSeconds(5),
    };

    private readonly ManualTime _time = new();
    private readonly FakeSource _source = new();
    private ReconcileLoop _loop = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_loop is not null)
        {
            await _loop.StopAsync(CancellationToken.None);
            _loop.Dispose();
        }
    }

    private async Task StartAsync(ReconcileLoopOptions? options = null)
    {
        _loop = new ReconcileLoop(_source, options ?? Options, _time, random: new Random(7));
        await _loop.StartAsync(CancellationToken.None);
    }

    private async Task<PassReport> NextReportAsync() => await _loop.Reports.ReadAsync().AsTask().WaitAsync(Wait);

    [Fact]
    public async Task Reports_complete_when_the_loop_stops_even_before_its_first_pass()
    {
        for (var i = 0; i < 50; i++)
        {
            using var loop = new ReconcileLoop(new FakeSource(), Options, _time, random: new Random(i));
            var reader = Task.Run(async () =>
            {
                await foreach (var _ in loop.Reports.ReadAllAsync())
                {
                }
            });
            await loop.StartAsync(CancellationToken.None);
            await loop.StopAsync(CancellationToken.None); // at once: the first pass may not have begun
            await reader.WaitAsync(Wait);
        }
    }

    [Fact]
    public async Task First_pass_runs_at_start_then_one_per_jittered_resync()
    {
        await StartAsync();
        Assert.Equal(PassOutcome.InSync, (await NextReportAsync()).Outcome);

        var delay = await _time.NextTimerAsync();
        Assert.InRange(delay, TimeSpan.FromSeconds(27), TimeSpan.FromSeconds(33));
        _time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _source.Passes); // not yet
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await NextReportAsync()).PassId);
    }

    [Fact]
    public async Task Resyncs_are_rounded_up_to_the_grid_so_many_loops_share_a_wake_up()
    {
        var grid = TimeSpan.FromSeconds(1);
        await StartAsync(Options with { ResyncGrid = grid });
        await NextReportAsync();
        for (var i = 0; i < 5; i++)
        {
            var delay = await _time.NextTimerAsync();
            var due = _time.GetUtcNow() + delay;
            Assert.Equal(0, due.UtcTicks % grid.Ticks);
            Assert.InRange(delay, TimeSpan.FromSeconds(27), TimeSpan.FromSeconds(34));
            _time.Advance(delay);
            await NextReportAsync();
        }
    }

    [Fact]
    public async Task A_hint_stream_that_fails_runs_a_pass_and_is_opened_again()
    {
        await StartAsync();
        await NextReportAsync();
        Assert.Equal(1, _source.Subscriptions);
        await _time.NextTimerAsync();
        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell

        _source.FailHints(); // what changed while hints were down is unknown: a pass at once
        var report = await NextReportAsync();
        Assert.Equal(2, report.PassId);

        _time.Advance(TimeSpan.FromMilliseconds(100)); // then subscribed again
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_source.Subscriptions < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the hints were not opened again");
            await Task.Delay(5);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        _source.SendHint(); // and the new stream wakes the loop
        Assert.Equal(3, (await NextReportAsync()).PassId);
    }

    [Fact]
    public async Task A_hint_after_a_quiet_spell_runs_a_pass_at_once()
    {
        await StartAsync();
        await NextReportAsync();
        await _time.NextTimerAsync();

        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell
        _source.SendHint();
        var report = await NextReportAsync();
        Assert.Equal(2, report.PassId);
        Assert.Equal(_time.GetUtcNow(), report.Started); // no time had to pass
    }

    [Fact]
    public async Task A_burst_of_hints_during_a_pass_costs_one_more_pass()
    {
        await StartAsync();
        await NextReportAsync();
        await _time.NextTimerAsync();

        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Hint();
        while (await _source.Started.Reader.ReadAsync().AsTask().WaitAsync(Wait) != 2)
        {
            // skip pass 1's start
        }

        // pass 2 is running (and blocked)
        for (var i = 0; i < 5000; i++)
        {
            _loop.Hint();
        }

        _source.Gate.SetResult();
        Assert.Equal(2, (await NextReportAsync()).PassId);

        // The trailing edge: one pass after the coalesce window, for all 5000 hints.
        var delay = await _time.NextTimerAsync();
        Assert.Equal(Options.CoalesceWindow, delay);
        _time.Advance(delay);
        Assert.Equal(3, (await NextReportAsync()).PassId);

        // Then quiet again: the next timer is a resync, and nothing else ran.
        var after = await _time.NextTimerAsync();
        Assert.True(after > TimeSpan.FromSeconds(20), $"next pass in {after}");
        Assert.Equal(3, _source.Passes);
    }

    [Fact]
    public async Task A_storm_of_hints_waits_for_quiet_but_passes_at_least_once_per_cap()
    {
        await StartAsync(Options with { CoalesceCap = TimeSpan.FromMilliseconds(50) });
        await NextReportAsync();
        await _time.NextTimerAsync();

        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Hint();
        while (await _source.Started.Reader.ReadAsync().AsTask().WaitAsync(Wait) != 2)
        {
            // skip pass 1's start
        }

        _loop.Hint(); // during pass 2: the trailing edge opens when it ends
        _source.Gate.SetResult();
        Assert.Equal(2, (await NextReportAsync()).PassId);

        // Hints keep coming every window: no pass until the cap (50 ms after the window opened).
        var waited = TimeSpan.Zero;
        while (waited < TimeSpan.FromMilliseconds(50))
        {
            var delay = await _time.NextTimerAsync();
            Assert.True(delay <= Options.CoalesceWindow, $"waited {delay}");
            _loop.Hint();
            _time.Advance(delay);
            waited += delay;
            if (waited < TimeSpan.FromMilliseconds(50))
            {
                await Task.Delay(20); // let the loop see the window end
                Assert.Equal(2, _source.Passes);
            }
        }

        Assert.Equal(3, (await NextReportAsync()).PassId);
        Assert.Equal(TimeSpan.FromMilliseconds(50), waited);

        // Every hint came before pass 3 started, so pass 3 read their truth: quiet now, the next timer is the resync.
        Assert.True(await _time.NextTimerAsync() > TimeSpan.FromSeconds(20));
        Assert.Equal(3, _source.Passes);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_with_a_cap_and_reset_on_success()
    {
        _source.ApplyFails = (pass, _) => pass <= 8 ? new IOException("kernel said no") : null;
        _source.Drift = _ => [new Operation(OperationKind.Create, Stage.Links, ObjectKey.Link(Scope.Host, "x"), "missing")];
        await StartAsync();

        var delays = new List<TimeSpan>();
        for (var pass = 1; pass <= 8; pass++)
        {
            var report = await NextReportAsync();
            Assert.Equal(PassOutcome.Failed, report.Outcome);
            Assert.Equal("kernel said no", report.Error);
            Assert.Single(report.Pending);
            Assert.Equal(pass, _loop.Status.ConsecutiveFailures);
            var delay = await _time.NextTimerAsync();
            delays.Add(delay);
            _time.Advance(delay); // no hint: the timer retries (a hint would cut it short: LoopHintBackoffTests)
        }

        for (var i = 0; i < delays.Count; i++)
        {
            var raw = Math.Min(Options.BackoffCap.TotalMilliseconds, Options.BackoffBase.TotalMilliseconds * Math.Pow(2, i));
            Assert.InRange(delays[i].TotalMilliseconds, raw * 0.5, raw);
        }

        var success = await NextReportAsync();
        Assert.Equal(PassOutcome.Converged, success.Outcome);
        Assert.Equal(0, _loop.Status.ConsecutiveFailures);
        Assert.True(await _time.NextTimerAsync() > TimeSpan.FromSeconds(20)); // back to the resync period
    }

    [Fact]
    public async Task A_terminal_error_is_reported_and_waits_for_the_resync()
    {
        _source.Drift = _ => [new Operation(OperationKind.Create, Stage.Links, ObjectKey.Link(Scope.Host, "x"), "missing")];
        _source.ApplyFails = (_, _) => new TerminalReconcileException("link x belongs to someone else");
        await StartAsync();

        var report = await NextReportAsync();
        Assert.Equal(PassOutcome.Terminal, report.Outcome);
        Assert.Contains("someone else", report.Error, StringComparison.Ordinal);
        Assert.True(await _time.NextTimerAsync() > TimeSpan.FromSeconds(20));
        Assert.Equal(0, _loop.Status.ConsecutiveFailures);
    }

    [Fact]
    public async Task An_exception_in_a_pass_never_stops_the_loop()
    {
        _source.ObserveFails = pass => pass == 1 ? new InvalidOperationException("bug in a source") : null;
        await StartAsync();
        var failed = await NextReportAsync();
        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        _time.Advance(await _time.NextTimerAsync());
        Assert.Equal(PassOutcome.InSync, (await NextReportAsync()).Outcome);
        Assert.True(_loop.Status.Running);
    }

    [Fact]
    public async Task A_gone_namespace_is_reported_and_stops_the_loop()
    {
        _source.ObserveFails = pass => pass == 2 ? new NamespaceGoneException("namespace blue is gone") : null;
        await StartAsync();
        await NextReportAsync();
        await _time.NextTimerAsync();
        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell
        _loop.Hint();
        var gone = await NextReportAsync();
        Assert.Equal(PassOutcome.NamespaceGone, gone.Outcome);
        await _loop.ExecuteTask!.WaitAsync(Wait);
        Assert.False(_loop.Status.Running);
        _loop.Hint();
        await Task.Delay(50);
        Assert.Equal(2, _source.Passes);
    }

    [Fact]
    public async Task With_hints_disabled_only_the_timer_drives_passes()
    {
        await StartAsync(Options with { HintsEnabled = false });
        await NextReportAsync();
        var delay = await _time.NextTimerAsync();
        Assert.False(_source.HintsSubscribed);
        _time.Advance(delay);
        Assert.Equal(2, (await NextReportAsync()).PassId);
    }

    [Fact]
    public async Task A_hint_right_after_a_pass_waits_for_the_coalesce_window()
    {
        await StartAsync();
        await NextReportAsync();
        await _time.NextTimerAsync();

        _loop.Hint(); // no time since pass 1 ended: the burst that caused it may go on
        var deadline = DateTime.UtcNow + Wait;
        while (!_time.Armed().Contains(Options.CoalesceWindow))
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not arm the coalesce window: " + string.Join(", ", _time.Armed()));
            await Task.Delay(2);
        }

        Assert.Equal(1, _source.Passes);
        _time.Advance(Options.CoalesceWindow);
        Assert.Equal(2, (await NextReportAsync()).PassId);
    }

    [Fact]
    public async Task Kernel_hints_from_the_source_wake_the_loop()
    {
        await StartAsync();
        await NextReportAsync();
        await _time.NextTimerAsync();
        _time.Advance(TimeSpan.FromSeconds(1)); // a quiet spell
        _source.SendHint();
        Assert.Equal(2, (await NextReportAsync()).PassId);
    }

    [Fact]
    public async Task Status_reflects_the_last_pass()
    {
        _source.Drift = pass => pass == 1 ? [new Operation(OperationKind.Update, Stage.Links, ObjectKey.Link(Scope.Host, "x"), "MTU 1400, want 1500")] : [];
        await StartAsync();
        var report = await NextReportAsync();
        Assert.Equal(PassOutcome.Converged, report.Outcome);
        var status = _loop.Status;
        Assert.Equal("fake", status.Source);
        Assert.Equal(1, status.Passes);
        Assert.Equal(report, status.LastReport);
        Assert.NotNull(status.LastSuccess);
        Assert.Single(report.Applied);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ReconcileLoop(_source, Options with { Resync = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new ReconcileLoop(_source, Options with { Jitter = 1.5 }));
        Assert.Throws<ArgumentException>(() => new ReconcileLoop(_source, Options with { BackoffCap = TimeSpan.FromMilliseconds(1) }));
    }
}
