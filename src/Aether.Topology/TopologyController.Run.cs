using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>Namespaces the topology uses but did not create that are gone while <c>run</c> runs: not created
    /// (they are someone else's to make) until a namespace of that name appears. Only <see cref="RunAsync(ReconcileLoopOptions, Action{PassReport}?, Action{ChangeLine}?, ILoggerFactory?, CancellationToken)"/> fills it.</summary>
    private readonly HashSet<string> _awaited = new(StringComparer.Ordinal);

    /// <summary>Keeps every namespace converged with its own loop until <paramref name="cancellationToken"/> is
    /// cancelled, as <see cref="RunAsync(ReconcileLoopOptions, Action{PassReport}?, Action{ChangeLine}?, ILoggerFactory?, CancellationToken)"/> does, without reporting what it does about namespaces.</summary>
    public Task RunAsync(ReconcileLoopOptions loopOptions, Action<PassReport>? onReport = null, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default) =>
        RunAsync(loopOptions, onReport, onChange: null, loggers, cancellationToken);

    /// <summary>
    /// Keeps every namespace converged with its own loop until <paramref name="cancellationToken"/> is cancelled, and
    /// follows the namespaces as they come and go (a <see cref="NamespaceWatcher"/>):
    /// <list type="bullet">
    /// <item>one this topology created, deleted by someone (<c>ip netns del</c>), is made again with everything in it,
    /// at once: every line of that apply goes to <paramref name="onChange"/>;</item>
    /// <item>one it uses but did not create stops its loop when it goes (said once), and when a namespace of that name
    /// appears (a new one), it is converged and gets a loop again;</item>
    /// <item>nothing of the runtime holds a namespace that went: its loops, sockets and descriptors are closed before
    /// anything else is done, so the kernel tears it down (its veth ends leave the host).</item>
    /// </list>
    /// Missing namespaces are created first; the loops' first passes converge whatever is left, and every pass report
    /// goes to <paramref name="onReport"/> (but a loop's "namespace gone": the change line says it once). Call
    /// <see cref="ApplyAsync(IProgress{ChangeLine}?, CancellationToken)"/> before it to show the initial state.
    /// </summary>
    public async Task RunAsync(ReconcileLoopOptions loopOptions, Action<PassReport>? onReport, Action<ChangeLine>? onChange, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loopOptions);
        var names = _topology.Namespaces.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);

        // One descriptor per namespace (its own: the handles' sockets are within the socket budget, the monitor is
        // shared), up to three where the shared monitor cannot be used, and a generation being replaced holds its own
        // while the next opens: room for all of it.
        DescriptorLimit.EnsureAtLeast((ulong)(names.Count * 8) + 1024);
        using var watcher = NamespaceWatcher.ListAndWatch(new NamespaceWatcherOptions { RescanInterval = loopOptions.Resync });
        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<ReconcileLoop>();
        var retry = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            List<NamespaceEvent>? changes;
            Generation generation;
            try
            {
                generation = await Generation.StartAsync(this, loopOptions, onReport, logger).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Opening or creating a namespace failed (the kernel busy tearing others down, a name in flux): said,
                // and tried again, less often each time.
                onChange?.Invoke(new ChangeLine(ChangeKind.Conflict, "namespaces", null, ex.Message + $" (trying again in {retry.TotalMilliseconds:F0} ms)"));
                if (!await DelayAsync(retry, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, loopOptions.Resync.Ticks));
                continue;
            }

            retry = TimeSpan.FromMilliseconds(100);
            foreach (var name in generation.CameBack)
            {
                if (_awaited.Remove(name))
                {
                    onChange?.Invoke(AppearedAgain(name));
                }
            }

            if (generation.Created.Count > 0)
            {
                // Gone between the last look and this generation's (before the watcher saw it, or during the last
                // repair), and made again empty by its session: a staged apply fills it now, in order, rather than the
                // loops one backoff at a time.
                await generation.DisposeAsync().ConfigureAwait(false);
                foreach (var name in generation.Created)
                {
                    onChange?.Invoke(new ChangeLine(ChangeKind.Create, "namespace " + name, name, "missing: made again with everything in it"));
                }

                changes = [];
            }
            else
            {
                await using (generation.ConfigureAwait(false))
                {
                    changes = await generation.WaitForChangeAsync(watcher, names, cancellationToken).ConfigureAwait(false);
                }
            }

            // The loops have stopped and every descriptor of the generation is closed: a deleted namespace is free to go.
            if (changes is null)
            {
                return;
            }

            Follow(changes, onChange);
            var progress = onChange is null ? null : new ChangeProgress(onChange);
            try
            {
                var result = await ApplyAsync(progress, cancellationToken).ConfigureAwait(false);
                if (result.Error is not null)
                {
                    onChange?.Invoke(new ChangeLine(ChangeKind.Conflict, "repair", null, result.Error + " (the loops keep retrying)"));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                onChange?.Invoke(new ChangeLine(ChangeKind.Conflict, "repair", null, ex.Message + " (the loops keep retrying)"));
            }
        }
    }

    /// <summary>Waits; false when cancelled.</summary>
    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>What the namespace events mean for this topology, said once each; namespaces that are not ours and
    /// went are awaited rather than made.</summary>
    private void Follow(List<NamespaceEvent> changes, Action<ChangeLine>? onChange)
    {
        var claims = NamespaceRecord(OpenStore());
        foreach (var change in changes)
        {
            var name = change.Name!;
            if (change.Kind == NamespaceEventKind.Created)
            {
                if (_awaited.Remove(name))
                {
                    onChange?.Invoke(AppearedAgain(name));
                }

                continue;
            }

            var claim = claims.TryGet(NamespaceKey(name), out var entry) ? NamespaceClaim.Parse(entry) : null;
            if (claim is { Kind: ClaimKind.Created or ClaimKind.Creating })
            {
                onChange?.Invoke(new ChangeLine(ChangeKind.Delete, "namespace " + name, name, "deleted outside Aether: ours, so it is made again with everything in it"));
            }
            else if (_awaited.Add(name))
            {
                onChange?.Invoke(new ChangeLine(ChangeKind.Delete, "namespace " + name, name, "gone, and not ours: its loop stopped until a namespace of that name appears"));
            }
        }
    }

    private static ChangeLine AppearedAgain(string name) => new(ChangeKind.Change, "namespace " + name, name, "appeared again: converging it");

    /// <summary>Forwards an apply's lines, but those in sync (a repair reports what it changed).</summary>
    private sealed class ChangeProgress(Action<ChangeLine> onChange) : IProgress<ChangeLine>
    {
        public void Report(ChangeLine value)
        {
            if (value.Kind != ChangeKind.InSync)
            {
                onChange(value);
            }
        }
    }
}
