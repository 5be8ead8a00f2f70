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

    /// <summary>Removes network <paramref name="networkId"/> and its attachments; nothing when it is not there.
    /// Durable when it returns.</summary>
    Task DeleteAsync(string networkId, CancellationToken cancellationToken);

    /// <summary>Every attachment, in no particular order.</summary>
    Task<IReadOnlyList<HubStoredAttachment>> LoadAttachmentsAsync(CancellationToken cancellationToken);

    /// <summary>Adds or replaces an attachment (keyed by network and attachment id). Durable when it returns.</summary>
    Task SaveAttachmentAsync(HubStoredAttachment attachment, CancellationToken cancellationToken);

    /// <summary>Removes an attachment; nothing when it is not there. Durable when it returns.</summary>
    Task DeleteAttachmentAsync(string networkId, string attachmentId, CancellationToken cancellationToken);
}

/// <summary>A store in memory: state lasts as long as the process.</summary>
public sealed class InMemoryHubStore : IHubStore
{
    private readonly Dictionary<string, HubNetworkRequest> _networks = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Network, string Attachment), HubStoredAttachment> _attachments = [];
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
            foreach (var key in _attachments.Keys.Where(k => string.Equals(k.Network, networkId, StringComparison.Ordinal)).ToList())
            {
                _attachments.Remove(key);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<HubStoredAttachment>> LoadAttachmentsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<HubStoredAttachment>>([.. _attachments.Values]);
        }
    }

    /// <inheritdoc/>
    public Task SaveAttachmentAsync(HubStoredAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        ArgumentNullException.ThrowIfNull(attachment.Request.AttachmentId);
        lock (_lock)
        {
            _attachments[(attachment.NetworkId, attachment.Request.AttachmentId)] = attachment;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task DeleteAttachmentAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _attachments.Remove((networkId, attachmentId));
        }

        return Task.CompletedTask;
    }
}
