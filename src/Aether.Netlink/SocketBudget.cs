using Aether.Interop;

namespace Aether.Netlink;

/// <summary>
/// How many reclaimable request sockets (<see cref="NetlinkSocket.OpenReclaimable"/>) stay open at once. A session
/// over 10,000 namespaces would otherwise hold a socket in each besides the namespace's own descriptor, twice what a
/// process may hold under a 20,000 descriptor limit. Past the limit, idle sockets from a random place in the list are
/// closed; each is opened again by its next request (a trip into its namespace). Random, not least recently used: a plan reads every
/// namespace in turn, stage after stage, and under LRU a cycle longer than the limit misses every time, where a random
/// pick keeps about limit/N of it open. Below the limit (a third of the process's soft <c>RLIMIT_NOFILE</c> unless
/// set), nothing is ever closed.
/// </summary>
internal sealed class SocketBudget
{
    private readonly Lock _lock = new();
    private readonly List<NetlinkSocket> _open = []; // each socket knows its index (BudgetIndex): O(1) removal
    private readonly int? _fixedLimit;
    private int _limit;
    private long _released;
    private long _reopened;

    /// <summary>A budget of <paramref name="limit"/> open sockets, or a third of the descriptor limit when null.</summary>
    public SocketBudget(int? limit = null)
    {
        _fixedLimit = limit;
        _limit = limit ?? FromDescriptorLimit();
    }

    /// <summary>The process's budget.</summary>
    public static SocketBudget Shared { get; } = new();

    /// <summary>Sockets of this budget open now.</summary>
    public int OpenCount
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>How many sockets may be open before idle ones are released.</summary>
    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return _limit;
            }
        }
    }

    /// <summary>How many times a socket was closed to stay within the limit.</summary>
    public long Released => Interlocked.Read(ref _released);

    /// <summary>How many times a released socket was opened again.</summary>
    public long Reopened => Interlocked.Read(ref _reopened);

    /// <summary>Marks <paramref name="socket"/> (whose gate the caller holds, or which nobody else has yet) as in use:
    /// opened again when it was released, and idle sockets past the limit released.</summary>
    public void Use(NetlinkSocket socket)
    {
        if (socket.IsReleased)
        {
            socket.Reopen(); // outside the lock: a trip into the namespace
            Interlocked.Increment(ref _reopened);
        }

        List<NetlinkSocket>? victims = null;
        lock (_lock)
        {
            if (socket.BudgetIndex < 0)
            {
                socket.BudgetIndex = _open.Count;
                _open.Add(socket);
            }

            if (_open.Count > _limit && _fixedLimit is null)
            {
                _limit = FromDescriptorLimit(); // raised since (DescriptorLimit.EnsureAtLeast)
            }

            // From a random place on: one in use is skipped, and released by a later use. A removal moves the last
            // socket into the place, which is looked at next.
            var start = _open.Count > _limit ? Random.Shared.Next(_open.Count) : 0;
            for (var looked = 0; _open.Count > _limit && looked < _open.Count;)
            {
                var pick = _open[(start + looked) % _open.Count];
                if (!ReferenceEquals(pick, socket) && pick.Gate.Wait(0))
                {
                    Remove(pick);
                    (victims ??= []).Add(pick);
                }
                else
                {
                    looked++;
                }
            }
        }

        if (victims is null)
        {
            return;
        }

        foreach (var victim in victims)
        {
            victim.ReleaseDescriptor();
            Interlocked.Increment(ref _released);
            try
            {
                victim.Gate.Release();
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: its descriptor is closed either way.
            }
        }
    }

    /// <summary>Takes a disposed socket off the list.</summary>
    public void Forget(NetlinkSocket socket)
    {
        lock (_lock)
        {
            if (socket.BudgetIndex >= 0)
            {
                Remove(socket);
            }
        }
    }

    /// <summary>Swaps <paramref name="socket"/> with the last and drops it (under the lock).</summary>
    private void Remove(NetlinkSocket socket)
    {
        var last = _open[^1];
        _open[socket.BudgetIndex] = last;
        last.BudgetIndex = socket.BudgetIndex;
        _open.RemoveAt(_open.Count - 1);
        socket.BudgetIndex = -1;
    }

    private static unsafe int FromDescriptorLimit()
    {
        Libc.RLimit limit;
        var soft = Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) == 0 ? limit.Current : 1024;
        return (int)Math.Clamp(soft / 3, 64, int.MaxValue);
    }
}
