using System.Buffers.Binary;
using System.Net;
using Aether.Netlink;
using Aether.Netlink.Protocol;
using Aether.Netlink.Tests.Fixtures;
using Aether.WireGuard.Kernel;

namespace Aether.WireGuard.Tests.Kernel;

/// <summary>
/// The kernel backend's generic netlink messages against byte fixtures. The requests were captured from wg(8)
/// (wireguard-tools v1.0.20210914) with its netlink socket answered by a stand-in (Fixtures/capture), so "Aether
/// writes what wg writes" is checked byte for byte; the get reply was assembled from wireguard.h's layout and checked
/// by having wg(8) read it (the expected values below are what `wg show dump` printed). Each fixture file says how.
/// </summary>
public sealed class KernelFixtureTests
{
    private const ushort Family = 0x1c; // the id the stand-in gave the family
    private const string Device = "aetfix0";

    private static readonly WireGuardSecretKey Private = WireGuardSecretKey.FromBytes(Bytes(0x10));
    private static readonly WireGuardSecretKey Psk = WireGuardSecretKey.FromBytes(Bytes(0x40));
    private static readonly WireGuardKey Peer1 = WireGuardKey.FromBytes(Bytes(0x60));
    private static readonly WireGuardKey Peer2 = WireGuardKey.FromBytes(Bytes(0x80));
    private static readonly WireGuardKey Peer3 = WireGuardKey.FromBytes(Bytes(0xa0));

    [Fact]
    public void Get_request_is_the_one_wg_sends()
    {
        var captured = Hex.Load("wg_get_request.hex");
        var written = Wire.Emit((ref NetlinkWriter w) => WgDevice.WriteGet(ref w, Family, Device, Sequence(captured), 0));
        Assert.Equal(Hex.Format(captured), Hex.Format(written));
    }

    [Fact]
    public void Set_request_is_the_one_wg_set_sends()
    {
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = Private,
            ListenPort = 51820,
            FirewallMark = 0x2a,
            Peers =
            [
                new WireGuardPeerConfig(Peer1)
                {
                    PresharedKey = Psk,
                    Endpoint = IPEndPoint.Parse("10.0.0.2:51820"),
                    PersistentKeepaliveInterval = 25,
                    ReplaceAllowedIPs = true,
                    AllowedIPs = [IPPrefix.Parse("10.1.0.0/24"), IPPrefix.Parse("fd00::/64")],
                },
                new WireGuardPeerConfig(Peer2) { Remove = true },
                new WireGuardPeerConfig(Peer3)
                {
                    Endpoint = IPEndPoint.Parse("[fd00::2]:51821"),
                    ReplaceAllowedIPs = true,
                    AllowedIPs = [IPPrefix.Parse("10.2.0.1/32")],
                },
            ],
        };

        AssertWritesAsCaptured("wg_set_request.hex", config, WgDevice.DefaultMaxMessage);
    }

    [Fact]
    public void Setconf_request_replaces_peers_as_wg_setconf_does()
    {
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = Private,
            ListenPort = 51821,
            FirewallMark = 0,
            ReplacePeers = true,
            Peers = [new WireGuardPeerConfig(Peer1) { ReplaceAllowedIPs = true, AllowedIPs = [IPPrefix.Parse("10.3.0.0/16")] }],
        };

        AssertWritesAsCaptured("wg_setconf_request.hex", config, WgDevice.DefaultMaxMessage);
    }

    [Fact]
    public void A_change_too_large_for_one_message_is_split_where_wg_splits_it()
    {
        // wg(8) fills messages up to a page (4096 bytes); with the same limit the split lands on the same bytes.
        var config = new WireGuardDeviceConfig
        {
            Peers =
            [
                new WireGuardPeerConfig(Peer1)
                {
                    Endpoint = IPEndPoint.Parse("10.0.0.2:51820"),
                    ReplaceAllowedIPs = true,
                    AllowedIPs = Enumerable.Range(0, 300).Select(i => IPPrefix.Parse($"10.{i / 250}.{i % 250}.0/24")).ToArray(),
                },
                new WireGuardPeerConfig(Peer3) { ReplaceAllowedIPs = true, AllowedIPs = [IPPrefix.Parse("10.200.0.1/32")] },
            ],
        };

        AssertWritesAsCaptured("wg_set_large_request.hex", config, 4096);
    }

    [Fact]
    public void Get_reply_in_two_messages_reads_as_wg_reads_it()
    {
        var bytes = Hex.Load("wg_get_reply.hex");
        var parts = new List<WgDeviceMessage>();
        foreach (var message in new NetlinkMessageEnumerator(bytes))
        {
            Assert.True(WgDevice.TryParse(message, out var part));
            parts.Add(part);
        }

        Assert.Equal(2, parts.Count);
        var device = WgDevice.Coalesce(parts);

        // What `wg show aetfix0 dump` printed for these bytes.
        var expected = new WireGuardDevice
        {
            Name = Device,
            Index = 7,
            PrivateKey = WireGuardSecretKey.Parse("EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8="),
            PublicKey = WireGuardKey.Parse("2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y="),
            ListenPort = 51820,
            FirewallMark = 0x2a,
            Peers =
            [
                new WireGuardPeer
                {
                    PublicKey = WireGuardKey.Parse("YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8="),
                    PresharedKey = WireGuardSecretKey.Parse("QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="),
                    Endpoint = IPEndPoint.Parse("10.0.0.2:51820"),
                    AllowedIPs = [IPPrefix.Parse("10.1.0.0/24"), IPPrefix.Parse("fd00::/64"), IPPrefix.Parse("10.4.0.0/16")],
                    LatestHandshake = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddMilliseconds(500),
                    ReceivedBytes = 5678,
                    SentBytes = 1234,
                    PersistentKeepaliveInterval = 25,
                    ProtocolVersion = 1,
                },
                new WireGuardPeer
                {
                    PublicKey = WireGuardKey.Parse("oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="),
                    Endpoint = IPEndPoint.Parse("[fd00::2]:51821"),
                    AllowedIPs = [IPPrefix.Parse("10.2.0.1/32")],
                    ProtocolVersion = 1,
                },
            ],
        };
        Assert.Equal(expected, device);
        Assert.Equal(Private.GetPublicKey(), device.PublicKey); // the fixture's public key is X25519 of its private key
    }

    [Fact]
    public void A_continuation_without_a_name_joins_and_a_message_about_another_device_is_refused()
    {
        var first = new WgDeviceMessage(new WireGuardDevice { Name = Device, ListenPort = 1 }, [new WireGuardPeer { PublicKey = Peer1, AllowedIPs = [IPPrefix.Parse("10.0.0.0/8")] }]);
        var nameless = new WgDeviceMessage(new WireGuardDevice { Name = string.Empty }, [new WireGuardPeer { PublicKey = Peer1, AllowedIPs = [IPPrefix.Parse("10.1.0.0/16")] }, new WireGuardPeer { PublicKey = Peer3 }]);
        var device = WgDevice.Coalesce([first, nameless]);
        Assert.Equal(1, device.ListenPort);
        Assert.Equal([Peer1, Peer3], device.Peers.Select(p => p.PublicKey));
        Assert.Equal(2, device.Peers[0].AllowedIPs.Count);

        var other = new WgDeviceMessage(new WireGuardDevice { Name = "wg9" }, []);
        Assert.Throws<NetlinkParseException>(() => WgDevice.Coalesce([first, other]));
        Assert.Throws<NetlinkParseException>(() => WgDevice.Coalesce([]));
    }

    [Fact]
    public void Every_split_message_fits_and_together_they_carry_the_whole_change()
    {
        var many = Enumerable.Range(0, 2000).Select(i => new IPPrefix(new IPAddress(BitConverter.GetBytes(0x0a000000 + (i << 8)).Reverse().ToArray()), 24)).ToArray();
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = Private,
            ReplacePeers = true,
            Peers =
            [
                new WireGuardPeerConfig(Peer1) { PresharedKey = Psk, ReplaceAllowedIPs = true, UpdateOnly = true, AllowedIPs = many },
                new WireGuardPeerConfig(Peer2) { Remove = true },
                new WireGuardPeerConfig(Peer3) { AllowedIPs = many[..10] },
            ],
        };

        foreach (var max in new[] { 512, 1000, 4096, 16384 })
        {
            var plan = WgDevice.Plan(Device, config, max);
            var seen = new Dictionary<WireGuardKey, List<IPPrefix>>();
            var firsts = new List<WireGuardKey>();
            for (var m = 0; m < plan.Count; m++)
            {
                var bytes = Wire.Emit((ref NetlinkWriter w) => WgDevice.WriteSet(ref w, Family, Device, config, plan[m], 1, 0));
                Assert.True(bytes.Length <= max, $"message {m} is {bytes.Length} bytes, over {max}");
                Assert.Equal(m == 0, plan[m].DeviceFields);
                foreach (var fragment in plan[m].Peers)
                {
                    if (fragment.First)
                    {
                        firsts.Add(fragment.Peer.PublicKey);
                    }

                    var list = seen.TryGetValue(fragment.Peer.PublicKey, out var l) ? l : seen[fragment.Peer.PublicKey] = [];
                    list.AddRange(fragment.Peer.AllowedIPs.Skip(fragment.AllowedFrom).Take(fragment.AllowedCount));
                }
            }

            Assert.Equal([Peer1, Peer2, Peer3], firsts);
            Assert.Equal(many, seen[Peer1]);
            Assert.Empty(seen[Peer2]);
            Assert.Equal(many[..10], seen[Peer3]);
            Assert.True(plan.Count >= (max < 16384 ? 2 : 1));
        }
    }

    private static void AssertWritesAsCaptured(string fixture, WireGuardDeviceConfig config, int maxMessage)
    {
        var captured = Hex.Load(fixture);
        var sequences = new List<uint>();
        foreach (var message in new NetlinkMessageEnumerator(captured))
        {
            sequences.Add(message.Header.Sequence);
        }

        var plan = WgDevice.Plan(Device, config, maxMessage);
        Assert.Equal(sequences.Count, plan.Count);
        var written = plan.SelectMany((m, i) => Wire.Emit((ref NetlinkWriter w) => WgDevice.WriteSet(ref w, Family, Device, config, m, sequences[i], 0))).ToArray();
        Assert.Equal(Hex.Format(captured), Hex.Format(written));
    }

    private static uint Sequence(byte[] message) => BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8));

    private static byte[] Bytes(int start) => Enumerable.Range(start, 32).Select(b => (byte)b).ToArray();
}
