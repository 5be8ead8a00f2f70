using System.Diagnostics;
using Aether.Reconcile;

namespace Aether.Hub;

/// <summary>Traces: each call of the hub is an activity of the <c>Aether</c> source (<c>aether.hub.add_network</c>…)
/// with the network's id, failed with the error's kind when it throws; its phases (<c>add: gate</c>, <c>add:
/// pass</c>…) are its children (<see cref="Phase"/>).</summary>
public sealed partial class WireGuardHub
{
    /// <inheritdoc/>
    public Task<HubAddResult> AddNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.add_network", request?.NetworkId, () => AddNetworkCoreAsync(request!, cancellationToken));

    /// <inheritdoc/>
    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.remove_network", networkId, async () =>
        {
            await RemoveNetworkCoreAsync(networkId, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public Task<HubAttachResult> AttachAsync(string networkId, HubAttachRequest request, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.attach", networkId, () => AttachCoreAsync(networkId, request, cancellationToken));

    /// <inheritdoc/>
    public Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.detach", networkId, async () =>
        {
            await DetachCoreAsync(networkId, attachmentId, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public Task<HubPeerResult> SetPeerAsync(string networkId, HubPeerRequest peer, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.set_peer", networkId, () => SetPeerCoreAsync(networkId, peer, cancellationToken));

    /// <inheritdoc/>
    public Task RemovePeerAsync(string networkId, string publicKey, CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.remove_peer", networkId, async () =>
        {
            await RemovePeerCoreAsync(networkId, publicKey, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        TracedAsync("aether.hub.status", null, () => GetStatusCoreAsync(cancellationToken));

    /// <summary>Runs one call of the hub inside its activity (when something listens).</summary>
    private static async Task<T> TracedAsync<T>(string name, string? networkId, Func<Task<T>> call)
    {
        using var activity = AetherDiagnostics.ActivitySource.StartActivity(name, ActivityKind.Internal);
        if (activity is not null && networkId is not null)
        {
            activity.SetTag("aether.hub.network.id", networkId);
        }

        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (activity is not null)
        {
            AetherDiagnostics.Fail(activity, e);
            if (e is HubException hub)
            {
                activity.SetTag("error.type", hub.Kind.ToString());
            }

            throw;
        }
    }
}
