namespace Aether.Hub;

/// <summary>A network of the hub as it was accepted: names, keys (public only) and addresses.</summary>
/// <param name="NetworkId">The network's id.</param>
/// <param name="Index">Its index N.</param>
/// <param name="Container">The container's namespace as given (a name, a path, or <c>pid:N</c>).</param>
/// <param name="WgInterface"><c>wgN</c>, in the host namespace.</param>
/// <param name="VethRoot"><c>veth-rootN</c>, in the host namespace, with the gateway address.</param>
/// <param name="EthInterface"><c>ethN</c>, in the container.</param>
/// <param name="PublicKey">The public key of <c>wgN</c>.</param>
/// <param name="ListenPort">The port <c>wgN</c> listens on.</param>
/// <param name="Address">The container's address.</param>
/// <param name="NetworkCidr">The network.</param>
/// <param name="Gateway">The gateway.</param>
/// <param name="PeerEndpoint">The peer's endpoint.</param>
/// <param name="PeerPublicKey">The peer's public key.</param>
/// <param name="Nat">Whether this network carries the container's default route and the NAT masquerade (the
/// network of lowest index in its container).</param>
public sealed record HubNetworkInfo(
    string NetworkId,
    int Index,
    string Container,
    string WgInterface,
    string VethRoot,
    string EthInterface,
    string PublicKey,
    int ListenPort,
    string Address,
    string NetworkCidr,
    string Gateway,
    string PeerEndpoint,
    string PeerPublicKey,
    bool Nat)
{
    /// <summary>The containers attached to the network (its own container first, then by id).</summary>
    public IReadOnlyList<HubAttachmentInfo> Attachments { get; init; } = [];

    /// <summary>The peers as configured, by public key.</summary>
    public IReadOnlyList<HubPeerInfo> Peers { get; init; } = [];

    /// <summary>What a NAT failure does: <c>warn</c> or <c>require</c>.</summary>
    public string NatPolicy { get; init; } = HubNatPolicy.Warn;
}

/// <summary>A peer of a network as configured.</summary>
/// <param name="PublicKey">Its public key.</param>
/// <param name="Endpoint">Its configured endpoint, or null (it connects in).</param>
/// <param name="AllowedIps">Its allowed IPs.</param>
/// <param name="PersistentKeepalive">Its keepalive in seconds (0: off).</param>
/// <param name="HasPresharedKey">Whether it has a preshared key (which never shows).</param>
public sealed record HubPeerInfo(string PublicKey, string? Endpoint, IReadOnlyList<string> AllowedIps, int PersistentKeepalive, bool HasPresharedKey);

/// <summary>What <see cref="IWireGuardHub.SetPeerAsync"/> returns.</summary>
/// <param name="Peer">The peer as configured now.</param>
/// <param name="Created">True when it was added, false when it was there and was updated (or unchanged).</param>
public sealed record HubPeerResult(HubPeerInfo Peer, bool Created);

/// <summary>The values of <see cref="HubNetworkRequest.NatPolicy"/>.</summary>
public static class HubNatPolicy
{
    /// <summary><c>warn</c>: a NAT failure is logged and reported, and the network works without it (the reference's
    /// behaviour).</summary>
    public const string Warn = "warn";

    /// <summary><c>require</c>: a NAT failure fails the add, which is rolled back.</summary>
    public const string Require = "require";
}

/// <summary>The states of <see cref="HubNatStatus.State"/>.</summary>
public static class HubNatState
{
    /// <summary><c>ok</c>: the masquerade is installed.</summary>
    public const string Ok = "ok";

    /// <summary><c>failed</c>: the hub's table could not be installed (see <see cref="HubNatStatus.Error"/>).</summary>
    public const string Failed = "failed";

    /// <summary><c>none</c>: the network masquerades for no container (none has it as its first network).</summary>
    public const string None = "none";
}

/// <summary>A network's NAT as last applied.</summary>
/// <param name="Policy"><c>warn</c> or <c>require</c>.</param>
/// <param name="State"><c>ok</c>, <c>failed</c> or <c>none</c>.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record HubNatStatus(string Policy, string State, string? Error);

/// <summary>A peer of a network as its device reports it.</summary>
/// <param name="PublicKey">The peer's public key.</param>
/// <param name="Endpoint">Its endpoint (configured, or learnt by roaming), or null.</param>
/// <param name="AllowedIps">Its allowed IPs.</param>
/// <param name="LatestHandshake">The latest completed handshake, or null for none.</param>
/// <param name="ReceivedBytes">Bytes received from it.</param>
/// <param name="SentBytes">Bytes sent to it.</param>
/// <param name="PersistentKeepalive">The keepalive interval in seconds (0: off).</param>
public sealed record HubPeerStatus(string PublicKey, string? Endpoint, IReadOnlyList<string> AllowedIps, DateTimeOffset? LatestHandshake, ulong ReceivedBytes, ulong SentBytes, int PersistentKeepalive)
{
    /// <summary>Whether the peer is configured (in the network's peers); false for one the device has that the
    /// hub does not want (it is removed on the next pass).</summary>
    public bool Configured { get; init; } = true;

    /// <summary>Whether the device reports the peer; false for a configured peer not (yet) on the device.</summary>
    public bool OnDevice { get; init; } = true;

    /// <summary>The endpoint as configured (null: the peer connects in); <see cref="Endpoint"/> is the device's.</summary>
    public string? ConfiguredEndpoint { get; init; }
}

/// <summary>A network with what its device reports.</summary>
/// <param name="Network">The network.</param>
/// <param name="DeviceUp">Whether <c>wgN</c> exists and reported itself.</param>
/// <param name="ListenPort">The port the device reports (0 when it does not exist).</param>
/// <param name="Peers">The configured peers joined with what the device reports of them, then any the device has that
/// are not configured.</param>
/// <param name="Error">Why the device could not be read, or why the network's container is gone.</param>
/// <param name="State">Whether the network is kept whole (<see cref="HubNetworkState.Active"/>) or its container went
/// (<see cref="HubNetworkState.ContainerGone"/>).</param>
public sealed record HubNetworkStatus(HubNetworkInfo Network, bool DeviceUp, int ListenPort, IReadOnlyList<HubPeerStatus> Peers, string? Error, string State = HubNetworkState.Active)
{
    /// <summary>The network's NAT: its policy, whether it is installed, and why not.</summary>
    public HubNatStatus Nat { get; init; } = new(HubNatPolicy.Warn, HubNatState.None, null);
}

/// <summary>The states of a network in <see cref="HubNetworkStatus.State"/>.</summary>
public static class HubNetworkState
{
    /// <summary><c>active</c>: its container is there, and every object of the network is kept.</summary>
    public const string Active = "active";

    /// <summary><c>container gone</c>: its container's namespace went (deleted, its process exited, its path
    /// removed). Nothing is retried in it and nothing of it is held; the host keeps the network's <c>wgN</c>, routes
    /// and NAT until the network is removed, and a named or path container that comes back is converged again.</summary>
    public const string ContainerGone = "container gone";
}

/// <summary>What <see cref="IWireGuardHub.GetStatusAsync"/> returns.</summary>
/// <param name="Backend">The WireGuard implementation in use (<c>kernel</c> or <c>userspace</c>).</param>
/// <param name="Networks">Every network, by index.</param>
public sealed record HubStatus(string Backend, IReadOnlyList<HubNetworkStatus> Networks);

/// <summary>What <see cref="IWireGuardHub.AddNetworkAsync"/> returns.</summary>
/// <param name="Network">The network, with its interface names and public key.</param>
/// <param name="Created">False when the same network was there already (the call was a no-op but for repairs).</param>
public sealed record HubAddResult(HubNetworkInfo Network, bool Created);
