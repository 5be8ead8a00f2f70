namespace Aether.Hub;

/// <summary>
/// Where a hub keeps its desired state, so that it survives a restart: the requests it accepted, as they were
/// accepted (normalised, validated). The daemon's store is SQLite; tests and library users may keep it in memory.
/// </summary>
public interface IHubStore
{
    /// <summary>Every network, in no particular order.</summary>
    Task<IReadOnlyList<HubNetworkRequest>> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Adds or replaces network <see cref="HubNetworkRequest.NetworkId"/>. Durable when it returns.</summary>
    Task SaveAsync(HubNetworkRequest network, CancellationToken cancellationToken);

    /// <summary>Removes network <paramref name="networkId"/>; nothing when it is not there. Durable when it returns.</summary>
    Task DeleteAsync(string networkId, CancellationToken cancellationToken);
}

/// <summary>A store in memory: state lasts as long as the process.</summary>
public sealed class InMemoryHubStore : IHubStore
{
    private readonly Dictionary<string, HubNetworkRequest> _networks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <inheritdoc/>
    public Task<IReadOnlyList<HubNetworkRequest>> LoadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<HubNetworkRequest>>([.. _networks.Values]);
        }
    }

    /// <inheritdoc/>
    public Task SaveAsync(HubNetworkRequest network, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(network.NetworkId);
        lock (_lock)
        {
            _networks[network.NetworkId] = network;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string networkId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _networks.Remove(networkId);
        }

        return Task.CompletedTask;
    }
}
