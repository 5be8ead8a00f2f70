using System.Net;
using System.Net.Sockets;
using Aether.Netlink;

namespace Aether.WireGuard;

/// <summary>
/// A change to one peer, as <c>WG_CMD_SET_DEVICE</c> and the UAPI's <c>set=1</c> take it: null leaves a value as it
/// is. Without <see cref="UpdateOnly"/> a missing peer is created; with <see cref="Remove"/> it is removed.
/// </summary>
/// <param name="PublicKey">The peer's public key.</param>
public sealed record WireGuardPeerConfig(WireGuardKey PublicKey)
{
    /// <summary>Remove the peer (<c>WGPEER_F_REMOVE_ME</c>, <c>remove=true</c>); everything else is ignored.</summary>
    public bool Remove { get; init; }

    /// <summary>Change the peer only if it exists (<c>WGPEER_F_UPDATE_ONLY</c>, <c>update_only=true</c>).</summary>
    public bool UpdateOnly { get; init; }

    /// <summary>The preshared key; <see cref="WireGuardSecretKey.Zero"/> removes it; null leaves it.</summary>
    public WireGuardSecretKey? PresharedKey { get; init; }

    /// <summary>The endpoint; null leaves it.</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>The persistent keepalive interval in seconds; 0 turns it off; null leaves it.</summary>
    public ushort? PersistentKeepaliveInterval { get; init; }

    /// <summary>Remove the peer's allowed IPs before adding <see cref="AllowedIPs"/>
    /// (<c>WGPEER_F_REPLACE_ALLOWEDIPS</c>, <c>replace_allowed_ips=true</c>).</summary>
    public bool ReplaceAllowedIPs { get; init; }

    /// <summary>Allowed IPs to add.</summary>
    public IReadOnlyList<IPPrefix> AllowedIPs { get; init; } = [];

    /// <summary>Checks the change before anything is sent.</summary>
    /// <exception cref="ArgumentException">A zero public key, an endpoint that is not IPv4 or IPv6 or has port 0, an
    /// allowed IP of another family.</exception>
    public void Validate()
    {
        if (PublicKey.IsZero)
        {
            throw new ArgumentException("peer public key: the zero key is not a key", nameof(PublicKey));
        }

        if (Endpoint is { } endpoint && (endpoint.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || endpoint.Port == 0))
        {
            throw new ArgumentException($"peer {PublicKey}: endpoint {endpoint} must be an IPv4 or IPv6 address with a port in 1..65535", nameof(Endpoint));
        }

        foreach (var prefix in AllowedIPs)
        {
            if (prefix.Address is null)
            {
                throw new ArgumentException($"peer {PublicKey}: an allowed IP is empty", nameof(AllowedIPs));
            }
        }
    }

    /// <inheritdoc/>
    public bool Equals(WireGuardPeerConfig? other) =>
        other is not null
        && PublicKey == other.PublicKey
        && Remove == other.Remove
        && UpdateOnly == other.UpdateOnly
        && PresharedKey == other.PresharedKey
        && Equals(Endpoint, other.Endpoint)
        && PersistentKeepaliveInterval == other.PersistentKeepaliveInterval
        && ReplaceAllowedIPs == other.ReplaceAllowedIPs
        && AllowedIPs.SequenceEqual(other.AllowedIPs);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, Remove, UpdateOnly, Endpoint, AllowedIPs.Count);
}
