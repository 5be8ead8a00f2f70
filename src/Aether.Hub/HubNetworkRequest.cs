namespace Aether.Hub;

/// <summary>
/// What a client asks for when a container joins a WireGuard network (the reference's <c>AddNetwork</c>), as it comes
/// over the wire: every field may be missing or wrong, and <see cref="Validate"/> says which, all at once, before
/// anything touches the kernel.
/// </summary>
public sealed record HubNetworkRequest
{
    /// <summary>The network's identity: 1 to 64 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public string? NetworkId { get; init; }

    /// <summary>The network's index N on this hub, 0 to <see cref="HubNetworkSpec.MaxIndex"/>: it names <c>wgN</c>,
    /// <c>veth-rootN</c> and <c>ethN</c>.</summary>
    public int? Index { get; init; }

    /// <summary>The container's network namespace: a name under <c>/run/netns</c>, or an absolute path such as
    /// <c>/proc/PID/ns/net</c>. Give this or <see cref="ContainerPid"/>, or neither (with no <see cref="Address"/>):
    /// the network is created alone, and containers join it with <see cref="IWireGuardHub.AttachAsync"/>.</summary>
    public string? Container { get; init; }

    /// <summary>The container's network namespace as a process id (its <c>/proc/PID/ns/net</c>).</summary>
    public int? ContainerPid { get; init; }

    /// <summary>The hub's private key for <c>wgN</c> (wg(8)'s base64).</summary>
    public string? PrivateKey { get; init; }

    /// <summary>The UDP port <c>wgN</c> listens on in the host namespace.</summary>
    public int? ListenPort { get; init; }

    /// <summary>The peer's endpoint, <c>IP:PORT</c> (<c>[IPv6]:PORT</c>).</summary>
    public string? PeerEndpoint { get; init; }

    /// <summary>The peer's public key (wg(8)'s base64).</summary>
    public string? PeerPublicKey { get; init; }

    /// <summary>The container's address in the network (<c>10.1.0.2</c>; a prefix length, if given, must be the
    /// network's or /32).</summary>
    public string? Address { get; init; }

    /// <summary>The network (<c>10.1.0.0/24</c>): routed to the peer, and the peer's allowed IPs.</summary>
    public string? NetworkCidr { get; init; }

    /// <summary>The gateway: the address of <c>veth-rootN</c> in the host, inside the network.</summary>
    public string? Gateway { get; init; }

    /// <summary>The single peer's persistent keepalive in seconds (0, the default, is off).</summary>
    public int? PersistentKeepalive { get; init; }

    /// <summary>The network's peers, keyed by public key (beside the single-peer fields, a shorthand for one peer
    /// whose allowed IPs are the network). A network may have no peer.</summary>
    public IReadOnlyList<HubPeerRequest>? Peers { get; init; }

    /// <summary>What a NAT failure does: <c>warn</c> (the default: logged and reported in the status) or
    /// <c>require</c> (the add fails and is rolled back).</summary>
    public string? NatPolicy { get; init; }

    /// <summary>The request for logs: every field but the private key, which never prints.</summary>
    public override string ToString() =>
        $"{{ networkId = {NetworkId}, index = {Index}, container = {Container ?? ContainerPid?.ToString(System.Globalization.CultureInfo.InvariantCulture)}, privateKey = {(PrivateKey is null ? "" : "(hidden)")}, listenPort = {ListenPort}, peerEndpoint = {PeerEndpoint}, peerPublicKey = {PeerPublicKey}, address = {Address}, networkCidr = {NetworkCidr}, gateway = {Gateway}, peers = [{string.Join(", ", Peers ?? [])}], natPolicy = {NatPolicy} }}";

    /// <summary>Whether two requests are the same, field by field (the peers in order, each by value).</summary>
    public bool Equals(HubNetworkRequest? other) =>
        other is not null && string.Equals(NetworkId, other.NetworkId, StringComparison.Ordinal) && Index == other.Index
        && string.Equals(Container, other.Container, StringComparison.Ordinal) && ContainerPid == other.ContainerPid
        && string.Equals(PrivateKey, other.PrivateKey, StringComparison.Ordinal) && ListenPort == other.ListenPort
        && string.Equals(PeerEndpoint, other.PeerEndpoint, StringComparison.Ordinal) && string.Equals(PeerPublicKey, other.PeerPublicKey, StringComparison.Ordinal)
        && string.Equals(Address, other.Address, StringComparison.Ordinal) && string.Equals(NetworkCidr, other.NetworkCidr, StringComparison.Ordinal)
        && string.Equals(Gateway, other.Gateway, StringComparison.Ordinal) && PersistentKeepalive == other.PersistentKeepalive
        && (Peers ?? []).SequenceEqual(other.Peers ?? []) && (Peers is null) == (other.Peers is null)
        && string.Equals(NatPolicy, other.NatPolicy, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(NetworkId, Index, Container, ListenPort, NetworkCidr);

    /// <summary>Checks every field and returns the validated network.</summary>
    /// <exception cref="HubException">Of kind <see cref="HubErrorKind.Invalid"/>, with every bad field.</exception>
    public HubNetworkSpec Validate() => HubNetworkSpec.From(this);
}
