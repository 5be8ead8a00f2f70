namespace Aether.Reconcile;

/// <summary>How a <see cref="ReconcileLoop"/> paces its passes.</summary>
public sealed record ReconcileLoopOptions
{
    /// <summary>The resync period: a pass at least this often, whatever the hints say (truth).</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Spread of the resync period, as a fraction (0.1 = ±10%), so many loops do not pass in step.</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>Resyncs are rounded up to this grid (on the wall clock), so loops whose resyncs fall due within one
    /// step pass together on one wake-up: an idle host with a thousand loops wakes a few times a second instead of
    /// dozens. Never coarser than a tenth of <see cref="Resync"/>; zero turns it off. Hints, the trailing edge and backoff are never rounded.</summary>
    public TimeSpan ResyncGrid { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>After a pass during which hints arrived, wait until no hint has come for this long, then run one more
    /// pass for all of them (the trailing edge).</summary>
    public TimeSpan CoalesceWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest the trailing edge waits for a burst to go quiet: during a storm of hints, one pass per
    /// this period.</summary>
    public TimeSpan CoalesceCap { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The first retry delay after a failed pass; doubled per consecutive failure.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest retry delay.</summary>
    public TimeSpan BackoffCap { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Listen to the source's hints; off, only the resync timer drives passes.</summary>
    public bool HintsEnabled { get; init; } = true;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Resync <= TimeSpan.Zero)
        {
            throw new ArgumentException($"invalid resync period {Resync}: must be positive", nameof(Resync));
        }

        if (ResyncGrid < TimeSpan.Zero)
        {
            throw new ArgumentException($"invalid resync grid {ResyncGrid}: must not be negative", nameof(ResyncGrid));
        }

        if (Jitter is < 0 or >= 1 || double.IsNaN(Jitter))
        {
            throw new ArgumentException($"invalid jitter {Jitter}: must be in [0, 1)", nameof(Jitter));
        }

        if (CoalesceWindow < TimeSpan.Zero || CoalesceCap < CoalesceWindow)
        {
            throw new ArgumentException($"invalid coalescing: window {CoalesceWindow}, cap {CoalesceCap} (0 <= window <= cap)", nameof(CoalesceCap));
        }

        if (BackoffBase <= TimeSpan.Zero || BackoffCap < BackoffBase)
        {
            throw new ArgumentException($"invalid backoff {BackoffBase}..{BackoffCap}", nameof(BackoffBase));
        }
    }
}

/// <summary>How a pass ended.</summary>
public enum PassOutcome
{
    /// <summary>Nothing to do: the kernel matched.</summary>
    InSync,

    /// <summary>Drift was found and every operation applied.</summary>
    Converged,

    /// <summary>An operation failed; it will be retried with backoff.</summary>
    Failed,

    /// <summary>The desired state cannot be applied; reported, retried only at the next resync or hint.</summary>
    Terminal,

    /// <summary>The namespace is gone; the loop stopped.</summary>
    NamespaceGone,
}

/// <summary>The report of one pass.</summary>
/// <param name="PassId">The pass's id, unique within the loop (also in the logs).</param>
/// <param name="Source">The source's name.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Started">When it started.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Drift">The operations the diff found necessary.</param>
/// <param name="Applied">The operations carried out.</param>
/// <param name="Pending">The operations left undone after a failure.</param>
/// <param name="Error">The failure's message (with errno and kernel text when the kernel refused), or null.</param>
public sealed record PassReport(
    long PassId,
    string Source,
    PassOutcome Outcome,
    DateTimeOffset Started,
    TimeSpan Duration,
    IReadOnlyList<Operation> Drift,
    IReadOnlyList<Operation> Applied,
    IReadOnlyList<Operation> Pending,
    string? Error);

/// <summary>A snapshot of a loop, for the CLI and the daemon.</summary>
/// <param name="Source">The source's name.</param>
/// <param name="Running">Whether the loop is still running.</param>
/// <param name="Passes">Passes run so far.</param>
/// <param name="ConsecutiveFailures">Failed passes since the last success.</param>
/// <param name="LastSuccess">When a pass last ended in sync or converged.</param>
/// <param name="NextPass">When the next pass is due (absent hints).</param>
/// <param name="LastReport">The latest pass's report.</param>
public sealed record ReconcileStatus(string Source, bool Running, long Passes, int ConsecutiveFailures, DateTimeOffset? LastSuccess, DateTimeOffset? NextPass, PassReport? LastReport);
