using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Hub;

/// <summary>Containers: their namespaces held open while they are the ones their references name, and their
/// monitors.</summary>
public sealed partial class WireGuardHub
{
    private void OpenContainer(string reference, bool required)
    {
        var container = new Container(reference);
        try
        {
            container.Open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NetlinkException or ArgumentException or FormatException or OverflowException)
        {
            if (required)
            {
                throw HubException.Invalid([new HubFieldError("container", $"cannot open the network namespace {reference}: {ex.Message}")]);
            }

            container.Error = $"container {reference}: {ex.Message}";
        }

        _containers[reference] = container;
        if (_loop is not null)
        {
            StartMonitor(container);
        }

        DisposeUnits();
    }

    /// <summary>Re-opens containers whose namespace was replaced (a named namespace deleted and made again) or
    /// has come back, and marks those that are gone: the hub must not keep a dead namespace alive through its fd.</summary>
    private void RefreshContainers()
    {
        foreach (var container in _containers.Values)
        {
            if (container.Refresh())
            {
                StartMonitor(container);
                DisposeUnits();
            }
        }
    }

    private async Task ForgetUnusedContainersAsync(bool clearRecords)
    {
        foreach (var (reference, container) in _containers.ToList())
        {
            if (_networks.Values.Any(n => string.Equals(n.Container, reference, StringComparison.Ordinal)))
            {
                continue;
            }

            _containers.Remove(reference);
            await container.DisposeAsync().ConfigureAwait(false);
            if (clearRecords)
            {
                // Its ethN went with the veth pair, and their addresses and routes with them.
                foreach (var what in (string[])["addresses", "routes"])
                {
                    var record = Record($"container {reference} {what}");
                    foreach (var key in record.Snapshot().Keys)
                    {
                        record.Remove(key);
                    }
                }
            }

            DisposeUnits();
        }
    }

    private void StartMonitor(Container container)
    {
        if (container.Handle is { } handle && _loop is not null)
        {
            container.MonitorStop?.Cancel();
            container.MonitorStop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            container.Monitor = MonitorAsync(handle, container.MonitorStop.Token);
        }
    }

    private async Task MonitorAsync(NetlinkHandle handle, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in handle.MonitorAsync(MonitorGroups.Links | MonitorGroups.IPv4Addresses | MonitorGroups.IPv4Routes, null, cancellationToken).ConfigureAwait(false))
                {
                    _loop?.Hint();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or ObjectDisposedException)
            {
                // A namespace that went away, or a socket closed under us: the timer still resyncs.
                _loop?.Hint();
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
    /// names.</summary>
    private sealed class Container(string reference) : IAsyncDisposable
    {
        public string Reference { get; } = reference;

        /// <summary>The container as a scope: named by its reference.</summary>
        public Scope Scope { get; } = Scope.Namespace(reference);

        public NetworkNamespace? Namespace { get; private set; }

        public NetlinkHandle? Handle { get; private set; }

        public string? Error { get; set; }

        public CancellationTokenSource? MonitorStop { get; set; }

        public Task? Monitor { get; set; }

        public void Open()
        {
            var ns = HubNetworkSpec.OpenContainer(Reference);
            try
            {
                Handle = NetlinkHandle.OpenAt(ns);
                Namespace = ns;
                Error = null;
            }
            catch
            {
                ns.Dispose();
                throw;
            }
        }

        /// <summary>Whether the namespace changed (re-opened, or gone).</summary>
        public bool Refresh()
        {
            ulong? now;
            try
            {
                using var probe = HubNetworkSpec.OpenContainer(Reference);
                now = probe.Inode;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or FormatException)
            {
                now = null;
                Error = string.Create(CultureInfo.InvariantCulture, $"container {Reference}: {ex.Message}");
            }

            if (now == Namespace?.Inode)
            {
                return false;
            }

            Close();
            if (now is not null)
            {
                try
                {
                    Open();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NetlinkException)
                {
                    Error = $"container {Reference}: {ex.Message}";
                }
            }

            return true;
        }

        public async ValueTask DisposeAsync()
        {
            Close();
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
        }
    }
}
