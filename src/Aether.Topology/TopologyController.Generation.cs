using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Microsoft.Extensions.Logging;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>
    /// One stretch of <c>run</c> between two namespace changes: a session (the namespaces, handles and sources), a
    /// loop per namespace it found, and what each namespace's inode was when it was opened. Disposing it stops the
    /// loops and closes every descriptor, so nothing of it keeps a deleted namespace alive.
    /// </summary>
    private sealed class Generation : IAsyncDisposable
    {
        private readonly Session _session;
        private readonly List<ReconcileLoop> _loops;
        private readonly List<Task> _readers;
        private readonly Dictionary<string, ulong> _inodes;

        private Generation(Session session, List<ReconcileLoop> loops, List<Task> readers, Dictionary<string, ulong> inodes)
        {
            _session = session;
            _loops = loops;
            _readers = readers;
            _inodes = inodes;
        }

        /// <summary>The namespaces this generation's session had to create (they were missing when it looked).</summary>
        public List<string> Created => _session.Created;

        /// <summary>Awaited namespaces (gone, not ours) this generation found there again when it started.</summary>
        public List<string> CameBack { get; private init; } = [];

        /// <summary>Opens (and creates what is missing and not awaited) the topology's namespaces and starts a loop in
        /// each. Pass reports go to <paramref name="onReport"/>, but a loop's "namespace gone": the runtime says that.</summary>
        public static async Task<Generation> StartAsync(TopologyController owner, ReconcileLoopOptions options, Action<PassReport>? onReport, ILogger<ReconcileLoop> logger)
        {
            var session = new Session(owner, owner.OpenStore(), createMissing: true) { FollowPeers = options.Resync / 2, WritesKeys = true };
            try
            {
                await session.ShareMonitorAsync(CancellationToken.None).ConfigureAwait(false);
                var scopes = owner.Scopes.Where(session.Exists).ToList();
                // Came back before its creation was seen (during a repair, say): the watcher's event for it is then one
                // this generation ignores (it holds that namespace already), so the runtime says it from this list, and
                // stops awaiting it, once this generation has started.
                var back = owner._awaited.Where(name => session.Exists(Scope.Namespace(name))).ToList();
                var loops = scopes
                    .Select(scope => new ReconcileLoop(
                        new SourceGroup(
                            scope + " of " + owner.Owner,
                            [.. StageOrder.Select(stage => session.SourceFor(stage, scope)).OfType<IReconcileSource>()],
                            hints: ct => session.HintsAsync(scope, ct)) { Kind = "topology" },
                        options,
                        logger: logger))
                    .ToList();
                var byScope = scopes.Zip(loops).ToDictionary(p => p.First, p => p.Second);
                session.WakeScope = scope =>
                {
                    if (byScope.TryGetValue(scope, out var loop))
                    {
                        loop.Hint();
                    }
                };
                var readers = loops.Select(loop => Task.Run(async () =>
                {
                    await foreach (var report in loop.Reports.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        if (report.Outcome != PassOutcome.NamespaceGone)
                        {
                            onReport?.Invoke(report);
                        }
                    }
                }, CancellationToken.None)).ToList();
                foreach (var loop in loops)
                {
                    await loop.StartAsync(CancellationToken.None).ConfigureAwait(false);
                }

                var inodes = scopes.Where(s => !s.IsHost).ToDictionary(s => s.Name!, session.InodeOf, StringComparer.Ordinal);
                return new Generation(session, loops, readers, inodes) { CameBack = back };
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        /// <summary>Waits for a change to one of <paramref name="names"/> that this generation does not reflect: the
        /// deletion of a namespace it holds, or the appearance of one it does not (a missing name, or a new namespace
        /// under a held name). Returns it with whatever else is already waiting, or null when cancelled.</summary>
        public async Task<List<NamespaceEvent>?> WaitForChangeAsync(NamespaceWatcher watcher, HashSet<string> names, CancellationToken cancellationToken)
        {
            while (true)
            {
                NamespaceEvent next;
                try
                {
                    next = await watcher.Events.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return null;
                }

                if (!Changes(next, names))
                {
                    continue;
                }

                List<NamespaceEvent> changes = [next];
                while (watcher.Events.TryRead(out var more))
                {
                    if (Changes(more, names))
                    {
                        changes.Add(more);
                    }
                }

                return changes;
            }
        }

        /// <inheritdoc/>
        public async ValueTask DisposeAsync()
        {
            foreach (var loop in _loops)
            {
                await loop.StopAsync(CancellationToken.None).ConfigureAwait(false);
                loop.Dispose();
            }

            await Task.WhenAll(_readers).ConfigureAwait(false);
            _session.Dispose();
        }

        private bool Changes(NamespaceEvent e, HashSet<string> names) =>
            e.Name is { } name && names.Contains(name) && e.Kind switch
            {
                NamespaceEventKind.Deleted => _inodes.TryGetValue(name, out var held) && held == e.Inode,
                NamespaceEventKind.Created => !_inodes.TryGetValue(name, out var held) || held != e.Inode,
                _ => false,
            };
    }
}
