using System.Net;
using Aether.Netlink;

namespace Aether.WireGuard;

/// <summary>A peer of a WireGuard device as the device reports it: its configuration and its status (the latest
/// handshake and the transfer counters). WireGuard sends no events, so status is read by polling.</summary>
public sealed record WireGuardPeer
{
    /// <summary>The peer's public key: its identity.</summary>
    public required WireGuardKey PublicKey { get; init; }

    /// <summary>The preshared key, or <see cref="WireGuardSecretKey.Zero"/> for none.</summary>
    public WireGuardSecretKey PresharedKey { get; init; }

    /// <summary>The endpoint, configured or learnt from the peer's latest packet (roaming); null when unknown.</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>The persistent keepalive interval in seconds; 0 is off.</summary>
    public ushort PersistentKeepaliveInterval { get; init; }

    /// <summary>When the latest handshake completed, or null when there has been none.</summary>
    public DateTimeOffset? LatestHandshake { get; init; }

    /// <summary>Bytes received from the peer.</summary>
    public ulong ReceivedBytes { get; init; }

    /// <summary>Bytes sent to the peer.</summary>
    public ulong SentBytes { get; init; }

    /// <summary>The allowed IPs (network addresses with prefix lengths), in the device's order.</summary>
    public IReadOnlyList<IPPrefix> AllowedIPs { get; init; } = [];

    /// <summary>The protocol version (1), or 0 when the device did not say.</summary>
    public int ProtocolVersion { get; init; }

    /// <inheritdoc/>
    public bool Equals(WireGuardPeer? other) =>
        other is not null
        && PublicKey == other.PublicKey
        && PresharedKey == other.PresharedKey
        && Equals(Endpoint, other.Endpoint)
        && PersistentKeepaliveInterval == other.PersistentKeepaliveInterval
        && LatestHandshake == other.LatestHandshake
        && ReceivedBytes == other.ReceivedBytes
        && SentBytes == other.SentBytes
        && AllowedIPs.SequenceEqual(other.AllowedIPs)
        && ProtocolVersion == other.ProtocolVersion;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, Endpoint, ReceivedBytes, SentBytes, AllowedIPs.Count);
}
