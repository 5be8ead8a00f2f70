using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Hub;
using Aether.Server.Store;

namespace Aether.Server.Docker;

/// <summary>
/// Docker's remote network driver on the hub: a docker network is a hub network without a container (its id docker's
/// id, its index the lowest free one), an endpoint an address, a join an attachment of the sandbox (the hub makes the
/// lowest free <c>ethK</c> inside it, with the address, the routes, and on the container's first network the default
/// route and NAT). One request at a time: dockerd sends few, and the index and address choices need no race.
/// </summary>
internal sealed class NetworkDriver : IDisposable
{
    private readonly IDriverBackend _backend;
    private readonly DriverStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, DriverNetwork> _networks = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Network, string Endpoint), CancellationTokenSource> _pending = [];
    private readonly Func<string, bool> _isReady;
    private readonly Action<string, string, Exception>? _onDeferredFailure;

    private NetworkDriver(IDriverBackend backend, DriverStore store, Func<string, bool>? isReady, Action<string, string, Exception>? onDeferredFailure)
    {
        _backend = backend;
        _store = store;
        _isReady = isReady ?? SandboxReadiness.IsMounted;
        _onDeferredFailure = onDeferredFailure;
    }

    /// <summary>How long a join waits for its sandbox to become a network namespace.</summary>
    public static TimeSpan DeferredJoinTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The driver with the networks and endpoints <paramref name="store"/> holds.</summary>
    /// <param name="backend">The hub.</param>
    /// <param name="store">The driver's tables.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <param name="isReady">Whether a sandbox key is a network namespace yet (default: a mount point).</param>
    /// <param name="onDeferredFailure">Told when a deferred join fails (the daemon logs it).</param>
    public static async Task<NetworkDriver> LoadAsync(IDriverBackend backend, DriverStore store, CancellationToken cancellationToken, Func<string, bool>? isReady = null, Action<string, string, Exception>? onDeferredFailure = null)
    {
        var driver = new NetworkDriver(backend, store, isReady, onDeferredFailure);
        var (networks, endpoints) = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        foreach (var row in networks)
        {
            driver._networks[row.NetworkId] = new DriverNetwork(row);
        }

        foreach (var row in endpoints)
        {
            if (driver._networks.TryGetValue(row.NetworkId, out var network))
            {
                network.Endpoints[row.EndpointId] = row;
            }
        }

        return driver;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var pending in _pending.Values)
        {
            pending.Cancel();
            pending.Dispose();
        }

        _gate.Dispose();
    }

    /// <summary>The networks the driver knows, by docker id.</summary>
    public IReadOnlyCollection<string> NetworkIds => _networks.Keys;

    /// <summary><c>CreateNetwork</c>: checks every option, then makes the hub network and records it.</summary>
    public async Task CreateNetworkAsync(CreateNetworkMessage message, CancellationToken cancellationToken)
    {
        var options = NetworkOptions.Parse(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_networks.TryGetValue(options.NetworkId, out var known))
            {
                if (known.Cidr.Equals(options.Cidr) && known.Gateway.Equals(options.Gateway) && _backend.HasNetwork(options.NetworkId))
                {
                    return; // the same request again
                }

                throw new DriverException(HubErrorKind.Conflict, $"network {options.NetworkId} exists with other settings");
            }

            var used = _backend.UsedIndexes();
            var index = Enumerable.Range(0, HubNetworkSpec.MaxIndex + 1).First(i => !used.Contains(i));
            var request = options.Request with { Index = index };
            try
            {
                request.Validate();
            }
            catch (HubException e)
            {
                throw DriverException.FromHub(e);
            }

            await CallHubAsync(() => _backend.CreateNetworkAsync(request, cancellationToken)).ConfigureAwait(false);
            var row = new DockerNetworkRow
            {
                NetworkId = options.NetworkId,
                Cidr = options.Cidr.ToString(),
                Gateway = options.Gateway.ToString(),
                Allocates = options.Allocates,
                CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };
            try
            {
                await _store.AddNetworkAsync(row, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await _backend.RemoveNetworkAsync(options.NetworkId, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            _networks[options.NetworkId] = new DriverNetwork(row);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>DeleteNetwork</c>: removes the hub network (its attachments with it) and the records. A network the
    /// driver does not know is already gone: docker may ask again after a failure.</summary>
    public async Task DeleteNetworkAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var networkId = RequireId(message.NetworkId, "NetworkID");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CallHubAsync(() => _backend.RemoveNetworkAsync(networkId, cancellationToken)).ConfigureAwait(false);
            await _store.DeleteNetworkAsync(networkId, cancellationToken).ConfigureAwait(false);
            _networks.Remove(networkId);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>CreateEndpoint</c>: the address docker's IPAM gave (checked), or the lowest free one the driver
    /// allocates (the null IPAM driver), which the answer then carries.</summary>
    public async Task<CreateEndpointAnswer> CreateEndpointAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var (networkId, endpointId) = RequireIds(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var network = Network(networkId);
            if (message.Interface?.AddressIPv6 is { Length: > 0 })
            {
                throw DriverException.Invalid(["Interface.AddressIPv6: not supported (the hub's networks are IPv4)"]);
            }

            var given = message.Interface?.Address;
            if (network.Endpoints.TryGetValue(endpointId, out var known))
            {
                if (string.IsNullOrEmpty(given) || string.Equals(given, known.Address, StringComparison.Ordinal))
                {
                    return new CreateEndpointAnswer(string.IsNullOrEmpty(given) ? new EndpointInterface { Address = known.Address } : null);
                }

                throw new DriverException(HubErrorKind.Conflict, $"endpoint {endpointId} exists with address {known.Address}, not {given}");
            }

            var address = string.IsNullOrEmpty(given) ? network.Allocate() : network.Check(given);
            var row = new DockerEndpointRow { NetworkId = networkId, EndpointId = endpointId, Address = address };
            await _store.SaveEndpointAsync(row, cancellationToken).ConfigureAwait(false);
            network.Endpoints[endpointId] = row;
            return new CreateEndpointAnswer(string.IsNullOrEmpty(given) ? new EndpointInterface { Address = address } : null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>DeleteEndpoint</c>: detaches it if still attached, and forgets it.</summary>
    public async Task DeleteEndpointAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var (networkId, endpointId) = RequireIds(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CancelPending(networkId, endpointId);
            if (!_networks.TryGetValue(networkId, out var network) || !network.Endpoints.Remove(endpointId))
            {
                return;
            }

            await CallHubAsync(() => _backend.DetachAsync(networkId, endpointId, cancellationToken)).ConfigureAwait(false);
            await _store.DeleteEndpointAsync(networkId, endpointId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>Join</c>: attaches the sandbox through the hub. A sandbox that is no network namespace yet
    /// (<c>docker run</c>: the container does not exist until after the join) is attached in the background as soon
    /// as it is one (<see cref="SandboxReadiness"/>), within <see cref="DeferredJoinTimeout"/>.</summary>
    public async Task<JoinAnswer> JoinAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var (networkId, endpointId) = RequireIds(message);
        if (message.SandboxKey is not { Length: > 0 } sandbox || !Path.IsPathFullyQualified(sandbox))
        {
            throw DriverException.Invalid([$"SandboxKey: '{message.SandboxKey}' is not an absolute path to a network namespace"]);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var network = Network(networkId);
            if (!network.Endpoints.TryGetValue(endpointId, out var endpoint))
            {
                throw new DriverException(HubErrorKind.NotFound, $"endpoint {endpointId} of network {networkId} does not exist");
            }

            endpoint.SandboxKey = sandbox;
            if (_isReady(sandbox))
            {
                await AttachLockedAsync(networkId, endpoint, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _store.SaveEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
                var pending = new CancellationTokenSource();
                _pending[(networkId, endpointId)] = pending;
                _ = AttachWhenReadyAsync(networkId, endpointId, sandbox, pending.Token);
            }

            return new JoinAnswer(DisableGatewayService: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The joins waiting for their sandbox, and the last deferred join's failure (for logs and tests).</summary>
    public Exception? LastDeferredFailure { get; private set; }

    private async Task AttachLockedAsync(string networkId, DockerEndpointRow endpoint, CancellationToken cancellationToken)
    {
        string? name = null;
        await CallHubAsync(async () => name = await _backend.AttachAsync(networkId, endpoint.EndpointId, endpoint.SandboxKey!, endpoint.Address, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        endpoint.Interface = name;
        await _store.SaveEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
    }

    private async Task AttachWhenReadyAsync(string networkId, string endpointId, string sandbox, CancellationToken cancellationToken)
    {
        try
        {
            await SandboxReadiness.WaitAsync(sandbox, _isReady, DeferredJoinTimeout, cancellationToken).ConfigureAwait(false);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                _pending.Remove((networkId, endpointId));
                if (_networks.TryGetValue(networkId, out var network) && network.Endpoints.TryGetValue(endpointId, out var endpoint)
                    && string.Equals(endpoint.SandboxKey, sandbox, StringComparison.Ordinal))
                {
                    await AttachLockedAsync(networkId, endpoint, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // left before its sandbox appeared
        }
        catch (Exception e) when (e is DriverException or TimeoutException or IOException)
        {
            LastDeferredFailure = e;
            _onDeferredFailure?.Invoke(networkId, endpointId, e);
        }
    }

    /// <summary><c>Leave</c>: detaches (nothing when already detached).</summary>
    public async Task LeaveAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var (networkId, endpointId) = RequireIds(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CancelPending(networkId, endpointId);
            await CallHubAsync(() => _backend.DetachAsync(networkId, endpointId, cancellationToken)).ConfigureAwait(false);
            if (_networks.TryGetValue(networkId, out var network) && network.Endpoints.TryGetValue(endpointId, out var endpoint))
            {
                endpoint.SandboxKey = null;
                endpoint.Interface = null;
                await _store.SaveEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>EndpointOperInfo</c>: the endpoint's address, sandbox and interface, for <c>docker inspect</c>.</summary>
    public Dictionary<string, string> OperInfo(EndpointMessage message)
    {
        var (networkId, endpointId) = RequireIds(message);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_networks.TryGetValue(networkId, out var network) && network.Endpoints.TryGetValue(endpointId, out var endpoint))
        {
            result["address"] = endpoint.Address;
            if (endpoint.Interface is { } name)
            {
                result["interface"] = name;
            }
        }

        return result;
    }

    private void CancelPending(string networkId, string endpointId)
    {
        if (_pending.Remove((networkId, endpointId), out var pending))
        {
            pending.Cancel();
            pending.Dispose();
        }
    }

    private static async Task CallHubAsync(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (HubException e)
        {
            throw DriverException.FromHub(e);
        }
    }

    private static string RequireId(string? id, string field) =>
        DockerIds.IsValid(id) ? id! : throw DriverException.Invalid([$"{field}: '{id}' is not 1-64 of A-Z a-z 0-9 . _ -"]);

    private static (string NetworkId, string EndpointId) RequireIds(EndpointMessage message)
    {
        var errors = new List<string>();
        if (!DockerIds.IsValid(message.NetworkId))
        {
            errors.Add($"NetworkID: '{message.NetworkId}' is not 1-64 of A-Z a-z 0-9 . _ -");
        }

        if (!DockerIds.IsValid(message.EndpointId))
        {
            errors.Add($"EndpointID: '{message.EndpointId}' is not 1-64 of A-Z a-z 0-9 . _ -");
        }

        return errors.Count > 0 ? throw DriverException.Invalid(errors) : (message.NetworkId!, message.EndpointId!);
    }

    private DriverNetwork Network(string networkId) =>
        _networks.TryGetValue(networkId, out var network)
            ? network
            : throw new DriverException(HubErrorKind.NotFound, $"network {networkId} is not one of this driver's (was it created before the daemon's database was replaced?)");
}
