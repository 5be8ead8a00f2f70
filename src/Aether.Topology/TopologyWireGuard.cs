using System.Net;
using Aether.Netlink;
using Aether.WireGuard;

namespace Aether.Topology;

/// <summary>A WireGuard link's device: its private key, port, mark and peers.</summary>
public sealed record TopologyWireGuard
{
    /// <summary>The private key given in the file (<c>privateKey</c>) or read from <see cref="PrivateKeyFile"/>;
    /// null when it is generated and kept in the topology's state directory.</summary>
    public WireGuardSecretKey? PrivateKey { get; init; }

    /// <summary>The file the private key was read from (as resolved), or null.</summary>
    public string? PrivateKeyFile { get; init; }

    /// <summary>The UDP port, or null for the one the device picks.</summary>
    public ushort? ListenPort { get; init; }

    /// <summary>The firewall mark on the tunnel's packets; 0 is none.</summary>
    public uint FirewallMark { get; init; }

    /// <summary>The peers, each public key once, no allowed IPs shared between two of them.</summary>
    public IReadOnlyList<TopologyWireGuardPeer> Peers { get; init; } = [];
}

/// <summary>A peer of a WireGuard link.</summary>
/// <param name="PublicKey">The peer's public key: its identity.</param>
public sealed record TopologyWireGuardPeer(WireGuardKey PublicKey)
{
    /// <summary>Where the peer is reached (an address and port), or null to learn it from the peer's packets.</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>What the peer may send from, and what is routed to it.</summary>
    public IReadOnlyList<IPPrefix> AllowedIPs { get; init; } = [];

    /// <summary>The persistent keepalive in seconds; 0 is off.</summary>
    public ushort PersistentKeepalive { get; init; }

    /// <summary>The preshared key, read from <see cref="PresharedKeyFile"/>; null for none.</summary>
    public WireGuardSecretKey? PresharedKey { get; init; }

    /// <summary>The file the preshared key was read from (as resolved), or null.</summary>
    public string? PresharedKeyFile { get; init; }
}
