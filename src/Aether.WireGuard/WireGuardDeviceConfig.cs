namespace Aether.WireGuard;

/// <summary>
/// A change to a device, as <c>WG_CMD_SET_DEVICE</c> and the UAPI's <c>set=1</c> take it: null leaves a value as it
/// is, and peers are changed one by one (<see cref="ReplacePeers"/> false) unless told to replace them all.
/// Printing it never shows the keys.
/// </summary>
public sealed record WireGuardDeviceConfig
{
    /// <summary>The private key; <see cref="WireGuardSecretKey.Zero"/> removes it; null leaves it.</summary>
    public WireGuardSecretKey? PrivateKey { get; init; }

    /// <summary>The listen port; 0 picks one at random; null leaves it.</summary>
    public ushort? ListenPort { get; init; }

    /// <summary>The firewall mark; 0 removes it; null leaves it.</summary>
    public uint? FirewallMark { get; init; }

    /// <summary>Remove every peer before applying <see cref="Peers"/> (<c>WGDEVICE_F_REPLACE_PEERS</c>,
    /// <c>replace_peers=true</c>).</summary>
    public bool ReplacePeers { get; init; }

    /// <summary>Peer changes, applied in order.</summary>
    public IReadOnlyList<WireGuardPeerConfig> Peers { get; init; } = [];

    /// <summary>Whether the change does nothing.</summary>
    public bool IsEmpty => PrivateKey is null && ListenPort is null && FirewallMark is null && !ReplacePeers && Peers.Count == 0;

    /// <summary>Checks the whole change before anything is sent.</summary>
    /// <exception cref="ArgumentException">A peer is invalid, or a public key appears twice.</exception>
    public void Validate()
    {
        var seen = new HashSet<WireGuardKey>();
        foreach (var peer in Peers)
        {
            ArgumentNullException.ThrowIfNull(peer);
            peer.Validate();
            if (!seen.Add(peer.PublicKey))
            {
                throw new ArgumentException($"peer {peer.PublicKey} appears twice in one change", nameof(Peers));
            }
        }
    }

    /// <inheritdoc/>
    public bool Equals(WireGuardDeviceConfig? other) =>
        other is not null
        && PrivateKey == other.PrivateKey
        && ListenPort == other.ListenPort
        && FirewallMark == other.FirewallMark
        && ReplacePeers == other.ReplacePeers
        && Peers.SequenceEqual(other.Peers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ListenPort, FirewallMark, ReplacePeers, Peers.Count);
}
