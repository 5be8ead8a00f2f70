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

    private NetworkDriver(IDriverBackend backend, DriverStore store)
    {
        _backend = backend;
        _store = store;
    }

    /// <summary>The driver with the networks and endpoints <paramref name="store"/> holds.</summary>
    public static async Task<NetworkDriver> LoadAsync(IDriverBackend backend, DriverStore store, CancellationToken cancellationToken)
    {
        var driver = new NetworkDriver(backend, store);
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
    public void Dispose() => _gate.Dispose();

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

    /// <summary><c>Join</c>: attaches the sandbox through the hub.</summary>
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

            string? name = null;
            await CallHubAsync(async () => name = await _backend.AttachAsync(networkId, endpointId, sandbox, endpoint.Address, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            endpoint.SandboxKey = sandbox;
            endpoint.Interface = name;
            await _store.SaveEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new JoinAnswer(DisableGatewayService: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>Leave</c>: detaches (nothing when already detached).</summary>
    public async Task LeaveAsync(EndpointMessage message, CancellationToken cancellationToken)
    {
        var (networkId, endpointId) = RequireIds(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
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
