using System.Net;
using Aether.Netlink;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.WireGuard.Tests.Uapi;

/// <summary>Random devices, peers and changes for the property tests.</summary>
internal static class Generators
{
    public static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    public static readonly Gen<byte[]> KeyBytes = Gen.ArrayOf(AnyByte, 32);

    public static readonly Gen<WireGuardKey> PublicKey = KeyBytes.Select(b => WireGuardKey.FromBytes(b));

    public static readonly Gen<WireGuardSecretKey> SecretKey =
        Gen.Frequency((1, Gen.Constant(WireGuardSecretKey.Zero)), (4, KeyBytes.Select(b => WireGuardSecretKey.FromBytes(b))));

    public static readonly Gen<IPAddress> Address = Gen.OneOf(
        Gen.ArrayOf(AnyByte, 4).Select(b => new IPAddress(b)),
        Gen.ArrayOf(AnyByte, 16).Select(b => new IPAddress(b)));

    public static readonly Gen<IPPrefix> Prefix =
        from address in Address
        from length in Gen.Choose(0, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
        select new IPPrefix(address, length);

    /// <summary>Prefixes as devices report them: host bits cleared.</summary>
    public static readonly Gen<IPPrefix> Network = Prefix.Select(p => new IPPrefix(p.Network, p.PrefixLength));

    public static readonly Gen<IPEndPoint> Endpoint =
        from address in Address
        from port in Gen.Choose(1, 65535)
        select new IPEndPoint(address, port);

    public static readonly Gen<DateTimeOffset?> Handshake = Gen.Frequency(
        (1, Gen.Constant<DateTimeOffset?>(null)),
        (3, Gen.Choose(1, int.MaxValue).SelectMany(s => Gen.Choose(0, 9_999_999).Select(t => (DateTimeOffset?)DateTimeOffset.UnixEpoch.AddSeconds(s).AddTicks(t)))));

    public static readonly Gen<ulong> Counter = Gen.Frequency(
        (1, Gen.Constant(0UL)),
        (2, Gen.Choose(0, int.MaxValue).Select(x => (ulong)x)),
        (1, Gen.Choose(0, int.MaxValue).Select(x => ulong.MaxValue - (ulong)x)));

    public static readonly Gen<WireGuardPeer> Peer =
        from key in PublicKey
        from psk in SecretKey
        from endpoint in Gen.Frequency((1, Gen.Constant<IPEndPoint?>(null)), (3, Endpoint.Select(e => (IPEndPoint?)e)))
        from keepalive in Gen.Choose(0, 65535)
        from handshake in Handshake
        from rx in Counter
        from tx in Counter
        from allowed in Gen.Choose(0, 6).SelectMany(n => Gen.ListOf(Network, n))
        select new WireGuardPeer
        {
            PublicKey = key,
            PresharedKey = psk,
            Endpoint = endpoint,
            PersistentKeepaliveInterval = (ushort)keepalive,
            LatestHandshake = handshake,
            ReceivedBytes = rx,
            SentBytes = tx,
            AllowedIPs = allowed.ToArray(),
            ProtocolVersion = 1,
        };

    public static readonly Gen<WireGuardDevice> Device =
        from privateKey in SecretKey
        from port in Gen.Choose(0, 65535)
        from mark in Gen.Frequency((2, Gen.Constant(0u)), (1, Gen.Choose(0, int.MaxValue).Select(x => (uint)x * 2)))
        from peers in Gen.Choose(0, 5).SelectMany(n => Gen.ListOf(Peer, n))
        select new WireGuardDevice
        {
            Name = "wg0",
            PrivateKey = privateKey,
            PublicKey = privateKey.IsZero ? null : privateKey.GetPublicKey(),
            ListenPort = (ushort)port,
            FirewallMark = mark,
            Peers = peers.DistinctBy(p => p.PublicKey).ToArray(),
        };

    public static readonly Gen<WireGuardPeerConfig> PeerConfig =
        from key in PublicKey
        from remove in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from updateOnly in Gen.Elements(true, false)
        from psk in Gen.Frequency((1, Gen.Constant<WireGuardSecretKey?>(null)), (1, SecretKey.Select(k => (WireGuardSecretKey?)k)))
        from endpoint in Gen.Frequency((1, Gen.Constant<IPEndPoint?>(null)), (1, Endpoint.Select(e => (IPEndPoint?)e)))
        from keepalive in Gen.Frequency((1, Gen.Constant<ushort?>(null)), (1, Gen.Choose(0, 65535).Select(k => (ushort?)k)))
        from replace in Gen.Elements(true, false)
        from allowed in Gen.Choose(0, 5).SelectMany(n => Gen.ListOf(Prefix, n))
        select remove
            ? new WireGuardPeerConfig(key) { Remove = true }
            : new WireGuardPeerConfig(key)
            {
                UpdateOnly = updateOnly,
                PresharedKey = psk,
                Endpoint = endpoint,
                PersistentKeepaliveInterval = keepalive,
                ReplaceAllowedIPs = replace,
                AllowedIPs = allowed.ToArray(),
            };

    public static readonly Gen<WireGuardDeviceConfig> Config =
        from privateKey in Gen.Frequency((1, Gen.Constant<WireGuardSecretKey?>(null)), (1, SecretKey.Select(k => (WireGuardSecretKey?)k)))
        from port in Gen.Frequency((1, Gen.Constant<ushort?>(null)), (1, Gen.Choose(0, 65535).Select(p => (ushort?)p)))
        from mark in Gen.Frequency((1, Gen.Constant<uint?>(null)), (1, Gen.Choose(0, int.MaxValue).Select(m => (uint?)m)))
        from replace in Gen.Elements(true, false)
        from peers in Gen.Choose(0, 5).SelectMany(n => Gen.ListOf(PeerConfig, n))
        select new WireGuardDeviceConfig
        {
            PrivateKey = privateKey,
            ListenPort = port,
            FirewallMark = mark,
            ReplacePeers = replace,
            Peers = peers.Where(p => !p.PublicKey.IsZero).DistinctBy(p => p.PublicKey).ToArray(),
        };
}
