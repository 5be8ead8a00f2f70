using Aether.Netlink;
using Aether.Netlink.Protocol;

namespace Aether.WireGuard.Kernel;

/// <summary>One message of a <c>WG_CMD_GET_DEVICE</c> dump: the device's fields (the first message carries them
/// all, later ones only the name) and a run of its peers, the first of which may continue the previous message's
/// last peer.</summary>
/// <param name="Device">The device fields this message carried (peers empty).</param>
/// <param name="Peers">The peers in this message.</param>
internal sealed record WgDeviceMessage(WireGuardDevice Device, IReadOnlyList<WireGuardPeer> Peers);

/// <summary>One <c>WG_CMD_SET_DEVICE</c> message of a change that may need several.</summary>
/// <param name="DeviceFields">Whether it carries the device fields (the first message only).</param>
/// <param name="Peers">The peer fragments: a peer, whether this is its first fragment, and which allowed IPs.</param>
internal sealed record WgSetMessage(bool DeviceFields, IReadOnlyList<WgPeerFragment> Peers);

/// <summary>A peer's share of one set message.</summary>
internal readonly record struct WgPeerFragment(WireGuardPeerConfig Peer, bool First, int AllowedFrom, int AllowedCount);

/// <summary>
/// The device level of the WireGuard generic netlink protocol, as <c>include/uapi/linux/wireguard.h</c> documents it:
/// the get request (a dump by name), its reply messages and how they join into one device, and the set request,
/// split into several messages when a change is larger than one message may be (as wg(8) splits it).
/// </summary>
internal static class WgDevice
{
    /// <summary>The largest set message written (wg(8) uses a page; the kernel takes more).</summary>
    public const int DefaultMaxMessage = 16 * 1024;

    private const int Header = NlMsgHdr.Size + GenlMsgHdr.Size;

    /// <summary>Writes <c>WG_CMD_GET_DEVICE</c> for device <paramref name="name"/>: <c>NLM_F_REQUEST | NLM_F_ACK |
    /// NLM_F_DUMP</c>, as wg(8) sends it.</summary>
    public static void WriteGet(ref NetlinkWriter writer, ushort familyId, string name, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(familyId, NlmsgFlags.Request | NlmsgFlags.Ack | NlmsgFlags.Dump, sequence, portId);
        writer.WriteStruct(new GenlMsgHdr { Command = WgGenl.CmdGetDevice, Version = WgGenl.Version });
        writer.WriteString(WgDeviceAttr.IfName, name);
        writer.EndMessage(msg);
    }

    /// <summary>Decodes one reply message of the get dump. Matches <see cref="MessageParser{T}"/>.</summary>
    /// <exception cref="NetlinkParseException">Malformed attributes.</exception>
    public static bool TryParse(in NetlinkMessage message, out WgDeviceMessage parsed)
    {
        var device = new WireGuardDevice { Name = string.Empty };
        var peers = new List<WireGuardPeer>();
        foreach (var attr in message.Attributes(GenlMsgHdr.Size))
        {
            switch (attr.Type)
            {
                case WgDeviceAttr.IfIndex: device = device with { Index = (int)attr.GetU32() }; break;
                case WgDeviceAttr.IfName: device = device with { Name = attr.GetString() }; break;
                case WgDeviceAttr.PrivateKey: device = device with { PrivateKey = WireGuardSecretKey.FromBytes(Key(attr)) }; break;
                case WgDeviceAttr.PublicKey: device = device with { PublicKey = WireGuardKey.FromBytes(Key(attr)) }; break;
                case WgDeviceAttr.ListenPort: device = device with { ListenPort = attr.GetU16() }; break;
                case WgDeviceAttr.FwMark: device = device with { FirewallMark = attr.GetU32() }; break;
                case WgDeviceAttr.Peers:
                    foreach (var peer in attr.GetNested())
                    {
                        peers.Add(WgPeer.Read(peer));
                    }

                    break;
            }
        }

        // The kernel sends the public key even when it is all zero (no private key): that is no key.
        if (device.PublicKey is { IsZero: true })
        {
            device = device with { PublicKey = null };
        }

        parsed = new WgDeviceMessage(device, peers);
        return true;
    }

    /// <summary>Joins a dump's messages into the device: fields from the first, peers appended in order, and a peer
    /// that continues from the previous message (the same public key again) merged into it.</summary>
    /// <exception cref="NetlinkParseException">No messages, or messages about different devices.</exception>
    public static WireGuardDevice Coalesce(IReadOnlyList<WgDeviceMessage> messages)
    {
        if (messages.Count == 0)
        {
            throw new NetlinkParseException("WireGuard get device: the dump had no device message");
        }

        var device = messages[0].Device;
        var peers = new List<WireGuardPeer>();
        foreach (var message in messages)
        {
            if (message.Device.Name.Length > 0 && !string.Equals(message.Device.Name, device.Name, StringComparison.Ordinal))
            {
                throw new NetlinkParseException($"WireGuard get device: messages about {device.Name} and {message.Device.Name}");
            }

            foreach (var peer in message.Peers)
            {
                if (peers.Count > 0 && peers[^1].PublicKey == peer.PublicKey)
                {
                    peers[^1] = peers[^1] with { AllowedIPs = [.. peers[^1].AllowedIPs, .. peer.AllowedIPs] };
                    continue;
                }

                peers.Add(peer);
            }
        }

        return device with { Peers = peers };
    }

    /// <summary>
    /// Splits a change into messages of at most <paramref name="maxMessage"/> bytes: the device fields and as many
    /// peers as fit in the first, then the rest, a peer's allowed IPs continued in the next message when they do not
    /// fit (its settings and replace flag only in its first fragment). The replace-peers flag is in the first message
    /// only, so later ones add to what the first one left.
    /// </summary>
    /// <exception cref="ArgumentException">A single peer's fixed part does not fit a message.</exception>
    public static IReadOnlyList<WgSetMessage> Plan(string name, WireGuardDeviceConfig config, int maxMessage = DefaultMaxMessage)
    {
        var baseSize = Header + 4 + ((System.Text.Encoding.UTF8.GetByteCount(name) + 1 + 3) & ~3);
        var deviceSize = (config.PrivateKey is null ? 0 : 36) + (config.ListenPort is null ? 0 : 8) + (config.FirewallMark is null ? 0 : 8) + (config.ReplacePeers ? 8 : 0);
        var messages = new List<WgSetMessage>();
        var fragments = new List<WgPeerFragment>();
        var size = baseSize + deviceSize + 4; // the peers nest
        var deviceFields = true;

        void Flush()
        {
            messages.Add(new WgSetMessage(deviceFields, [.. fragments]));
            fragments.Clear();
            deviceFields = false;
            size = baseSize + 4;
        }

        foreach (var peer in config.Peers)
        {
            var allowed = peer.Remove ? 0 : peer.AllowedIPs.Count;
            var from = 0;
            var first = true;
            while (true)
            {
                var fixedSize = WgPeer.SizeOf(peer, first, 0, 0) + (allowed > from ? 4 : 0);
                if (size + fixedSize + (allowed > from ? WgAllowedIp.SizeOf(peer.AllowedIPs[from]) : 0) > maxMessage)
                {
                    if (fragments.Count == 0 && !deviceFields)
                    {
                        throw new ArgumentException($"peer {peer.PublicKey} does not fit a {maxMessage}-byte message", nameof(maxMessage));
                    }

                    Flush();
                    continue;
                }

                var count = 0;
                var used = fixedSize;
                while (from + count < allowed && size + used + WgAllowedIp.SizeOf(peer.AllowedIPs[from + count]) <= maxMessage)
                {
                    used += WgAllowedIp.SizeOf(peer.AllowedIPs[from + count]);
                    count++;
                }

                fragments.Add(new WgPeerFragment(peer, first, from, count));
                size += used;
                from += count;
                first = false;
                if (from >= allowed)
                {
                    break;
                }

                Flush();
            }
        }

        if (fragments.Count > 0 || messages.Count == 0)
        {
            Flush();
        }

        return messages;
    }

    /// <summary>Writes one <c>WG_CMD_SET_DEVICE</c> message (<c>NLM_F_REQUEST | NLM_F_ACK</c>) in wg(8)'s order: name,
    /// private key, listen port, firewall mark, flags, then the peers nest when there are peers.</summary>
    public static void WriteSet(ref NetlinkWriter writer, ushort familyId, string name, WireGuardDeviceConfig config, WgSetMessage message, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(familyId, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        writer.WriteStruct(new GenlMsgHdr { Command = WgGenl.CmdSetDevice, Version = WgGenl.Version });
        writer.WriteString(WgDeviceAttr.IfName, name);
        if (message.DeviceFields)
        {
            if (config.PrivateKey is { } privateKey)
            {
                writer.WriteAttribute(WgDeviceAttr.PrivateKey, privateKey.Bytes);
            }

            if (config.ListenPort is ushort port)
            {
                writer.WriteU16(WgDeviceAttr.ListenPort, port);
            }

            if (config.FirewallMark is uint mark)
            {
                writer.WriteU32(WgDeviceAttr.FwMark, mark);
            }

            if (config.ReplacePeers)
            {
                writer.WriteU32(WgDeviceAttr.Flags, WgDeviceAttr.FlagReplacePeers);
            }
        }

        if (message.Peers.Count > 0)
        {
            var peers = writer.BeginNested(WgDeviceAttr.Peers | NetlinkWriter.NestedFlag);
            for (var i = 0; i < message.Peers.Count; i++)
            {
                var f = message.Peers[i];
                WgPeer.Write(ref writer, f.Peer, f.First, f.AllowedFrom, f.AllowedCount);
            }

            writer.EndNested(peers);
        }

        writer.EndMessage(msg);
    }

    private static ReadOnlySpan<byte> Key(NetlinkAttribute attr) =>
        attr.Payload.Length == KeyBytes.Length ? attr.Payload : throw new NetlinkParseException($"WireGuard key attribute {attr.Type}: {attr.Payload.Length} bytes, not 32");
}
