using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Nftables;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Scope = Aether.Reconcile.Scope;

namespace Aether.WireGuard.Hub;

/// <summary>
/// The multi-network WireGuard hub (see <see cref="IWireGuardHub"/>). Its networks are desired state: every call
/// computes the objects all networks need and runs the reconcile sources of the host namespace and of each container
/// over them, in dependency order (links, devices, addresses, routes, sysctls, nftables). Adding a network is
/// therefore the same pass as repairing one; a call that fails half-way runs the pass again without the new network,
/// which deletes what the call created (owned, no longer desired) and nothing else. A loop runs the same pass on a
/// timer and on rtnetlink hints from every namespace involved, so drift (an <c>ethN</c> deleted, a peer removed by
/// hand, a killed wireguard-go) is repaired.
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
    private ReconcileLoop? _loop;
    private Task? _hostMonitor;
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
        InterfaceName.Validate(options.WireGuardPrefix + HubNetworkSpec.MaxIndex.ToString(CultureInfo.InvariantCulture), nameof(options.WireGuardPrefix));
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

    /// <inheritdoc/>
    public async Task<HubAddResult> AddNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var spec = Validate(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
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
                return new HubAddResult(existing.ToInfo(IsFirstInContainer(existing)), Created: false);
            }

            CheckConflicts(spec);
            var newContainer = !_containers.ContainsKey(spec.Container);
            if (newContainer)
            {
                OpenContainer(spec.Container, required: true);
            }

            SetNetwork(spec.Id, spec);
            try
            {
                var conflict = await FindForeignDeviceAsync(spec, cancellationToken).ConfigureAwait(false)
                    ?? await FindKernelConflictAsync(cancellationToken).ConfigureAwait(false);
                if (conflict is not null)
                {
                    throw new HubException(HubErrorKind.Conflict, $"{conflict.Value.Step}: {conflict.Value.What}") { Step = conflict.Value.Step, NetworkId = spec.Id };
                }

                var failure = await RunStepsAsync(stopAtFirstFailure: true, cancellationToken).ConfigureAwait(false);
                if (failure is { } f)
                {
                    var kind = f.Error is TerminalReconcileException ? HubErrorKind.Conflict : HubErrorKind.Failed;
                    throw new HubException(kind, $"{f.Step}: {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = spec.Id };
                }

                try
                {
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

            LogAdded(_logger, spec.Id, spec.WgName, spec.EthName, spec.Container);
            return new HubAddResult(spec.ToInfo(IsFirstInContainer(spec)), Created: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_networks.TryGetValue(networkId, out var spec))
            {
                throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            }

            // The intent first: a crash after this leaves objects that the next start removes (owned, not desired).
            await _store.DeleteAsync(networkId, cancellationToken).ConfigureAwait(false);
            SetNetwork(networkId, null);
            var failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            await ForgetUnusedContainersAsync(failure is null).ConfigureAwait(false);
            if (failure is { } f)
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
            return [.. _networks.Values.OrderBy(n => n.Index).Select(n => n.ToInfo(IsFirstInContainer(n)))];
        }
    }

    /// <inheritdoc/>
    public async Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        List<(HubNetworkSpec Spec, bool First, string? ContainerError)> networks;
        lock (_stateLock)
        {
            networks = [.. _networks.Values.OrderBy(n => n.Index).Select(n => (n, IsFirstInContainer(n), _containers.GetValueOrDefault(n.Container)?.Error))];
        }

        var reads = networks.Select(async n =>
        {
            string? error = n.ContainerError;
            WireGuardDevice? device = null;
            try
            {
                device = await _backend.GetDeviceAsync(n.Spec.WgName, cancellationToken).ConfigureAwait(false);
                if (device is null)
                {
                    error ??= n.Spec.WgName + " is missing";
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error ??= n.Spec.WgName + ": " + ex.Message;
            }

            var peers = device?.Peers.Select(p => new HubPeerStatus(
                p.PublicKey.ToString(), p.Endpoint?.ToString(), [.. p.AllowedIPs.Select(a => a.ToString())], p.LatestHandshake, p.ReceivedBytes, p.SentBytes, p.PersistentKeepaliveInterval)).ToList() ?? [];
            return new HubNetworkStatus(n.Spec.ToInfo(n.First), device is not null, device?.ListenPort ?? 0, peers, error);
        });
        var statuses = await Task.WhenAll(reads).ConfigureAwait(false);
        return new HubStatus(_backend.Kind == WireGuardBackendKind.Kernel ? "kernel" : "userspace", statuses);
    }

    /// <inheritdoc/>
    public IReadOnlyList<ReconcileStatus> LoopStatuses() => _loop is { } loop ? [loop.Status] : [];

    /// <summary>Runs one repair pass now, as the loop would (tests and callers that cannot wait for a hint).</summary>
    /// <returns>Null when every step succeeded, or the first failure.</returns>
    public async Task<string?> RepairAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            RefreshContainers();
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

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.StopAsync(CancellationToken.None).ConfigureAwait(false);
            loop.Dispose();
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await WaitQuietly(_hostMonitor).ConfigureAwait(false);
            foreach (var container in _containers.Values)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            _containers.Clear();
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

            if (!_containers.ContainsKey(spec.Container))
            {
                OpenContainer(spec.Container, required: false);
            }

            SetNetwork(spec.Id, spec);
        }

        var failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
        if (failure is { } f)
        {
            LogStartFailure(_logger, f.Step, f.Error.Message);
        }

        _backend.DeviceChanged += OnDeviceChanged;
        if (_options.RunLoop)
        {
            _loop = new ReconcileLoop(new LoopSource(this), _options.Loop, logger: _options.LoggerFactory?.CreateLogger<ReconcileLoop>());
            await _loop.StartAsync(cancellationToken).ConfigureAwait(false);
            _hostMonitor = MonitorAsync(_hostHandle, _stopping.Token);
            foreach (var container in _containers.Values)
            {
                StartMonitor(container);
            }
        }
    }

    private HubNetworkSpec Validate(HubNetworkRequest request) => request.Validate() with { WgPrefix = _options.WireGuardPrefix };

    private void OnDeviceChanged(object? sender, WireGuardDeviceEventArgs e) => _loop?.Hint();

    private void CheckConflicts(HubNetworkSpec spec)
    {
        foreach (var other in _networks.Values)
        {
            string? why = null;
            if (other.Index == spec.Index)
            {
                why = $"index {spec.Index} is network {other.Id}'s ({other.WgName})";
            }
            else if (other.ListenPort == spec.ListenPort)
            {
                why = $"listen port {spec.ListenPort} is network {other.Id}'s";
            }
            else if (other.NetworkCidr.Overlaps(spec.NetworkCidr))
            {
                why = $"network {spec.NetworkCidr} overlaps network {other.Id}'s {other.NetworkCidr}";
            }

            if (why is not null)
            {
                throw new HubException(HubErrorKind.Conflict, why) { NetworkId = spec.Id };
            }
        }
    }

    /// <summary>A link named like the new network's device that the hub's WireGuard source does not own.</summary>
    private async Task<(string Step, string What)?> FindForeignDeviceAsync(HubNetworkSpec spec, CancellationToken cancellationToken)
    {
        var link = await _hostHandle.FindLinkAsync(spec.WgName, cancellationToken).ConfigureAwait(false);
        return link is not null && !string.Equals(link.Alias, WireGuardSource.MarkOf(_options.Owner), StringComparison.Ordinal)
            ? ("wireguard in the host", $"wireguard {spec.WgName} exists but is not ours (alias '{link.Alias}')")
            : null;
    }

    private async Task<(string Step, string What)?> FindKernelConflictAsync(CancellationToken cancellationToken)
    {
        var units = CurrentUnits();
        var steps = units.Sources.Where(u => u.Value.CanConflict).Select(u => (Name: StepName(u.Key.Stage, u.Key.Scope), u.Value.Source)).ToList();
        var plans = await Task.WhenAll(steps.Select(async step =>
        {
            try
            {
                return await step.Source.PlanPassAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return null; // reading failed: the pass itself will say so, with the step
            }
        })).ConfigureAwait(false);
        for (var i = 0; i < steps.Count; i++)
        {
            if (plans[i]?.FirstOrDefault(op => op.Conflict) is { } op)
            {
                return (steps[i].Name, $"{op.Target} {op.Reason}");
            }
        }

        return null;
    }

    private async Task RollBackAsync(HubNetworkSpec spec, bool newContainer, Exception cause)
    {
        SetNetwork(spec.Id, null);
        var failure = await RunStepsAsync(stopAtFirstFailure: false, CancellationToken.None).ConfigureAwait(false);
        if (failure is { } f)
        {
            LogRollbackFailure(_logger, spec.Id, f.Step, f.Error.Message);
        }

        if (newContainer)
        {
            await ForgetUnusedContainersAsync(failure is null).ConfigureAwait(false);
        }

        LogRolledBack(_logger, spec.Id, cause.Message);
    }

    private void SetNetwork(string id, HubNetworkSpec? spec)
    {
        lock (_stateLock)
        {
            if (spec is null)
            {
                _networks.Remove(id);
            }
            else
            {
                _networks[id] = spec;
            }
        }

        DisposeUnits();
    }

    private bool IsFirstInContainer(HubNetworkSpec spec) =>
        !_networks.Values.Any(n => n.Index < spec.Index && string.Equals(n.Container, spec.Container, StringComparison.Ordinal));

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

    private AppliedRecord Record(string section)
    {
        if (_records is not null)
        {
            return _records.Section(section);
        }

        if (!_memoryRecords.TryGetValue(section, out var record))
        {
            record = AppliedRecord.InMemory();
            _memoryRecords[section] = record;
        }

        return record;
    }

    private Units CurrentUnits() => _units ??= BuildUnits();

    private void DisposeUnits()
    {
        if (_units is null)
        {
            return;
        }

        foreach (var unit in _units.Sources.Values)
        {
            (unit.Source as IDisposable)?.Dispose();
        }

        _units = null;
    }

    /// <summary>Every object all networks need, as the sources of the host and of each container, by stage and
    /// scope.</summary>
    private Units BuildUnits()
    {
        var owner = _options.Owner;
        var all = _networks.Values.OrderBy(n => n.Index).ToList();
        var live = all.Where(n => _containers.GetValueOrDefault(n.Container)?.Namespace is not null).ToList();
        var containers = _containers.Values.Where(c => c.Handle is not null).ToList();
        var host = Scope.Host;
        var units = new Dictionary<(Stage Stage, Scope Scope), Unit>
        {
            [(Stage.Links, host)] = new(new LinkSource(_hostHandle, owner, [.. live.Select(n => new DesiredLink(n.VethRootName, new Veth(n.EthName) { PeerNamespace = _containers[n.Container].Namespace }))])
            {
                Scope = host,
                PeerHandles = ContainerHandle,
            }),
            // Not planned before an add (it would read every device): a foreign wgN is looked for by name instead.
            [(Stage.Devices, host)] = new(new WireGuardSource(_hostHandle, _backend, owner, [.. all.Select(Device)]) { Scope = host }, CanConflict: false),
            [(Stage.Sysctls, host)] = new(new SysctlSource(_host, Record("host sysctls"), all.Count > 0 ? [new DesiredSysctl(IpForward, "1")] : [], new SysctlSourceOptions { RestoreOnRelease = true }) { Scope = host }, CanConflict: false),
            [(Stage.Addresses, host)] = new(new AddressSource(_hostHandle, Record("host addresses"), [.. live.Select(n => new DesiredAddress(n.VethRootName, new IPPrefix(n.Gateway, 32)))]) { Scope = host }),
        };
        if (_nft is not null)
        {
            units[(Stage.Nftables, host)] = new(new NftablesSource(_nft, owner, Chains(all), new NftablesSourceOptions { Record = Record("host nftables") }) { Scope = host }, CanConflict: false);
        }
        else if (all.Count > 0)
        {
            units[(Stage.Nftables, host)] = new(new Unavailable("libnftables is not available: " + _nftMissing), CanConflict: false);
        }

        foreach (var c in containers)
        {
            var mine = live.Where(n => string.Equals(n.Container, c.Reference, StringComparison.Ordinal)).ToList();
            units[(Stage.Addresses, c.Scope)] = new(new AddressSource(c.Handle!, Record($"container {c.Reference} addresses"), [.. mine.Select(n => new DesiredAddress(n.EthName, new IPPrefix(n.Address, 32)))]) { Scope = c.Scope });
        }

        var hostRoutes = live.Select(n => new DesiredRoute { Destination = new IPPrefix(n.Address, 32), Device = n.VethRootName })
            .Concat(all.Select(n => new DesiredRoute { Destination = n.NetworkCidr, Device = n.WgName }));
        units[(Stage.Routes, host)] = new(new RouteSource(_hostHandle, [.. hostRoutes], new RouteSourceOptions { Record = Record("host routes"), OwnsProtocol = false }) { Scope = host });
        foreach (var c in containers)
        {
            var mine = live.Where(n => string.Equals(n.Container, c.Reference, StringComparison.Ordinal)).ToList();
            var routes = mine.Select(n => new DesiredRoute { Destination = n.NetworkCidr, Gateway = n.Gateway, Device = n.EthName, OnLink = true }).ToList();
            if (mine.Count > 0)
            {
                var first = mine[0];
                routes.Add(new DesiredRoute { Gateway = first.Gateway, Device = first.EthName, OnLink = true });
            }

            units[(Stage.Routes, c.Scope)] = new(new RouteSource(c.Handle!, routes, new RouteSourceOptions { Record = Record($"container {c.Reference} routes"), OwnsProtocol = false }) { Scope = c.Scope });
        }

        return new Units([host, .. containers.Select(c => c.Scope)], units);
    }

    /// <summary>The handle the hub holds in a container's namespace, lent to the link source for its peer lookups.</summary>
    private NetlinkHandle ContainerHandle(NetworkNamespace ns) =>
        _containers.Values.FirstOrDefault(c => c.Namespace is { } mine && mine.Inode == ns.Inode)?.Handle
        ?? throw new InvalidOperationException($"no handle held in {ns}");

    private DesiredWireGuardDevice Device(HubNetworkSpec n) => new(n.WgName, n.PrivateKey)
    {
        ListenPort = n.ListenPort,
        Peers =
        [
            new DesiredWireGuardPeer(n.PeerPublicKey)
            {
                Endpoint = n.PeerEndpoint,
                AllowedIPs = [n.NetworkCidr],
                PersistentKeepaliveInterval = n.PersistentKeepalive,
            },
        ],
    };

    /// <summary>The hub's table: NAT for each container's first network, and no forwarding between networks.</summary>
    private List<NftChain> Chains(List<HubNetworkSpec> all)
    {
        if (all.Count == 0)
        {
            return [];
        }

        var nat = all.Where(IsFirstInContainer).Select(n => NftRule.FromJson(
            "[" + Match("==", Saddr, Prefix(n.NetworkCidr)) + "," + Match("!=", Meta("oifname"), Set(n.WgName, n.VethRootName)) + """,{"masquerade":null}]""",
            "hub network " + n.Id));
        var forward = new List<NftRule>();
        foreach (var n in all)
        {
            // What comes out of a network's tunnel goes to its container only (no relaying, no crossing).
            forward.Add(NftRule.FromJson("[" + Match("==", Meta("iifname"), Str(n.WgName)) + "," + Match("!=", Meta("oifname"), Str(n.VethRootName)) + Drop));
            var others = all.Where(o => o.Index != n.Index).SelectMany(o => new[] { o.WgName, o.VethRootName }).ToList();
            if (others.Count > 0)
            {
                forward.Add(NftRule.FromJson("[" + Match("==", Meta("iifname"), Str(n.VethRootName)) + "," + Match("==", Meta("oifname"), Set([.. others])) + Drop));
            }
        }

        return
        [
            NftChain.NatPostrouting(nat),
            new NftChain("forward", forward) { Type = "filter", Hook = "forward", Priority = NftChain.FilterPriority, Policy = "accept" },
        ];
    }

    // The statements in libnftables' JSON schema, written the way nft prints them back (so a pass after the first
    // finds the table in sync). Names and addresses here are validated interface names and IPv4 addresses: nothing
    // in them needs escaping.
    private const string Saddr = """{"payload":{"protocol":"ip","field":"saddr"}}""";
    private const string Drop = """,{"drop":null}]""";

    private static string Meta(string key) => "{\"meta\":{\"key\":" + Str(key) + "}}";

    private static string Str(string value) => "\"" + value + "\"";

    private static string Set(params string[] values) => "{\"set\":[" + string.Join(',', values.Select(Str)) + "]}";

    private static string Prefix(IPPrefix prefix) =>
        "{\"prefix\":{\"addr\":" + Str(prefix.Network.ToString()) + ",\"len\":" + prefix.PrefixLength.ToString(CultureInfo.InvariantCulture) + "}}";

    private static string Match(string op, string left, string right) => "{\"match\":{\"op\":" + Str(op) + ",\"left\":" + left + ",\"right\":" + right + "}}";

    /// <summary>Runs every source's pass through the staged apply: stage by stage, the scopes of a stage at once.</summary>
    private Task<StagedApplyResult> RunUnitsAsync(bool stopAtFirstFailure, CancellationToken cancellationToken)
    {
        var units = CurrentUnits();
        var apply = new StagedApply(units.Scopes, (stage, scope) => units.Sources.GetValueOrDefault((stage, scope))?.Source, _records)
        {
            StopAtFirstFailure = stopAtFirstFailure,
            ContainExceptions = true, // a container that went away, or a read that failed, is its step's failure
        };
        return apply.RunAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Runs every source's pass.</summary>
    /// <returns>The first failure (in stage order, then the host before the containers), or null.</returns>
    private async Task<(string Step, Exception Error)?> RunStepsAsync(bool stopAtFirstFailure, CancellationToken cancellationToken) =>
        (await RunUnitsAsync(stopAtFirstFailure, cancellationToken).ConfigureAwait(false)).Failure is { } f ? (StepName(f.Stage, f.Scope), f.Error) : null;

    /// <summary>What people call a stage of a scope: <c>links in the host</c>, <c>addresses in blue</c>.</summary>
    private static string StepName(Stage stage, Scope scope) => stage switch
    {
        Stage.Links => "links",
        Stage.Devices => "wireguard",
        Stage.Addresses => "addresses",
        Stage.Routes => "routes",
        Stage.Sysctls => "sysctls",
        _ => "nftables",
    } + " in " + scope.Describe();

    private async Task<PassResult> LoopPassAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            RefreshContainers();
            var result = await RunUnitsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            var applied = result.Results.SelectMany(r => r.Result.Applied).ToList();
            foreach (var op in applied)
            {
                LogRepaired(_logger, op.Kind, op.Target, op.Reason);
            }

            var first = result.Failure is { } f ? new InvalidOperationException($"{StepName(f.Stage, f.Scope)}: {f.Error.Message}", f.Error) : null;
            return new PassResult(Plan.Of(result.Results.SelectMany(r => r.Result.Plan)), applied, result.Pending, first);
        }
        finally
        {
            _gate.Release();
        }
    }

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

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "hub repaired: {Kind} {Target} ({Reason})")]
    private static partial void LogRepaired(ILogger logger, OperationKind kind, string target, string reason);

    /// <summary>The sources of a pass, by stage and scope, and the scopes (the host, then each open container).</summary>
    private sealed record Units(Scope[] Scopes, Dictionary<(Stage Stage, Scope Scope), Unit> Sources);

    /// <summary>One source of a pass; <paramref name="CanConflict"/>: planned before an add, to refuse it on a conflict
    /// before anything is touched.</summary>
    private sealed record Unit(ISplitPassSource Source, bool CanConflict = true);

    /// <summary>The loop's view of the hub: one pass over every step.</summary>
    private sealed class LoopSource(WireGuardHub hub) : IReconcileSource
    {
        public string Name => "hub" + (hub.HostNamespace is { } ns ? " in " + ns : "");

        public Task<PassResult> RunPassAsync(CancellationToken cancellationToken) => hub.LoopPassAsync(cancellationToken);

        public IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => null;
    }

    /// <summary>A step that cannot run here (libnftables missing): every pass fails with why.</summary>
    private sealed class Unavailable(string why) : ISplitPassSource
    {
        public Task<Plan> PlanPassAsync(CancellationToken cancellationToken) => Task.FromException<Plan>(new TerminalReconcileException(why));

        public void Prepare(Plan plan)
        {
        }

        public Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken) =>
            Task.FromResult(new PassResult(plan, [], [.. plan], new TerminalReconcileException(why)));
    }

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
