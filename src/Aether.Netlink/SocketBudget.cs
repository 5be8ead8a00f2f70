using Aether.Interop;

namespace Aether.Netlink;

/// <summary>
/// How many reclaimable request sockets (<see cref="NetlinkSocket.OpenReclaimable"/>) stay open at once. A session
/// over 10,000 namespaces would otherwise hold a socket in each besides the namespace's own descriptor, twice what a
/// process may hold under a 20,000 descriptor limit. Past the limit, the least recently used sockets that no request
/// is using are closed; each is opened again by its next request (a trip into its namespace, tens of microseconds).
/// Below the limit (a third of the process's soft <c>RLIMIT_NOFILE</c> unless set), nothing is ever closed.
/// </summary>
internal sealed class SocketBudget
{
    private readonly Lock _lock = new();
    private readonly LinkedList<NetlinkSocket> _open = new(); // most recently used first
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

    /// <summary>How many times a socket was closed to stay within the limit.</summary>
    public long Released => Interlocked.Read(ref _released);

    /// <summary>How many times a released socket was opened again.</summary>
    public long Reopened => Interlocked.Read(ref _reopened);

    /// <summary>Marks <paramref name="socket"/> (whose gate the caller holds, or which nobody else has yet) as used
    /// now: opened again when it was released, and the least recently used idle sockets past the limit released.</summary>
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
            var node = socket.BudgetNode ??= new LinkedListNode<NetlinkSocket>(socket);
            if (node.List is not null)
            {
                _open.Remove(node);
            }

            _open.AddFirst(node);
            if (_open.Count > _limit && _fixedLimit is null)
            {
                _limit = FromDescriptorLimit(); // raised since (DescriptorLimit.EnsureAtLeast)
            }

            var over = _open.Count - _limit;
            for (var n = _open.Last; over > 0 && n is not null;)
            {
                var previous = n.Previous;
                if (!ReferenceEquals(n.Value, socket) && n.Value.Gate.Wait(0))
                {
                    _open.Remove(n); // in use: skipped, released by a later use
                    (victims ??= []).Add(n.Value);
                    over--;
                }

                n = previous;
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
            if (socket.BudgetNode is { List: not null } node)
            {
                _open.Remove(node);
            }
        }
    }

    private static unsafe int FromDescriptorLimit()
    {
        Libc.RLimit limit;
        var soft = Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) == 0 ? limit.Current : 1024;
        return (int)Math.Clamp(soft / 3, 64, int.MaxValue);
    }
}
