using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aether.Netlink;
using Aether.Topology;
using Aether.WireGuard;

namespace Aether.Labs;

/// <summary>
/// What a host's part of a lab needs for its <c>transport: wireguard</c> links: this host's private key, the other
/// hosts' public keys (only public keys cross between hosts), and the slot of each pair of hosts of this lab that
/// such a link joins (unique in the cluster, so that a tunnel's port and inner addresses are unique on every host).
/// </summary>
/// <param name="PrivateKey">This host's private key (its agent keeps it, mode 0600).</param>
/// <param name="PublicKeys">Every host's public key, by host.</param>
/// <param name="Slots">The slot of the tunnel between this host and each remote host, by remote host.</param>
public sealed record HostWireGuard(WireGuardSecretKey PrivateKey, IReadOnlyDictionary<HostId, WireGuardKey> PublicKeys, IReadOnlyDictionary<HostId, int> Slots);

/// <summary>
/// The WireGuard tunnel of a pair of hosts in a lab: one device in each host's namespace (the namespace that carries
/// the lab's VXLAN tunnels), named after the lab, the host and the remote host; its port and its two inner addresses
/// (a /31 of 169.254.64.0/19, the lower address to the host whose id sorts first) follow from the pair's slot. The
/// links between the two hosts are VXLANs between the inner addresses, so every link of the pair shares one
/// WireGuard session, and the VXLAN, verification and repair of links are those of <c>transport: vxlan</c>.
/// </summary>
public static class CrossHostWireGuard
{
    /// <summary>The port of slot 0 (WireGuard's usual port); slot N listens on this plus N.</summary>
    public const int FirstPort = 51820;

    /// <summary>How many tunnels the cluster can hold at once (slots 0 to this less one).</summary>
    public const int Slots = 4096;

    /// <summary>The persistent keepalive of every tunnel, in seconds: keeps the session (and its latest handshake,
    /// which <c>aether wg show</c> reports) fresh while no frame crosses.</summary>
    public const ushort Keepalive = 25;

    private static readonly byte[] InnerBase = [169, 254, 64, 0];

    /// <summary>The UDP port of slot <paramref name="slot"/>'s tunnel, the same on both hosts.</summary>
    public static ushort PortOf(int slot) => (ushort)(FirstPort + CheckSlot(slot));

    /// <summary>The inner address of <paramref name="host"/> in slot <paramref name="slot"/>'s tunnel to
    /// <paramref name="remote"/>.</summary>
    public static IPAddress InnerAddress(int slot, HostId host, HostId remote)
    {
        var offset = (CheckSlot(slot) * 2) + (string.CompareOrdinal(host.Value, remote.Value) < 0 ? 0 : 1);
        var bytes = (byte[])InnerBase.Clone();
        bytes[2] += (byte)(offset >> 8);
        bytes[3] = (byte)(offset & 0xFF);
        return new IPAddress(bytes);
    }

    /// <summary>The device of <paramref name="lab"/>'s tunnel on <paramref name="host"/> towards
    /// <paramref name="remote"/>: the lab's name (at most its first 6 characters) and 9 hex digits of a hash of the
    /// three, 15 characters at most. Unique on the machine, as wireguard-go's socket
    /// (<c>/var/run/wireguard/NAME.sock</c>) needs, even for simulated hosts sharing one.</summary>
    public static string DeviceName(string lab, HostId host, HostId remote)
    {
        ArgumentException.ThrowIfNullOrEmpty(lab);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(lab + "\n" + host.Value + "\n" + remote.Value));
        return lab[..Math.Min(6, lab.Length)] + Convert.ToHexStringLower(hash)[..9];
    }

    private static int CheckSlot(int slot) => slot is >= 0 and < Slots
        ? slot
        : throw new ArgumentOutOfRangeException(nameof(slot), slot, string.Create(CultureInfo.InvariantCulture, $"a WireGuard tunnel's slot is 0..{Slots - 1}"));
}

/// <content>The WireGuard devices of a host's part.</content>
public static partial class LabTopology
{
    /// <summary>The VXLAN end of a <c>transport: wireguard</c> link: between the tunnel's inner addresses.</summary>
    private static (IPAddress Local, IPAddress Remote) WireGuardEnds(LabSpec lab, LinkId id, HostId host, HostId remote, HostWireGuard? wireguard)
    {
        var slot = SlotOf(lab, id, host, remote, wireguard);
        return (CrossHostWireGuard.InnerAddress(slot, host, remote), CrossHostWireGuard.InnerAddress(slot, remote, host));
    }

    private static int SlotOf(LabSpec lab, LinkId id, HostId host, HostId remote, HostWireGuard? wireguard)
    {
        if (wireguard is null)
        {
            throw new ArgumentException($"link {id} of lab {lab.Name} is carried by WireGuard, and host {host} was given no WireGuard keys", nameof(wireguard));
        }

        return wireguard.Slots.TryGetValue(remote, out var slot)
            ? slot
            : throw new ArgumentException($"link {id} of lab {lab.Name}: no WireGuard tunnel is allotted between hosts {host} and {remote} yet", nameof(wireguard));
    }

    /// <summary>One WireGuard device per remote host that <paramref name="mtus"/> names (the interface MTUs of the
    /// links to it), in <paramref name="hostNamespace"/>: this host's key, the pair's port and inner /31, and the
    /// remote host as its one peer, reached at its underlay address.</summary>
    private static IEnumerable<TopologyLink> WireGuardDevices(LabSpec lab, HostId host, IReadOnlyDictionary<HostId, IPAddress> underlays, Dictionary<HostId, int> mtus, HostWireGuard wireguard, string? hostNamespace)
    {
        foreach (var (remote, mtu) in mtus.OrderBy(m => m.Key.Value, StringComparer.Ordinal))
        {
            if (!wireguard.PublicKeys.TryGetValue(remote, out var key))
            {
                throw new ArgumentException($"host {remote} has published no WireGuard public key (its agent registers one when it starts)", nameof(wireguard));
            }

            var slot = wireguard.Slots[remote];
            var port = CrossHostWireGuard.PortOf(slot);
            yield return new TopologyLink(CrossHostWireGuard.DeviceName(lab.Name, host, remote), TopologyLinkKind.WireGuard)
            {
                Namespace = hostNamespace,
                Mtu = mtu + CrossHost.Ipv4Overhead,
                Addresses = [new IPPrefix(CrossHostWireGuard.InnerAddress(slot, host, remote), 31)],
                WireGuard = new TopologyWireGuard
                {
                    PrivateKey = wireguard.PrivateKey,
                    ListenPort = port,
                    Peers =
                    [
                        new TopologyWireGuardPeer(key)
                        {
                            Endpoint = new IPEndPoint(underlays[remote], port),
                            AllowedIPs = [new IPPrefix(CrossHostWireGuard.InnerAddress(slot, remote, host), 32)],
                            PersistentKeepalive = CrossHostWireGuard.Keepalive,
                        },
                    ],
                },
            };
        }
    }
}
