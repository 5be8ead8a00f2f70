using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// Reads a watcher's events as they come, keeps the ones a test cares about, and checks every named Created the
/// moment it is read: the path must open as the very namespace reported (an nsfs inode equal to the event's, which a
/// plain file left by a half-done <c>ip netns add</c> can never have). Disposing stops reading.
/// </summary>
public sealed class WatchLog : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly List<NamespaceEvent> _events = [];
    private readonly List<string> _unusable = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly Func<NamespaceEvent, bool> _mine;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="watcher">The watcher to read.</param>
    /// <param name="mine">Which events to keep (tests share the machine's /run/netns with others).</param>
    public WatchLog(NamespaceWatcher watcher, Func<NamespaceEvent, bool> mine)
    {
        _mine = mine;
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watcher.ReadAllAsync(_stop.Token))
                {
                    Add(e);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                lock (_events)
                {
                    Failure = ex;
                }
            }
            finally
            {
                _changed.TrySetResult();
            }
        });
    }

    /// <summary>What stopped the watcher's stream with an error, if anything did.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The kept events so far.</summary>
    public List<NamespaceEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Named Created events whose path was not that namespace when read (must stay empty).</summary>
    public List<string> Unusable
    {
        get
        {
            lock (_events)
            {
                return [.. _unusable];
            }
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds for the kept events; fails the test after 30 s, showing them.</summary>
    public async Task<List<NamespaceEvent>> WaitForAsync(Func<List<NamespaceEvent>, bool> done, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            Task changed;
            lock (_events)
            {
                if (done(_events))
                {
                    return [.. _events];
                }

                if (Failure is not null)
                {
                    throw new Xunit.Sdk.XunitException($"the watcher failed while waiting for {what}: {Failure}");
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException ex)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; events:\n  " + string.Join("\n  ", Events), ex);
            }
        }
    }

    /// <summary>Waits for an event of <paramref name="kind"/> named <paramref name="name"/> (the n-th when given).</summary>
    public async Task<NamespaceEvent> WaitForAsync(NamespaceEventKind kind, string name, int nth = 1)
    {
        var events = await WaitForAsync(es => es.Count(e => e.Kind == kind && e.Name == name) >= nth, $"{kind} {name} #{nth}");
        return events.Where(e => e.Kind == kind && e.Name == name).ElementAt(nth - 1);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Add(NamespaceEvent e)
    {
        if (!_mine(e))
        {
            return;
        }

        string? unusable = null;
        if (e is { Kind: NamespaceEventKind.Created, Name: not null })
        {
            try
            {
                using var ns = NetworkNamespace.OpenPath(e.Path);
                if (ns.Inode != e.Inode)
                {
                    unusable = $"{e}: {e.Path} has inode {ns.Inode}";
                }
            }
            catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
            {
                // Deleted again before it was read: the Deleted event follows.
            }
        }

        lock (_events)
        {
            _events.Add(e);
            if (unusable is not null)
            {
                _unusable.Add(unusable);
            }

            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }
}
