namespace Aether.Reconcile.Tests;

/// <summary>A hand-made clock: time moves only when a test says so; timers fire in due order as it moves.</summary>
public sealed class ManualTime : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The due times (from now) of the armed timers.</summary>
    public IReadOnlyList<TimeSpan> Armed()
    {
        lock (_lock)
        {
            return _timers.Where(t => t.Due is not null).Select(t => t.Due!.Value - _now).ToList();
        }
    }

    /// <summary>Waits (in real time, up to 5 s) until exactly one timer is armed, and returns its delay.</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var armed = Armed();
            if (armed.Count == 1)
            {
                return armed[0];
            }

            await Task.Delay(2);
        }

        throw new TimeoutException($"expected one armed timer, have {Armed().Count}");
    }

    /// <summary>Moves time forward, firing every timer that falls due, in order.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + by;
        }

        while (true)
        {
            ManualTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.Due is { } due && due <= target).MinBy(t => t.Due);
                if (next is null)
                {
                    _now = target;
                    return;
                }

                _now = next.Due!.Value;
                next.Due = null;
            }

            next.Fire();
        }
    }

    private sealed class ManualTimer(ManualTime owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                if (!owner._timers.Contains(this))
                {
                    owner._timers.Add(this);
                }

                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
