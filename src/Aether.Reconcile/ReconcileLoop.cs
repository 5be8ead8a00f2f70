using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Reconcile;

/// <summary>
/// Drives one <see cref="IReconcileSource"/>: a pass at start, then one per jittered resync period (truth), woken
/// early by the source's hints (latency). A hint after a quiet spell runs a pass at once (leading edge); hints that
/// arrive during a pass, or in <see cref="ReconcileLoopOptions.CoalesceWindow"/> after it, cost one more pass in all
/// (trailing edge). Failed passes back off exponentially with jitter up to a cap, and the backoff resets on success;
/// the backoff paces timer retries only: a hint is new evidence (the missing link appeared, the peer came back) and
/// wakes a loop in backoff too, one coalesce window after the failed pass, doubling per hint-woken pass in a row that
/// failed with the same error (so a pass whose own changes hint it cannot spin). A terminal error waits for the next resync or hint;
/// an exception never kills the host; a gone namespace stops the loop. Every pass yields a <see cref="PassReport"/>.
/// </summary>
public sealed partial class ReconcileLoop : BackgroundService
{
    private readonly IReconcileSource _source;
    private readonly ReconcileLoopOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly Channel<PassReport> _reports = Channel.CreateBounded<PassReport>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Lock _statusLock = new();
    private TaskCompletionSource _wake = NewWake();
    private int _hinted;
    private long _hints; // every hint counted: more than one while a rate-limited pass waited means a burst
    private ReconcileStatus _status;

    /// <summary>Creates a loop; it starts when the host starts it (or <see cref="BackgroundService.StartAsync"/>).</summary>
    public ReconcileLoop(IReconcileSource source, ReconcileLoopOptions? options = null, TimeProvider? time = null, ILogger<ReconcileLoop>? logger = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new ReconcileLoopOptions();
        options.Validate();
        _source = source;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<ReconcileLoop>.Instance;
        _random = random ?? Random.Shared;
        _status = new ReconcileStatus(source.Name, Running: false, 0, 0, null, null, null);
    }

    /// <summary>Every pass's report, newest last (the oldest are dropped past 256 unread).</summary>
    public ChannelReader<PassReport> Reports => _reports.Reader;

    /// <summary>The loop's state now.</summary>
    public ReconcileStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status;
            }
        }
    }

    /// <summary>Asks for a pass soon (what a kernel event does). Safe from any thread; bursts coalesce.</summary>
    public void Hint()
    {
        Interlocked.Increment(ref _hints);
        Volatile.Write(ref _hinted, 1);
        Volatile.Read(ref _wake).TrySetResult();
    }

    /// <summary>Stops the loop; its <see cref="Reports"/> then complete, also when it was stopped before its first
    /// pass began (since .NET 10 a background service's work starts on the thread pool, so a stop can come first, and
    /// a reader of the reports would otherwise wait for ever).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reports.Writer.TryComplete();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var hintsStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var pump = _options.HintsEnabled ? PumpHintsAsync(hintsStop.Token) : Task.CompletedTask;
        UpdateStatus(s => s with { Running = true });
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await hintsStop.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
            UpdateStatus(s => s with { Running = false, NextPass = null });
            _reports.Writer.TryComplete();
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var hintedFailures = 0; // failed passes in a row, woken by a hint, that failed the same way as the one before
        string? lastError = null;
        var next = _time.GetUtcNow();
        var hintsWake = true; // may a hint cut the wait short? Not during a coalesce window or a held-back hint.
        DateTimeOffset? coalescing = null; // when the current trailing-edge window opened
        var lastEnd = DateTimeOffset.MinValue;
        long? burstProbe = null; // the hint count when a pass was held back for being right after the last one
        long passId = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            UpdateStatus(s => s with { NextPass = next });
            if (!await WaitAsync(next, hintsWake, stoppingToken).ConfigureAwait(false))
            {
                return;
            }

            // A burst still going on: hints came within the window. Wait for a quiet window, but never longer than
            // the cap since the window opened, so a storm costs one pass per cap, not one per window.
            if (coalescing is { } opened && Interlocked.Exchange(ref _hinted, 0) == 1 && _time.GetUtcNow() - opened < _options.CoalesceCap)
            {
                var capped = opened + _options.CoalesceCap;
                var quiet = _time.GetUtcNow() + _options.CoalesceWindow;
                next = quiet < capped ? quiet : capped;
                continue;
            }

            // A hint right after a pass may be a burst going on: passes at most one gap apart (counted from the
            // last pass's end, so a single change waits less than a gap), and whatever comes meanwhile rides along.
            // The gap is the coalesce window, doubled per hint-woken pass in a row that failed as the one before; never
            // past a backoff's own due time.
            var gap = HintGap(hintedFailures);
            if (hintsWake && coalescing is null && Volatile.Read(ref _hinted) == 1 && _time.GetUtcNow() - lastEnd < gap)
            {
                next = lastEnd + gap < next ? lastEnd + gap : next;
                hintsWake = false;
                burstProbe = Interlocked.Read(ref _hints);
                continue;
            }

            // A retry a hint brought forward (held back for its gap, or run at once); timers round to the
            // millisecond, so a timer retry may wake a hair before its due time and is told apart by its cause.
            var early = failures > 0 && (burstProbe is not null || Volatile.Read(ref _hinted) == 1);
            var burst = burstProbe is long probe && Interlocked.Read(ref _hints) > probe;
            burstProbe = null;

            coalescing = null;
            Volatile.Write(ref _hinted, 0);
            var report = await PassAsync(++passId, stoppingToken).ConfigureAwait(false);
            Publish(report, ref failures);
            var now = _time.GetUtcNow();
            lastEnd = now;
            switch (report.Outcome)
            {
                case PassOutcome.NamespaceGone:
                    return;
                case PassOutcome.Failed:
                    // The timer retries after the backoff; a hint (during the pass too: the fix may have come while
                    // it ran) retries sooner, one gap after this pass's end.
                    next = now + Backoff(failures);
                    // The gap grows only while hint-woken passes fail the same way: no progress, perhaps hinted by
                    // their own changes. Another error is progress (the host end of the next deleted veth).
                    hintedFailures = early && string.Equals(report.Error, lastError, StringComparison.Ordinal) ? hintedFailures + 1 : 0;
                    lastError = report.Error;
                    hintsWake = true;
                    break;
                default:
                    hintedFailures = 0;
                    lastError = null;
                    // Hints that came during the pass: one more pass after the window (trailing edge), which also
                    // covers the hints that arrive within the window; otherwise wait for the resync or a hint.
                    // (Or, for a held-back pass, hints kept coming while it waited: a burst, so the same.)
                    var trailing = (Interlocked.Exchange(ref _hinted, 0) == 1) | burst;
                    next = trailing ? now + _options.CoalesceWindow : Aligned(now + Jittered(_options.Resync));
                    hintsWake = !trailing;
                    coalescing = trailing ? now : null;
                    break;
            }
        }
    }

    /// <summary>Waits until <paramref name="due"/>, or a hint when allowed; false when stopping.</summary>
    private async Task<bool> WaitAsync(DateTimeOffset due, bool hintsWake, CancellationToken stoppingToken)
    {
        while (true)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                return false;
            }

            var wake = Volatile.Read(ref _wake);
            if (wake.Task.IsCompleted)
            {
                wake = NewWake();
                Volatile.Write(ref _wake, wake);
            }

            if (hintsWake && Volatile.Read(ref _hinted) == 1)
            {
                return true; // leading edge: a hint after a quiet spell runs a pass at once
            }

            var delay = due - _time.GetUtcNow();
            if (delay <= TimeSpan.Zero)
            {
                return true;
            }

            using var timerStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var timer = Task.Delay(delay, _time, timerStop.Token);
            var woken = hintsWake ? await Task.WhenAny(timer, wake.Task).ConfigureAwait(false) : await Task.WhenAny(timer).ConfigureAwait(false);
            await timerStop.CancelAsync().ConfigureAwait(false);
            if (woken == timer && !timer.IsCanceled)
            {
                return true;
            }
        }
    }

    private async Task<PassReport> PassAsync(long passId, CancellationToken stoppingToken)
    {
        var started = _time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        LogPassStarted(_logger, passId, _source.Name);
        using var activity = AetherDiagnostics.StartRoot("aether.reconcile.pass");
        activity?.SetTag("aether.reconcile.source", _source.Name);
        activity?.SetTag(ReconcileMetrics.SourceKindAttribute, _source.Kind);
        activity?.SetTag("aether.reconcile.pass.id", passId);
        PassReport report;
        try
        {
            var result = await _source.RunPassAsync(stoppingToken).ConfigureAwait(false);
            var outcome = result.Error switch
            {
                null => result.Plan.IsEmpty ? PassOutcome.InSync : PassOutcome.Converged,
                TerminalReconcileException => PassOutcome.Terminal,
                _ => PassOutcome.Failed,
            };
            report = new PassReport(passId, _source.Name, outcome, started, clock.Elapsed, result.Plan, result.Applied, result.Pending, result.Error?.Message);
        }
        catch (NamespaceGoneException ex)
        {
            report = new PassReport(passId, _source.Name, PassOutcome.NamespaceGone, started, clock.Elapsed, [], [], [], ex.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A pass that throws (observe failed, a bug in a source) must never take the host down.
            var outcome = ex is TerminalReconcileException ? PassOutcome.Terminal : PassOutcome.Failed;
            report = new PassReport(passId, _source.Name, outcome, started, clock.Elapsed, [], [], [], ex.Message);
        }

        if (activity is not null)
        {
            activity.SetTag(ReconcileMetrics.OutcomeAttribute, ReconcileMetrics.OutcomeName(report.Outcome));
            activity.SetTag("aether.reconcile.operations", report.Applied.Count);
            if (report.Outcome is PassOutcome.Failed or PassOutcome.Terminal)
            {
                activity.SetStatus(ActivityStatusCode.Error, report.Error);
            }
        }

        return report;
    }

    private void Publish(PassReport report, ref int failures)
    {
        failures = report.Outcome == PassOutcome.Failed ? failures + 1 : 0;
        var consecutive = failures;
        var success = report.Outcome is PassOutcome.InSync or PassOutcome.Converged;
        UpdateStatus(s => s with
        {
            Passes = s.Passes + 1,
            ConsecutiveFailures = consecutive,
            LastSuccess = success ? report.Started + report.Duration : s.LastSuccess,
            LastReport = report,
        });
        ReconcileMetrics.Record(_source.Kind, report);
        switch (report.Outcome)
        {
            case PassOutcome.InSync:
                LogInSync(_logger, report.PassId, report.Source, report.Duration.TotalMilliseconds);
                break;
            case PassOutcome.Converged:
                LogConverged(_logger, report.PassId, report.Source, report.Applied.Count, report.Duration.TotalMilliseconds);
                break;
            case PassOutcome.Failed:
                LogFailed(_logger, report.PassId, report.Source, report.Error, report.Pending.Count, consecutive);
                break;
            case PassOutcome.Terminal:
                LogTerminal(_logger, report.PassId, report.Source, report.Error);
                break;
            case PassOutcome.NamespaceGone:
                LogNamespaceGone(_logger, report.PassId, report.Source, report.Error);
                break;
        }

        _reports.Writer.TryWrite(report);
    }

    /// <summary>Turns the source's hints into wake-ups. A hint stream that fails (its monitor socket closed, the
    /// namespace thread refused) is logged, a pass is run at once (what changed while it was down is unknown), and it
    /// is opened again after 100 ms, 200 ms, … up to the resync period; one that ends is not.</summary>
    private async Task PumpHintsAsync(CancellationToken cancellationToken)
    {
        var retry = TimeSpan.FromMilliseconds(100);
        while (_source.Subscribe(cancellationToken) is { } hints)
        {
            try
            {
                await foreach (var unused in hints.ConfigureAwait(false))
                {
                    Hint();
                    retry = TimeSpan.FromMilliseconds(100);
                }

                return; // the source has no more hints to give: the resync timer goes on alone
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Hints are an optimisation: without them the resync timer still converges, but not as fast.
                LogHintsFailed(_logger, _source.Name, ex.Message);
                Hint();
            }

            try
            {
                await Task.Delay(retry, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _options.Resync.Ticks));
        }
    }

    /// <summary>base · 2^(failures-1), capped, then jittered down by up to half so that retries spread out.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 30);
        var raw = Math.Min(_options.BackoffCap.Ticks, _options.BackoffBase.Ticks * (1L << exponent));
        lock (_random)
        {
            return TimeSpan.FromTicks((long)(raw * (0.5 + (_random.NextDouble() / 2))));
        }
    }

    /// <summary>The least time from a pass's end to a pass a hint wakes: the coalesce window, doubled per hint-woken
    /// pass in a row that failed with the same error (at least a millisecond then), capped at the backoff cap.</summary>
    internal TimeSpan HintGap(int hintedFailures)
    {
        if (hintedFailures == 0)
        {
            return _options.CoalesceWindow;
        }

        var window = Math.Max(_options.CoalesceWindow.Ticks, TimeSpan.TicksPerMillisecond);
        return TimeSpan.FromTicks(Math.Min(_options.BackoffCap.Ticks, window << Math.Min(hintedFailures, 20)));
    }

    /// <summary>Rounds a resync time up to the resync grid, so that the resyncs of many loops due within the same
    /// grid step run back to back on one timer wake-up (warm caches, one wake) instead of one wake-up each.</summary>
    internal DateTimeOffset Aligned(DateTimeOffset due)
    {
        var grid = Math.Min(_options.ResyncGrid.Ticks, _options.Resync.Ticks / 10);
        if (grid <= 0)
        {
            return due;
        }

        var ticks = due.UtcTicks;
        var up = (ticks + grid - 1) / grid * grid;
        return new DateTimeOffset(up, TimeSpan.Zero);
    }

    internal TimeSpan Jittered(TimeSpan period)
    {
        lock (_random)
        {
            return TimeSpan.FromTicks((long)(period.Ticks * (1 + (_options.Jitter * ((2 * _random.NextDouble()) - 1)))));
        }
    }

    private void UpdateStatus(Func<ReconcileStatus, ReconcileStatus> change)
    {
        lock (_statusLock)
        {
            _status = change(_status);
        }
    }

    private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Debug, Message = "pass {PassId} of {Source} started")]
    private static partial void LogPassStarted(ILogger logger, long passId, string source);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "pass {PassId} of {Source}: in sync ({Milliseconds:F1} ms)")]
    private static partial void LogInSync(ILogger logger, long passId, string source, double milliseconds);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "pass {PassId} of {Source}: converged, {Count} operations applied ({Milliseconds:F1} ms)")]
    private static partial void LogConverged(ILogger logger, long passId, string source, int count, double milliseconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "pass {PassId} of {Source} failed: {Error}; {Pending} operations pending, failure {Consecutive} in a row")]
    private static partial void LogFailed(ILogger logger, long passId, string source, string? error, int pending, int consecutive);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "pass {PassId} of {Source}: cannot be applied: {Error}")]
    private static partial void LogTerminal(ILogger logger, long passId, string source, string? error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "pass {PassId} of {Source}: namespace gone, loop stopped: {Error}")]
    private static partial void LogNamespaceGone(ILogger logger, long passId, string source, string? error);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "hints of {Source} failed: {Error}; a pass runs now, and they are opened again")]
    private static partial void LogHintsFailed(ILogger logger, string source, string error);
}
