using System.Buffers.Binary;
using Aether.Netlink;
using Aether.Netlink.Protocol;

namespace Aether.WireGuard.Kernel;

/// <summary>
/// One peer: a nest inside <c>WGDEVICE_A_PEERS</c>. Read from <c>WG_CMD_GET_DEVICE</c> replies (configuration and
/// status); written into <c>WG_CMD_SET_DEVICE</c> requests as a fragment: the first fragment of a peer carries its
/// settings and flags, later ones (when its allowed IPs do not fit one message) only the key and more allowed IPs.
/// </summary>
internal static class WgPeer
{
    /// <summary>Reads one peer nest.</summary>
    /// <exception cref="NetlinkParseException">A key that is not 32 bytes, a bad endpoint, time or allowed IP, no public key.</exception>
    public static WireGuardPeer Read(NetlinkAttribute nest)
    {
        WireGuardKey? publicKey = null;
        var peer = new WireGuardPeer { PublicKey = default };
        var allowed = new List<IPPrefix>();
        foreach (var attr in nest.GetNested())
        {
            switch (attr.Type)
            {
                case WgPeerAttr.PublicKey: publicKey = WireGuardKey.FromBytes(Key(attr)); break;
                case WgPeerAttr.PresharedKey: peer = peer with { PresharedKey = WireGuardSecretKey.FromBytes(Key(attr)) }; break;
                case WgPeerAttr.Endpoint: peer = peer with { Endpoint = WgEndpoint.Read(attr.Payload) }; break;
                case WgPeerAttr.PersistentKeepaliveInterval: peer = peer with { PersistentKeepaliveInterval = attr.GetU16() }; break;
                case WgPeerAttr.LastHandshakeTime: peer = peer with { LatestHandshake = Handshake(attr.Payload) }; break;
                case WgPeerAttr.RxBytes: peer = peer with { ReceivedBytes = attr.GetU64() }; break;
                case WgPeerAttr.TxBytes: peer = peer with { SentBytes = attr.GetU64() }; break;
                case WgPeerAttr.ProtocolVersion: peer = peer with { ProtocolVersion = (int)attr.GetU32() }; break;
                case WgPeerAttr.AllowedIps:
                    foreach (var ip in attr.GetNested())
                    {
                        allowed.Add(WgAllowedIp.Read(ip));
                    }

                    break;
            }
        }

        return publicKey is { } key
            ? peer with { PublicKey = key, AllowedIPs = allowed }
            : throw new NetlinkParseException("WireGuard peer without WGPEER_A_PUBLIC_KEY");
    }

    /// <summary>Bytes a fragment takes: its nest, key, settings (first fragment), flags, and allowed IPs.</summary>
    public static int SizeOf(WireGuardPeerConfig peer, bool first, int allowedFrom, int allowedCount)
    {
        var size = 4 + 36;
        if (first && !peer.Remove)
        {
            size += peer.PresharedKey is null ? 0 : 36;
            size += peer.Endpoint is null ? 0 : 4 + WgEndpoint.SizeOf(peer.Endpoint);
            size += peer.PersistentKeepaliveInterval is null ? 0 : 8;
        }

        size += Flags(peer, first) != 0 ? 8 : 0;
        if (allowedCount > 0)
        {
            size += 4;
            for (var i = allowedFrom; i < allowedFrom + allowedCount; i++)
            {
                size += WgAllowedIp.SizeOf(peer.AllowedIPs[i]);
            }
        }

        return size;
    }

    /// <summary>Writes one fragment in wg(8)'s order: public key, preshared key, endpoint, keepalive, flags, allowed
    /// IPs. Only the first fragment sets the preshared key, endpoint, keepalive and the replace-allowed-IPs flag.
    /// Like the kernel and wg(8), every peer in the list is nest type 0.</summary>
    public static void Write(ref NetlinkWriter writer, WireGuardPeerConfig peer, bool first, int allowedFrom, int allowedCount)
    {
        var nest = writer.BeginNested(NetlinkWriter.NestedFlag);
        writer.WriteAttribute(WgPeerAttr.PublicKey, peer.PublicKey.Bytes);
        if (first && !peer.Remove)
        {
            if (peer.PresharedKey is { } psk)
            {
                writer.WriteAttribute(WgPeerAttr.PresharedKey, psk.Bytes);
            }

            if (peer.Endpoint is { } endpoint)
            {
                Span<byte> sockaddr = stackalloc byte[WgEndpoint.Inet6Size];
                sockaddr = sockaddr[..WgEndpoint.SizeOf(endpoint)];
                WgEndpoint.Write(sockaddr, endpoint);
                writer.WriteAttribute(WgPeerAttr.Endpoint, sockaddr);
            }

            if (peer.PersistentKeepaliveInterval is ushort keepalive)
            {
                writer.WriteU16(WgPeerAttr.PersistentKeepaliveInterval, keepalive);
            }
        }

        var flags = Flags(peer, first);
        if (flags != 0)
        {
            writer.WriteU32(WgPeerAttr.Flags, flags);
        }

        if (allowedCount > 0)
        {
            var ips = writer.BeginNested(WgPeerAttr.AllowedIps | NetlinkWriter.NestedFlag);
            for (var i = 0; i < allowedCount; i++)
            {
                WgAllowedIp.Write(ref writer, peer.AllowedIPs[allowedFrom + i]);
            }

            writer.EndNested(ips);
        }

        writer.EndNested(nest);
    }

    /// <summary>The flags of a fragment: update-only on every fragment (a later one must not create a peer the first
    /// one skipped), remove and replace-allowed-IPs on the first only.</summary>
    private static uint Flags(WireGuardPeerConfig peer, bool first) =>
        (peer.Remove && first ? WgPeerAttr.FlagRemoveMe : 0)
        | (peer.ReplaceAllowedIPs && first && !peer.Remove ? WgPeerAttr.FlagReplaceAllowedIps : 0)
        | (peer.UpdateOnly && !peer.Remove ? WgPeerAttr.FlagUpdateOnly : 0);

    private static ReadOnlySpan<byte> Key(NetlinkAttribute attr) =>
        attr.Payload.Length == KeyBytes.Length ? attr.Payload : throw new NetlinkParseException($"WireGuard key attribute {attr.Type}: {attr.Payload.Length} bytes, not 32");

    /// <summary><c>struct __kernel_timespec</c>; zero is "never".</summary>
    private static DateTimeOffset? Handshake(ReadOnlySpan<byte> timespec)
    {
        if (timespec.Length < 16)
        {
            throw new NetlinkParseException($"WireGuard last handshake time: {timespec.Length} bytes, not 16");
        }

        var seconds = BinaryPrimitives.ReadInt64LittleEndian(timespec);
        var nanoseconds = BinaryPrimitives.ReadInt64LittleEndian(timespec[8..]);
        if (seconds == 0 && nanoseconds == 0)
        {
            return null;
        }

        if (seconds is < 0 or > 253_402_300_799 || nanoseconds is < 0 or >= 1_000_000_000)
        {
            throw new NetlinkParseException($"WireGuard last handshake time {seconds}.{nanoseconds} is not a time");
        }

        return DateTimeOffset.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));
    }
}
