namespace Aether.Labs.Supervision;

/// <summary>How a node's process is restarted when it exits and stopped when it is asked to: exponential backoff
/// between starts, and the grace between SIGTERM and SIGKILL.</summary>
public sealed record SupervisionPolicy
{
    /// <summary>The defaults: 1 s doubling to 30 s, reset after 10 s of running, 5 s of grace.</summary>
    public static SupervisionPolicy Default { get; } = new();

    /// <summary>The wait before the first restart after an exit, and after a run long enough to reset the backoff.
    /// Default 1 s.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The cap of the doubling wait. Default 30 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A process that ran at least this long before it exited is restarted after
    /// <see cref="InitialBackoff"/> again: it crashed once, it is not crash-looping. Default 10 s.</summary>
    public TimeSpan ResetAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the process group has between SIGTERM and SIGKILL. Default 5 s.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the durations.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A duration is negative, the initial backoff is zero, or the cap
    /// is below the initial backoff.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff, nameof(MaxBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResetAfter, TimeSpan.Zero, nameof(ResetAfter));
        ArgumentOutOfRangeException.ThrowIfLessThan(StopGrace, TimeSpan.Zero, nameof(StopGrace));
    }
}

/// <summary>The waits between starts: <see cref="SupervisionPolicy.InitialBackoff"/>, doubled after each run shorter
/// than <see cref="SupervisionPolicy.ResetAfter"/> up to <see cref="SupervisionPolicy.MaxBackoff"/>, and back to the
/// initial wait after a run at least that long. A start that failed counts as a run of no time.</summary>
internal sealed class Backoff(SupervisionPolicy policy)
{
    private TimeSpan _next = policy.InitialBackoff;

    /// <summary>The wait before the next start, after a run that lasted <paramref name="ran"/>.</summary>
    public TimeSpan After(TimeSpan ran)
    {
        if (ran >= policy.ResetAfter)
        {
            _next = policy.InitialBackoff;
        }

        var delay = _next;
        _next = _next > policy.MaxBackoff / 2 ? policy.MaxBackoff : _next * 2;
        return delay;
    }
}
