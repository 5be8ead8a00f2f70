using Aether.Hub;

namespace Aether.Server.Docker;

/// <summary>What the driver needs of the hub: networks without a container, and attachments. The daemon's is
/// <see cref="HubBackend"/>; tests of the protocol give a fake.</summary>
internal interface IDriverBackend
{
    /// <summary>The indexes the hub's networks use (the driver takes the lowest free one).</summary>
    IReadOnlySet<int> UsedIndexes();

    /// <summary>Whether the hub has network <paramref name="networkId"/>.</summary>
    bool HasNetwork(string networkId);

    /// <summary>Creates the network (<c>wgN</c>, its peer, the route of its CIDR, the gateway; no container).</summary>
    /// <exception cref="HubException">The hub refused or failed it.</exception>
    Task CreateNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>Removes the network; nothing when the hub does not have it.</summary>
    Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken);

    /// <summary>Attaches the container whose network namespace is <paramref name="sandbox"/> with
    /// <paramref name="address"/>; returns the container-side interface (the lowest free <c>ethK</c>).</summary>
    /// <exception cref="HubException">The hub refused or failed it.</exception>
    Task<string> AttachAsync(string networkId, string attachmentId, string sandbox, string address, CancellationToken cancellationToken);

    /// <summary>Detaches; nothing when the attachment is not there.</summary>
    Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken);
}
