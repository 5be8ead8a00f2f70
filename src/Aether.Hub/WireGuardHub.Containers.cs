using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Hub;

/// <summary>Containers: their namespaces held open while they are the ones their references name, their loops and
/// their monitors.</summary>
public sealed partial class WireGuardHub
{
    /// <summary>Opens a container the hub does not know yet. One that cannot be opened is an invalid request when
    /// <paramref name="required"/> (an add); otherwise (a stored network whose container is not there) it is kept as
    /// gone, and followed.</summary>
    private Container OpenContainer(string reference, bool required, OpenedContainer? opened = null)
    {
        var container = new Container(reference);
        try
        {
            container.Open(opened);
        }
        catch (Exception ex) when (IsOpenFailure(ex))
        {
            if (required)
            {
                throw CannotOpen(reference, ex);
            }

            container.MarkGone($"container {reference}: {ex.Message}", final: container.Pid is not null);
        }

        lock (_stateLock)
        {
            _containers[reference] = container;
        }

        Follow(container);
        DisposeUnits();
        return container;
    }

    /// <summary>Refuses (409) a container that is the host's network namespace (the hub's, this process's or
    /// init's), or the namespace of another reference that networks use already: two references to one namespace
    /// would give it two sets of routes and two default routes, each believing it is the only one.</summary>
    private void CheckContainer(string reference, string networkId, NetworkNamespace ns)
    {
        var field = reference.StartsWith("pid:", StringComparison.Ordinal) ? "containerPid" : "container";
        foreach (var (what, inode) in HostInodes())
        {
            if (inode == ns.Inode)
            {
                throw new HubException(HubErrorKind.Conflict, $"{field}: {reference} is {what} (namespace inode {ns.Inode}): a container must be a namespace of its own") { NetworkId = networkId, Step = field };
            }
        }

        foreach (var container in _containers.Values)
        {
            if (!string.Equals(container.Reference, reference, StringComparison.Ordinal) && container.Namespace?.Inode == ns.Inode)
            {
                var users = string.Join(", ", AllAttachments().Where(a => string.Equals(a.Container, container.Reference, StringComparison.Ordinal)).Select(a => a.NetworkId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
                throw new HubException(HubErrorKind.Conflict, $"{field}: {reference} is the same network namespace as container {container.Reference} of network {users}: give that reference to add a network to it") { NetworkId = networkId, Step = field };
            }
        }
    }

    /// <summary>The host's network namespaces as inodes: the hub's host namespace, this process's and init's.</summary>
    private (string What, ulong Inode)[] HostInodes() =>
    [
        ("the hub's host network namespace", _host.Inode),
        ("this process's network namespace", InodeOf("/proc/self/ns/net")),
        ("the host's network namespace (init's, /proc/1/ns/net)", InodeOf("/proc/1/ns/net")),
    ];

    private static ulong InodeOf(string path)
    {
        try
        {
            using var ns = NetworkNamespace.OpenVerified(path);
            return ns.Inode;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The 400 for a container reference that cannot be opened or is not a network namespace.</summary>
    private static HubException CannotOpen(string reference, Exception ex) =>
        HubException.Invalid([new HubFieldError(reference.StartsWith("pid:", StringComparison.Ordinal) ? "containerPid" : "container",
            ex is NotANetworkNamespaceException
                ? $"{ex.Message}: {OpenedContainer.Allowed}"
                : $"cannot open the network namespace {reference}: {ex.Message} ({OpenedContainer.Allowed})")]);

    private static bool IsOpenFailure(Exception ex) =>
        ex is IOException or UnauthorizedAccessException or NetlinkException or ArgumentException or FormatException or OverflowException;

    /// <summary>The safety net behind the watchers and pidfds (a lost event, a path the watchers cannot see): lets go
    /// of containers whose namespace is gone or replaced, and takes back those that came back.</summary>
    private async Task RefreshContainersAsync()
    {
        foreach (var container in _containers.Values.ToList())
        {
            if (container.Gone)
            {
                if (!container.Final && container.Probe(out _) is not null)
                {
                    await ReviveAsync(container).ConfigureAwait(false);
                }

                continue;
            }

            var now = container.Probe(out var why);
            if (now != container.Namespace?.Inode)
            {
                // A process whose /proc entry is gone has exited: that is final. A replaced namespace is taken back.
                var exited = now is null && container.Pid is not null;
                why = exited ? $"container {container.Reference}: process {container.Pid} exited" : why ?? $"container {container.Reference}: its namespace was replaced";
                await LetGoAsync(container, why, final: exited).ConfigureAwait(false);
                if (now is not null)
                {
                    await ReviveAsync(container).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ForgetUnusedContainersAsync(bool clearRecords)
    {
        foreach (var (reference, container) in _containers.ToList())
        {
            if (AllAttachments().Any(a => string.Equals(a.Container, reference, StringComparison.Ordinal)))
            {
                continue;
            }

            lock (_stateLock)
            {
                _containers.Remove(reference);
            }

            await StopLoopAsync(container.DetachLoop()).ConfigureAwait(false);
            await container.DisposeAsync().ConfigureAwait(false);
            if (clearRecords)
            {
                ClearRecords(reference);
            }

            DisposeUnits();
        }
    }

    /// <summary>Forgets what the hub set in a container: its ethN went with the veth pair (or with the namespace), and
    /// their addresses and routes with them.</summary>
    private void ClearRecords(string reference)
    {
        foreach (var what in (string[])["addresses", "routes"])
        {
            var record = Record($"container {reference} {what}");
            foreach (var key in record.Snapshot().Keys)
            {
                record.Remove(key);
            }
        }
    }

    private void StartMonitor(Container container)
    {
        if (container.Handle is { } handle && _options.RunLoop)
        {
            container.MonitorStop?.Cancel();
            container.MonitorStop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            container.Monitor = MonitorAsync(handle, () => container.Loop, container.MonitorStop.Token);
        }
    }

    /// <summary>Rtnetlink hints from one namespace for the loop of that namespace.</summary>
    private static async Task MonitorAsync(NetlinkHandle handle, Func<ReconcileLoop?> loop, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in handle.MonitorAsync(MonitorGroups.Links | MonitorGroups.IPv4Addresses | MonitorGroups.IPv4Routes, null, cancellationToken).ConfigureAwait(false))
                {
                    loop()?.Hint();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or ObjectDisposedException)
            {
                // A socket closed under us: the timer still resyncs.
                loop()?.Hint();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The handle the hub holds in a container's namespace, lent to the link source for its peer lookups.</summary>
    private NetlinkHandle ContainerHandle(NetworkNamespace ns) =>
        _containers.Values.FirstOrDefault(c => c.Namespace is { } mine && mine.Inode == ns.Inode)?.Handle
        ?? throw new InvalidOperationException($"no handle held in {ns}");

    /// <summary>A container namespace the hub's networks live in, held open while it is the one its reference
    /// names; gone (nothing of it held) once it went, until it comes back.</summary>
    private sealed class Container : IAsyncDisposable
    {
        public Container(string reference)
        {
            Reference = reference;
            Scope = Scope.Namespace(reference);
            Pid = OpenedContainer.PidOf(reference);
            if (Pid is null && reference.StartsWith('/'))
            {
                (Directory, EntryName) = (System.IO.Path.GetDirectoryName(reference) ?? "/", System.IO.Path.GetFileName(reference));
            }
            else if (Pid is null)
            {
                (Directory, EntryName) = (NetworkNamespace.RunDirectory, reference);
            }
        }

        public string Reference { get; }

        /// <summary>The container as a scope: named by its reference.</summary>
        public Scope Scope { get; }

        /// <summary>The process whose namespace it is (<c>pid:N</c>, <c>/proc/N/ns/net</c>), or null.</summary>
        public int? Pid { get; }

        /// <summary>The directory a watcher follows the container's entry in (<c>/run/netns</c> for a name), or
        /// null for a process.</summary>
        public string? Directory { get; }

        /// <summary>The container's entry in <see cref="Directory"/>.</summary>
        public string? EntryName { get; }

        public NetworkNamespace? Namespace { get; private set; }

        /// <summary>The pidfd that pins <see cref="Pid"/> while the namespace is held, or -1.</summary>
        public int PidFd { get; private set; } = -1;

        public NetlinkHandle? Handle { get; private set; }

        /// <summary>Why the container is gone, or null.</summary>
        public string? Error { get; private set; }

        /// <summary>Whether its namespace went: nothing of it is held, no loop runs for it.</summary>
        public bool Gone { get; private set; }

        /// <summary>Gone for good: its process exited (a pid is not followed into another process).</summary>
        public bool Final { get; private set; }

        public ReconcileLoop? Loop { get; set; }

        public ProcessExitWatch? Exit { get; set; }

        public CancellationTokenSource? MonitorStop { get; set; }

        public Task? Monitor { get; set; }

        /// <summary>Opens the container, or takes <paramref name="opened"/> (opened and checked before the hub's
        /// gate was taken).</summary>
        public void Open(OpenedContainer? opened = null)
        {
            opened ??= OpenedContainer.Open(Reference);
            var (ns, pidfd) = opened.Take();
            opened.Dispose();
            try
            {
                Handle = NetlinkHandle.OpenAt(ns);
                Namespace = ns;
                PidFd = pidfd;
                Error = null;
                Gone = false;
                Final = false;
            }
            catch
            {
                ns.Dispose();
                if (pidfd >= 0)
                {
                    Interop.Libc.Close(pidfd);
                }

                throw;
            }
        }

        /// <summary>The inode its reference names now, or null (and why) when it names none.</summary>
        public ulong? Probe(out string? why)
        {
            why = null;
            if (PidFd >= 0 && !OpenedContainer.IsAlive(PidFd))
            {
                why = $"container {Reference}: process {Pid} exited";
                return null;
            }

            try
            {
                using var probe = OpenedContainer.Open(Reference);
                return probe.Namespace.Inode;
            }
            catch (Exception ex) when (IsOpenFailure(ex))
            {
                why = $"container {Reference}: {ex.Message}";
                return null;
            }
        }

        public ReconcileLoop? DetachLoop()
        {
            var loop = Loop;
            Loop = null;
            return loop;
        }

        /// <summary>Closes everything held in the namespace (so the kernel can tear it down) and marks it gone.</summary>
        public void MarkGone(string why, bool final)
        {
            Gone = true;
            Final |= final;
            Error = why;
            Close();
            if (Final)
            {
                Exit?.Dispose();
                Exit = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Close();
            Exit?.Dispose();
            Exit = null;
            await WaitQuietly(Monitor).ConfigureAwait(false);
        }

        private void Close()
        {
            MonitorStop?.Cancel();
            MonitorStop?.Dispose();
            MonitorStop = null;
            Handle?.Dispose();
            Handle = null;
            Namespace?.Dispose();
            Namespace = null;
            if (PidFd >= 0)
            {
                Interop.Libc.Close(PidFd);
                PidFd = -1;
            }
        }
    }
}
