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

    public async Task<string> AttachAsync(string networkId, string attachmentId, string sandbox, string address, CancellationToken cancellationToken)
    {
        var request = new HubAttachRequest { AttachmentId = attachmentId, Container = sandbox, Interface = null, Address = address };
        var result = await hub.AttachAsync(networkId, request, cancellationToken).ConfigureAwait(false);
        return result.Attachment.Interface;
    }

    public async Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        try
        {
            await hub.DetachAsync(networkId, attachmentId, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind is HubErrorKind.NotFound)
        {
            // already detached, or its network already gone
        }
    }
}
