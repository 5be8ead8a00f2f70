using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Nftables;
using Aether.Reconcile;
using Aether.WireGuard;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Hub;

/// <summary>
/// The multi-network WireGuard hub (see <see cref="IWireGuardHub"/>). Its networks are desired state: every call
/// computes the objects all networks need and runs the reconcile sources of the host namespace and of each container
/// over them, in dependency order (links, devices, addresses, routes, sysctls, nftables). Adding a network is
/// therefore the same pass as repairing one; a call that fails half-way runs the pass again without the new network,
/// which deletes what the call created (owned, no longer desired) and nothing else. One loop per namespace (the host's,
/// and each container's) runs that namespace's part on a timer and on its rtnetlink hints, so drift (an <c>ethN</c>
/// deleted, a peer removed by hand, a killed wireguard-go) is repaired. Containers are followed: one that goes is let go
/// of at once (see <see cref="HubNetworkState.ContainerGone"/>).
/// </summary>
/// <remarks>
/// <para>The veth pair is created in one request with its inner end already in the container under its final name
/// <c>ethN</c>: the kernel's atomic form of the reference's create, move and rename, with no moment where a half-moved
/// <c>veth-contN</c> exists.</para>
/// <para>Routing: <c>ethN</c> carries the container's address as a /32, with the network routed via the gateway
/// (on-link) and, on the container's first network (lowest index), the default route. In the host <c>veth-rootN</c>
/// carries the gateway as a /32 with a /32 route back to the container, and the network is routed into <c>wgN</c>,
/// whose peer's allowed IPs are the network. The host forwards (<c>net.ipv4.ip_forward</c>); its table
/// <c>inet aether-hub</c> masquerades the first network's traffic that leaves through neither its tunnel nor its
/// veth, and drops forwarding between different networks' interfaces.</para>
/// </remarks>
public sealed partial class WireGuardHub : IWireGuardHub, IAsyncDisposable
{
    private const string IpForward = "net.ipv4.ip_forward";
    private readonly IHubStore _store;
    private readonly WireGuardHubOptions _options;
    private readonly NetworkNamespace _host;
    private readonly NetlinkHandle _hostHandle;
    private readonly IWireGuardBackend _backend;
    private readonly AppliedRecordStore? _records;
    private readonly Dictionary<string, AppliedRecord> _memoryRecords = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _stateLock = new();
    private readonly Dictionary<string, HubNetworkSpec> _networks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Container> _containers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly NftContext? _nft;
    private readonly string? _nftMissing;
    private Units? _units;
    private int _disposed;

    private WireGuardHub(IHubStore store, WireGuardHubOptions options, NetworkNamespace host, NetlinkHandle hostHandle, IWireGuardBackend backend)
    {
        _store = store;
        _options = options;
        _host = host;
        _hostHandle = hostHandle;
        _backend = backend;
        _logger = options.LoggerFactory?.CreateLogger<WireGuardHub>() ?? NullLogger<WireGuardHub>.Instance;
        if (options.StateDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            _records = AppliedRecordStore.Open(Path.Combine(dir, "hub-records.json"));
        }

        if (NftContext.IsAvailable(out var why))
        {
            _nft = options.HostNamespace is null ? NftContext.Open() : NftContext.OpenAt(host);
        }
        else
        {
            _nftMissing = why;
        }
    }

    /// <summary>The WireGuard implementation in use.</summary>
    public WireGuardBackendKind Backend => _backend.Kind;

    /// <summary>The host namespace's name or path, or null for the process's own.</summary>
    public string? HostNamespace => _options.HostNamespace?.ToString();

    /// <summary>Starts a hub: loads the networks kept in <paramref name="store"/>, reconciles them (a restart repairs
    /// rather than recreates: objects in place are kept) and starts the repair loop.</summary>
    public static async Task<WireGuardHub> StartAsync(IHubStore store, WireGuardHubOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new WireGuardHubOptions();
        options.Backend.Validate();
        options.Loop.Validate();
        Aether.Netlink.Names.InterfaceNameRule.Validate(options.WireGuardPrefix + HubNetworkSpec.MaxIndex.ToString(CultureInfo.InvariantCulture), nameof(options.WireGuardPrefix));
        var host = options.HostNamespace?.Duplicate() ?? NetworkNamespace.OpenCurrent();
        NetlinkHandle? handle = null;
        IWireGuardBackend? backend = null;
        try
        {
            handle = options.HostNamespace is null ? NetlinkHandle.Open() : NetlinkHandle.OpenAt(host);
            backend = await WireGuardBackends.OpenAsync(options.HostNamespace, options.Backend with { LoggerFactory = options.Backend.LoggerFactory ?? options.LoggerFactory }, cancellationToken).ConfigureAwait(false);
            var hub = new WireGuardHub(store, options, host, handle, backend);
            try
            {
                await hub.LoadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await hub.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return hub;
        }
        catch
        {
            if (backend is not null)
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }

            handle?.Dispose();
            host.Dispose();
            throw;
        }
    }

    private async Task<HubAddResult> AddNetworkCoreAsync(HubNetworkRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var spec = Validate(request);

        // The container is opened and checked before the gate: whatever its path is, no other request waits on it.
        OpenedContainer? opened = null;
        if (spec.Container is { } named)
        {
            try
            {
                opened = OpenedContainer.Open(named);
            }
            catch (Exception ex) when (IsOpenFailure(ex))
            {
                throw CannotOpen(named, ex);
            }
        }

        using var openedScope = opened;
        using var passing = PassCall();
        using (Phase("add: gate"))
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (_networks.TryGetValue(spec.Id, out var existing))
            {
                if (!existing.SameAs(spec))
                {
                    throw new HubException(HubErrorKind.Conflict, $"network {spec.Id} exists with other settings: remove it first") { NetworkId = spec.Id };
                }

                // The same request again: nothing to create, but a pass repairs whatever drifted.
                await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
                return new HubAddResult(NetworkInfo(existing), Created: false);
            }

            CheckConflicts(spec, shorthand: request.PeerPublicKey is not null);
            Container? container = null;
            var newContainer = false;
            if (spec.Container is { } own)
            {
                var reference = own;
                CheckContainer(reference, spec.Id, opened!.Namespace);
                if (AllAttachments().FirstOrDefault(a => string.Equals(a.Container, reference, StringComparison.Ordinal) && string.Equals(a.Interface, spec.EthName, StringComparison.Ordinal)) is { } taken)
                {
                    throw new HubException(HubErrorKind.Conflict, $"{spec.EthName} in {reference} is attachment {taken.Id} of network {taken.NetworkId}") { NetworkId = spec.Id, Step = "index" };
                }

                newContainer = !_containers.TryGetValue(reference, out container);
                if (container is null)
                {
                    container = OpenContainer(reference, required: true, opened);
                }
                else if (container.Gone)
                {
                    // Its other networks' container went; a new network in it is a request to take it back, if it is there.
                    await ReviveAsync(container, required: true, opened).ConfigureAwait(false);
                }
            }

            SetNetwork(spec.Id, spec);
            try
            {
                (string Step, string What)? conflict;
                using (Phase("add: conflicts"))
                {
                    conflict = await FindForeignDeviceAsync(spec, cancellationToken).ConfigureAwait(false)
                        ?? await FindKernelConflictAsync(cancellationToken).ConfigureAwait(false);
                }

                if (conflict is not null)
                {
                    throw new HubException(HubErrorKind.Conflict, $"{conflict.Value.Step}: {conflict.Value.What}") { Step = conflict.Value.Step, NetworkId = spec.Id };
                }

                (string Step, Exception Error, Stage Stage)? failure;
                using (Phase("add: pass"))
                {
                    failure = await RunStepsAsync(stopAtFirstFailure: true, cancellationToken).ConfigureAwait(false);
                }

                if (failure is { } f)
                {
                    // The table (NAT and forwarding) is the last stage: everything else is in place. Under "warn" its
                    // failure is logged and reported in the status, as the reference does; under "require" it fails the add.
                    if (f.Stage == Stage.Nftables && string.Equals(spec.NatPolicy, HubNatPolicy.Warn, StringComparison.Ordinal))
                    {
                        LogNatFailure(_logger, spec.Id, f.Error.Message);
                    }
                    else
                    {
                        var kind = f.Error is TerminalReconcileException && f.Stage != Stage.Nftables ? HubErrorKind.Conflict : HubErrorKind.Failed;
                        throw new HubException(kind, $"{f.Step}: {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = spec.Id };
                    }
                }

                try
                {
                    using var saving = Phase("add: store");
                    await _store.SaveAsync(spec.Request, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new HubException(HubErrorKind.Failed, "store: " + ex.Message, ex) { Step = "store", NetworkId = spec.Id };
                }
            }
            catch (Exception ex)
            {
                await RollBackAsync(spec, newContainer, ex).ConfigureAwait(false);
                throw;
            }

            if (container is not null)
            {
                using var starting = Phase("add: loop");
                await StartLoopAsync(container).ConfigureAwait(false);
            }

            LogAdded(_logger, spec.Id, spec.WgName, spec.Container is null ? "(no container)" : spec.EthName, spec.Container ?? "-");
            return new HubAddResult(NetworkInfo(spec), Created: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RemoveNetworkCoreAsync(string networkId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        using var passing = PassCall();
        using (Phase("remove: gate"))
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (!_networks.TryGetValue(networkId, out var spec))
            {
                throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            }

            // The intent first: a crash after this leaves objects that the next start removes (owned, not desired).
            await _store.DeleteAsync(networkId, cancellationToken).ConfigureAwait(false);
            lock (_stateLock)
            {
                _attachments.Remove(networkId);
            }

            SetNetwork(networkId, null);
            (string Step, Exception Error, Stage Stage)? failure;
            using (Phase("remove: pass"))
            {
                failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            }

            await ForgetUnusedContainersAsync(failure is null).ConfigureAwait(false);
            if (failure is { } f && f.Stage != Stage.Nftables)
            {
                throw new HubException(HubErrorKind.Failed, $"network {networkId} is no longer desired, but {f.Step} failed (the repair loop retries): {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = networkId };
            }

            LogRemoved(_logger, networkId, spec.WgName);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<HubNetworkInfo> ListNetworks()
    {
        lock (_stateLock)
        {
            return [.. _networks.Values.OrderBy(n => n.Index).Select(NetworkInfo)];
        }
    }

    /// <summary>Runs one repair pass now, as the loop would (tests and callers that cannot wait for a hint).</summary>
    /// <returns>Null when every step succeeded, or the first failure.</returns>
    public async Task<string?> RepairAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshContainersAsync().ConfigureAwait(false);
            var failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            return failure is { } f ? f.Step + ": " + f.Error.Message : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the loop and the monitors and closes the handles. Userspace devices stop with their backend
    /// (wireguard-go is supervised by this process); kernel devices stay, and the next start picks them up.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Following first (its events take the gate), then every loop (a pass waiting for the gate is cancelled).
        await _stopping.CancelAsync().ConfigureAwait(false);
        _follow.Writer.TryComplete();
        await WaitQuietly(_follower).ConfigureAwait(false);
        foreach (var (watcher, reader) in _watchers.Values)
        {
            await WaitQuietly(reader).ConfigureAwait(false);
            watcher.Dispose();
        }

        await StopLoopAsync(_hostLoop).ConfigureAwait(false);
        foreach (var container in _containers.Values)
        {
            await StopLoopAsync(container.DetachLoop()).ConfigureAwait(false);
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await WaitQuietly(_hostMonitor).ConfigureAwait(false);
            foreach (var container in _containers.Values)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            lock (_stateLock)
            {
                _containers.Clear();
            }

            DisposeUnits();
            _backend.DeviceChanged -= OnDeviceChanged;
            await _backend.DisposeAsync().ConfigureAwait(false);
            _nft?.Dispose();
            _hostHandle.Dispose();
            _host.Dispose();
        }
        finally
        {
            _gate.Release();
        }

        _stopping.Dispose();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var request in await _store.LoadAsync(cancellationToken).ConfigureAwait(false))
        {
            HubNetworkSpec spec;
            try
            {
                spec = Validate(request);
            }
            catch (HubException ex)
            {
                LogBadStored(_logger, request.NetworkId ?? "(no id)", ex.Message);
                continue;
            }

            if (spec.Container is { } reference && !_containers.ContainsKey(reference))
            {
                OpenContainer(reference, required: false);
            }

            SetNetwork(spec.Id, spec);
        }

        await LoadAttachmentsAsync(cancellationToken).ConfigureAwait(false);

        var failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
        if (failure is { } f)
        {
            LogStartFailure(_logger, f.Step, f.Error.Message);
        }

        _backend.DeviceChanged += OnDeviceChanged;
        if (_options.RunLoop)
        {
            await StartHostLoopAsync().ConfigureAwait(false);
            foreach (var container in _containers.Values)
            {
                await StartLoopAsync(container).ConfigureAwait(false);
            }

            _follower = FollowAsync();
        }
    }

    private HubNetworkSpec Validate(HubNetworkRequest request) => request.Validate() with { WgPrefix = _options.WireGuardPrefix };

    private void OnDeviceChanged(object? sender, WireGuardDeviceEventArgs e) => _hostLoop?.Hint();

    private static async Task WaitQuietly(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "hub network {Network} added: {Wg}, {Eth} in {Container}")]
    private static partial void LogAdded(ILogger logger, string network, string wg, string eth, string container);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "hub network {Network} removed ({Wg})")]
    private static partial void LogRemoved(ILogger logger, string network, string wg);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "hub network {Network} rolled back: {Cause}")]
    private static partial void LogRolledBack(ILogger logger, string network, string cause);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "rolling back hub network {Network}: {Step} failed: {Error}")]
    private static partial void LogRollbackFailure(ILogger logger, string network, string step, string error);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "stored hub network {Network} is invalid and left alone: {Error}")]
    private static partial void LogBadStored(ILogger logger, string network, string error);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "hub start: {Step} failed: {Error} (the repair loop retries)")]
    private static partial void LogStartFailure(ILogger logger, string step, string error);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "hub network {Network}: NAT failed (policy warn: the network works without it): {Error}")]
    private static partial void LogNatFailure(ILogger logger, string network, string error);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "hub repaired: {Kind} {Target} ({Reason})")]
    private static partial void LogRepaired(ILogger logger, OperationKind kind, string target, string reason);
}
