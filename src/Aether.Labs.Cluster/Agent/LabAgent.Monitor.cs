using System.Threading.Channels;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;

namespace Aether.Labs.Cluster.Agent;

/// <summary>
/// The agent's ear on the kernel: an rtnetlink link monitor (<see cref="NetlinkHandle.MonitorAsync"/>, the one the
/// topology engine's link source uses) in each node namespace of the labs placed on this host. Any link announced,
/// changed or deleted there (a VXLAN end deleted or set down by hand, a veth peer gone) wakes a pass after
/// <see cref="LabAgentOptions.KernelDebounce"/> of quiet, so drift is repaired in about a pass, not at the next
/// resync. The pass's own changes wake one more pass, which finds nothing to do and makes no event: it settles.
/// The set of namespaces is brought up to date after every pass (from the placements and the labs' definitions); a
/// namespace deleted and made again under its name is a new namespace (another <see cref="NamespaceIdentity"/>) and
/// gets a new monitor. A node namespace deleted whole takes its links with it without an event in any namespace
/// watched here (its veth peers' deletions do wake a pass; a lone VXLAN end does not): the timer repairs that.
/// Where labs here have WireGuard tunnels (<c>transport: wireguard</c>), the host's namespace is watched too, but
/// only the tunnel devices' own events wake a pass: a real host's other links (containers coming and going) do not.
/// A peer changed with <c>wg</c> raises no kernel event at all: the timer repairs that.
/// </summary>
public sealed partial class LabAgent
{

    /// <summary>Brings <paramref name="watch"/> to the node namespaces of the labs placed here. A failure (the database
    /// away) keeps the current set: the next pass tries again.</summary>
    private async Task FollowKernelAsync(KernelWatch watch, CancellationToken cancellationToken)
    {
        try
        {
            var placements = await _cluster.ListPlacementsOnHostAsync(_options.Host, cancellationToken).ConfigureAwait(false);
            var namespaces = new HashSet<string>(StringComparer.Ordinal);
            var tunnels = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in placements.GroupBy(p => p.Lab, StringComparer.Ordinal))
            {
                var stored = await _labs.GetLabAsync(group.Key, cancellationToken).ConfigureAwait(false);
                var lab = stored is null ? null : LabLoader.Parse(stored.Definition, stored.SourcePath ?? group.Key).Lab;
                foreach (var placement in group)
                {
                    namespaces.Add(lab?.Nodes.FirstOrDefault(n => string.Equals(n.Name, placement.Node, StringComparison.Ordinal))?.Namespace
                        ?? LabNames.DefaultNamespace(placement.Lab, placement.Node));
                }

                if (lab is not null)
                {
                    tunnels.UnionWith(TunnelDevices(await ClusterLabs.WithStoredPlacementsAsync(_cluster, lab, cancellationToken).ConfigureAwait(false)));
                }
            }

            watch.Follow(namespaces, _options.HostNamespace ?? LabObservation.Host, tunnels);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogKernelWatchFailed(_logger, "(namespaces)", ex.Message);
        }
    }

    [LoggerMessage(EventId = 8104, Level = LogLevel.Warning, Message = "kernel monitor in {Namespace} failed: {Error} (the timer still repairs)")]
    private static partial void LogKernelWatchFailed(ILogger logger, string @namespace, string error);

    /// <summary>Link monitors in a set of named namespaces, and the debounce that turns their events into one wake.</summary>
    private sealed class KernelWatch : IAsyncDisposable
    {
        /// <summary>The longest debounce after failed passes.</summary>
        private static readonly TimeSpan MaxDebounce = TimeSpan.FromSeconds(5);

        private readonly Action _wake;
        private readonly TimeSpan _debounce;
        private long _currentTicks;
        private readonly ILogger _logger;
        private readonly Dictionary<string, Watched> _watched = new(StringComparer.Ordinal);
        private readonly Channel<bool> _events = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _debouncer;
        private readonly NamespaceWatcher? _names;
        private readonly Task _namesReader = Task.CompletedTask;
        private volatile HashSet<string> _followed = new(StringComparer.Ordinal);
        private volatile HashSet<string> _tunnels = new(StringComparer.Ordinal);
        private volatile string? _tunnelNamespace;

        public KernelWatch(Action wake, TimeSpan debounce, ILogger logger)
        {
            _wake = wake;
            _debounce = debounce;
            _currentTicks = debounce.Ticks;
            _logger = logger;
            _debouncer = Task.Run(() => DebounceAsync(_stop.Token), CancellationToken.None);

            // A followed namespace deleted by name makes no link event anywhere: its monitor's own socket keeps it
            // alive (and its veth peers with it) until that monitor stops, which only a pass does. So the names under
            // /run/netns are watched too, and one of ours going or coming wakes a pass.
            try
            {
                _names = NamespaceWatcher.ListAndWatch();
                _namesReader = Task.Run(() => ReadNamesAsync(_names, _stop.Token), CancellationToken.None);
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or UnauthorizedAccessException)
            {
                LogKernelWatchFailed(_logger, NetworkNamespace.RunDirectory, ex.Message);
            }
        }

        /// <summary>After a pass: one that failed somewhere (its apply changing links each time, say) doubles the
        /// debounce, up to 5 s, so its own events cannot spin the agent; one that did not brings it back.</summary>
        public void Passed(bool failed) =>
            Volatile.Write(ref _currentTicks, failed ? Math.Min(Volatile.Read(ref _currentTicks) * 2, Math.Max(MaxDebounce.Ticks, _debounce.Ticks)) : _debounce.Ticks);

        /// <summary>Watches exactly <paramref name="names"/>: new ones (or ones made again) get a monitor, gone ones lose
        /// theirs. A name that does not exist (yet) is skipped: the pass that makes it is followed by another call.
        /// While <paramref name="tunnels"/> names devices, <paramref name="tunnelNamespace"/> (<c>""</c>: this
        /// process's) is watched too, for those devices' events only.</summary>
        public void Follow(HashSet<string> names, string tunnelNamespace, HashSet<string> tunnels)
        {
            _followed = new HashSet<string>(names, StringComparer.Ordinal);
            _tunnels = tunnels;
            _tunnelNamespace = tunnelNamespace;
            if (tunnels.Count > 0)
            {
                names = new HashSet<string>(names, StringComparer.Ordinal) { tunnelNamespace };
            }

            foreach (var name in _watched.Keys.Where(n => !names.Contains(n)).ToList())
            {
                Stop(name);
            }

            foreach (var name in names)
            {
                NetworkNamespace ns;
                try
                {
                    ns = name.Length == 0 ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(name);
                }
                catch (Exception ex) when (ex is NetlinkException or ArgumentException or IOException or UnauthorizedAccessException)
                {
                    Stop(name);
                    continue;
                }

                using (ns)
                {
                    if (_watched.TryGetValue(name, out var current) && current.Identity == ns.Identity)
                    {
                        continue;
                    }

                    Stop(name);
                    Start(name, ns);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            var tasks = _watched.Values.Select(w => w.Run).Append(_debouncer).Append(_namesReader).ToList();
            foreach (var watched in _watched.Values)
            {
                watched.Stop.Dispose();
            }

            _watched.Clear();
            foreach (var task in tasks)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            _names?.Dispose();
            _stop.Dispose();
        }

        private async Task ReadNamesAsync(NamespaceWatcher names, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var e in names.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (e.Name is { } name && _followed.Contains(name))
                    {
                        _events.Writer.TryWrite(true);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or ObjectDisposedException)
            {
                LogKernelWatchFailed(_logger, NetworkNamespace.RunDirectory, ex.Message);
            }
        }

        private void Start(string name, NetworkNamespace ns)
        {
            var handle = NetlinkHandle.OpenAt(ns); // its own duplicate of the namespace: it stays this one
            var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var run = Task.Run(() => WatchAsync(name, handle, stop.Token), CancellationToken.None);
            _watched[name] = new Watched(ns.Identity, stop, run);
        }

        private void Stop(string name)
        {
            if (_watched.Remove(name, out var watched))
            {
                watched.Stop.Cancel();
                watched.Stop.Dispose();
            }
        }

        private async Task WatchAsync(string name, NetlinkHandle handle, CancellationToken cancellationToken)
        {
            using (handle)
            {
                try
                {
                    await foreach (var e in handle.MonitorAsync(MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        // In the tunnels' namespace (the host's), only the tunnel devices' own events count.
                        var relevant = e is OverrunEvent || (e is LinkEvent link
                            && (!string.Equals(name, _tunnelNamespace, StringComparison.Ordinal) || _tunnels.Contains(link.Link.Name)));
                        if (relevant)
                        {
                            _events.Writer.TryWrite(true);
                        }
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
                catch (Exception ex) when (ex is NetlinkException or IOException or ObjectDisposedException)
                {
                    LogKernelWatchFailed(_logger, name, ex.Message);
                }
            }
        }

        private async Task DebounceAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // Quiet for the debounce: a burst (a namespace's links, a pass's own changes) is one wake.
                    // A stream that never stops still wakes a pass after ten debounces.
                    var waits = 0;
                    do
                    {
                        _events.Reader.TryRead(out _);
                        await Task.Delay(TimeSpan.FromTicks(Volatile.Read(ref _currentTicks)), cancellationToken).ConfigureAwait(false);
                    }
                    while (++waits < 10 && _events.Reader.TryPeek(out _));

                    _wake();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        private sealed record Watched(NamespaceIdentity Identity, CancellationTokenSource Stop, Task Run);
    }
}
