using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.WireGuard;

/// <summary>A peer a WireGuard device should have.</summary>
/// <param name="PublicKey">The peer's public key: its identity.</param>
public sealed record DesiredWireGuardPeer(WireGuardKey PublicKey)
{
    /// <summary>The preshared key, or null for none.</summary>
    public WireGuardSecretKey? PresharedKey { get; init; }

    /// <summary>The endpoint to reach the peer at, or null to leave it to the peer (a client behind NAT: WireGuard
    /// learns it from the peer's packets, and roaming is never undone).</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>The persistent keepalive interval in seconds; 0 is off.</summary>
    public ushort PersistentKeepaliveInterval { get; init; }

    /// <summary>The allowed IPs: what the peer may send from, and what is routed to it.</summary>
    public IReadOnlyList<IPPrefix> AllowedIPs { get; init; } = [];

    /// <summary>A short form of the key for reports: its first 8 base64 characters.</summary>
    internal string Short => ShortKey(PublicKey);

    internal static string ShortKey(WireGuardKey key) => string.Concat(key.ToString().AsSpan(0, 8), "…");

    /// <inheritdoc/>
    public bool Equals(DesiredWireGuardPeer? other) =>
        other is not null && PublicKey == other.PublicKey && PresharedKey == other.PresharedKey && Equals(Endpoint, other.Endpoint)
        && PersistentKeepaliveInterval == other.PersistentKeepaliveInterval && AllowedIPs.SequenceEqual(other.AllowedIPs);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, Endpoint, AllowedIPs.Count);
}

/// <summary>A WireGuard device Aether should keep in one namespace, with exactly these peers.</summary>
/// <param name="Name">The interface name (for userspace devices also a socket name: unique on the machine).</param>
/// <param name="PrivateKey">The device's private key.</param>
public sealed record DesiredWireGuardDevice(string Name, WireGuardSecretKey PrivateKey)
{
    /// <summary>The UDP port to listen on, or null for whatever the device picked (kept once picked).</summary>
    public ushort? ListenPort { get; init; }

    /// <summary>The firewall mark on outgoing packets; 0 is none.</summary>
    public uint FirewallMark { get; init; }

    /// <summary>Administratively up (the default) or down.</summary>
    public bool Up { get; init; } = true;

    /// <summary>The MTU, or whatever the device has (1420 for both implementations).</summary>
    public int? Mtu { get; init; }

    /// <summary>The peers, each public key once.</summary>
    public IReadOnlyList<DesiredWireGuardPeer> Peers { get; init; } = [];

    /// <summary>Checks the whole device before anything touches the kernel.</summary>
    /// <exception cref="ArgumentException">Names the field: a bad name, no private key, a peer twice, a peer with the
    /// device's own key, a zero key, an endpoint without a port, an allowed IP twice.</exception>
    public void Validate()
    {
        InterfaceName.Validate(Name, nameof(Name));
        if (PrivateKey.IsZero)
        {
            throw new ArgumentException($"wireguard device '{Name}': private key is missing (all zero)", nameof(PrivateKey));
        }

        if (Mtu is < 68 or > 65535)
        {
            throw new ArgumentException($"wireguard device '{Name}': MTU {Mtu} is outside 68..65535", nameof(Mtu));
        }

        ArgumentNullException.ThrowIfNull(Peers);
        var own = PrivateKey.GetPublicKey();
        var keys = new HashSet<WireGuardKey>();
        foreach (var peer in Peers)
        {
            ArgumentNullException.ThrowIfNull(peer);
            var where = $"wireguard device '{Name}', peer {peer.PublicKey}";
            if (peer.PublicKey.IsZero)
            {
                throw new ArgumentException($"{where}: the zero key is not a key", nameof(Peers));
            }

            if (peer.PublicKey == own)
            {
                throw new ArgumentException($"{where}: that is the device's own public key", nameof(Peers));
            }

            if (!keys.Add(peer.PublicKey))
            {
                throw new ArgumentException($"{where}: listed twice", nameof(Peers));
            }

            if (peer.Endpoint is { } endpoint && (endpoint.Port == 0 || endpoint.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)))
            {
                throw new ArgumentException($"{where}: endpoint {endpoint} needs an IPv4 or IPv6 address and a port", nameof(Peers));
            }

            var prefixes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prefix in peer.AllowedIPs)
            {
                if (prefix.Address is null || !prefixes.Add(Normal(prefix).ToString()))
                {
                    throw new ArgumentException($"{where}: allowed IP {prefix} is empty or listed twice", nameof(Peers));
                }
            }
        }
    }

    /// <summary>A prefix as devices report it: the network address.</summary>
    internal static IPPrefix Normal(IPPrefix prefix) => new(prefix.Network, prefix.PrefixLength);

    /// <inheritdoc/>
    public bool Equals(DesiredWireGuardDevice? other) =>
        other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal) && PrivateKey == other.PrivateKey && ListenPort == other.ListenPort
        && FirewallMark == other.FirewallMark && Up == other.Up && Mtu == other.Mtu && Peers.SequenceEqual(other.Peers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, ListenPort, Peers.Count);
}
