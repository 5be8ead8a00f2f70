using Aether.Reconcile;

namespace Aether.Hub;

/// <summary>
/// The multi-network WireGuard hub: a container joins several WireGuard networks, each with its own <c>wgN</c> in
/// the host namespace, a veth pair <c>veth-rootN</c> (host, gateway address) to <c>ethN</c> (container, address,
/// routes via the gateway), the peer on <c>wgN</c>, and NAT masquerade for the container's first network. Every
/// object is desired state of reconcile sources, kept while the hub runs.
/// </summary>
public interface IWireGuardHub
{
    /// <summary>Adds a network, or does nothing (but repair) when the same network is there already.</summary>
    /// <exception cref="HubException">Invalid (400), Conflict (409), or Failed (a step failed; what this call created
    /// was rolled back).</exception>
    Task<HubAddResult> AddNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>Removes network <paramref name="networkId"/>'s objects only.</summary>
    /// <exception cref="HubException">NotFound (404), or Failed.</exception>
    Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken);

    /// <summary>The networks as accepted, by index.</summary>
    IReadOnlyList<HubNetworkInfo> ListNetworks();

    /// <summary>The networks with what their devices report (peers, handshakes, counters).</summary>
    Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>The hub's reconcile loops, one per namespace it keeps.</summary>
    IReadOnlyList<ReconcileStatus> LoopStatuses();
}
