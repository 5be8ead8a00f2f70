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

    /// <summary>Attaches one more container to network <paramref name="networkId"/>: a veth pair from the host into
    /// the container, the address (given, or the lowest free one) and the routes; the network's other attachments
    /// reach it through the host, nothing of another network does.</summary>
    /// <exception cref="HubException">Invalid (400), NotFound (no such network, 404), Conflict (the id with other
    /// fields, an address or interface in use, 409), or Failed (rolled back).</exception>
    Task<HubAttachResult> AttachAsync(string networkId, HubAttachRequest request, CancellationToken cancellationToken);

    /// <summary>Detaches attachment <paramref name="attachmentId"/> from network <paramref name="networkId"/>: its
    /// veth pair, address and routes go; the network and its other attachments stay.</summary>
    /// <exception cref="HubException">NotFound (404), or Failed.</exception>
    Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken);

    /// <summary>Adds peer <see cref="HubPeerRequest.PublicKey"/> to a live network, or updates it in place; the
    /// other peers are not touched (their sessions, handshakes and counters go on).</summary>
    /// <exception cref="HubException">Invalid (bad key, allowed IPs overlapping another peer's, keepalive out of
    /// range: 400), NotFound (404), or Failed (the peer was put back as it was).</exception>
    Task<HubPeerResult> SetPeerAsync(string networkId, HubPeerRequest peer, CancellationToken cancellationToken);

    /// <summary>Removes peer <paramref name="publicKey"/> (base64, or base64url) from a network; the other peers
    /// are not touched.</summary>
    /// <exception cref="HubException">Invalid (not a key, 400), NotFound (no such network or peer, 404), or
    /// Failed.</exception>
    Task RemovePeerAsync(string networkId, string publicKey, CancellationToken cancellationToken);

    /// <summary>The networks as accepted, by index.</summary>
    IReadOnlyList<HubNetworkInfo> ListNetworks();

    /// <summary>The networks with what their devices report (peers, handshakes, counters).</summary>
    Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>The hub's reconcile loops, one per namespace it keeps.</summary>
    IReadOnlyList<ReconcileStatus> LoopStatuses();
}
