using Aether.Hub;

namespace Aether.Server.Docker;

/// <summary>The driver's backend on the daemon's hub.</summary>
internal sealed class HubBackend(IWireGuardHub hub) : IDriverBackend
{
    public IReadOnlySet<int> UsedIndexes() => hub.ListNetworks().Select(n => n.Index).ToHashSet();

    public bool HasNetwork(string networkId) => hub.ListNetworks().Any(n => string.Equals(n.NetworkId, networkId, StringComparison.Ordinal));

    public Task CreateNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken) => hub.AddNetworkAsync(request, cancellationToken);

    public async Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken)
    {
        try
        {
            await hub.RemoveNetworkAsync(networkId, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind is HubErrorKind.NotFound)
        {
            // already gone
        }
    }

    public Task<string> AttachAsync(string networkId, string attachmentId, string sandbox, string address, CancellationToken cancellationToken) =>
        throw new HubException(HubErrorKind.Failed, "attachments need the hub's attach API");

    public Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken) => Task.CompletedTask;
}
