namespace Aether.WireGuard;

/// <summary>A WireGuard device as it reports itself (kernel generic netlink or the userspace UAPI): its keys, port,
/// firewall mark and peers with their status. Printing it never shows the private or preshared keys.</summary>
public sealed record WireGuardDevice
{
    /// <summary>The interface name.</summary>
    public required string Name { get; init; }

    /// <summary>The ifindex (the kernel reports it; the UAPI does not, so it is 0 there).</summary>
    public int Index { get; init; }

    /// <summary>The private key, or <see cref="WireGuardSecretKey.Zero"/> when none is set.</summary>
    public WireGuardSecretKey PrivateKey { get; init; }

    /// <summary>The public key, or null when no private key is set.</summary>
    public WireGuardKey? PublicKey { get; init; }

    /// <summary>The UDP port it listens on (the one chosen at random when configured as 0).</summary>
    public ushort ListenPort { get; init; }

    /// <summary>The firewall mark on its outgoing packets; 0 is none.</summary>
    public uint FirewallMark { get; init; }

    /// <summary>The peers, in the device's order.</summary>
    public IReadOnlyList<WireGuardPeer> Peers { get; init; } = [];

    /// <summary>The peer with <paramref name="publicKey"/>, or null.</summary>
    public WireGuardPeer? FindPeer(WireGuardKey publicKey) => Peers.FirstOrDefault(p => p.PublicKey == publicKey);

    /// <inheritdoc/>
    public bool Equals(WireGuardDevice? other) =>
        other is not null
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && Index == other.Index
        && PrivateKey == other.PrivateKey
        && PublicKey == other.PublicKey
        && ListenPort == other.ListenPort
        && FirewallMark == other.FirewallMark
        && Peers.SequenceEqual(other.Peers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, Index, ListenPort, Peers.Count);
}
