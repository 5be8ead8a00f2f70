using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using Aether.Netlink;

namespace Aether.WireGuard.Userspace;

/// <summary>
/// The cross-platform configuration protocol that wireguard-go serves and wg(8) speaks on
/// <c>/var/run/wireguard/NAME.sock</c>: <c>get=1</c> answered by <c>key=value</c> lines, <c>set=1</c> followed by
/// them, each exchange ending with <c>errno=N</c> and a blank line. Keys are lowercase hex here, base64 nowhere.
/// Pure text in, text out: the socket is <see cref="UapiClient"/>'s. The set text holds secrets: never log it.
/// </summary>
public static class UapiProtocol
{
    /// <summary>Keys longer than this, or values, are not the protocol.</summary>
    private const int MaxLineLength = 4096;

    /// <summary>The request for a device's configuration and status.</summary>
    public const string GetRequest = "get=1\n\n";

    /// <summary>The text of a <c>set=1</c> request for <paramref name="config"/>, blank line included.</summary>
    /// <exception cref="ArgumentException">The change is invalid (see <see cref="WireGuardDeviceConfig.Validate"/>).</exception>
    public static string FormatSet(WireGuardDeviceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var sb = new StringBuilder("set=1\n");
        if (config.PrivateKey is { } privateKey)
        {
            Line(sb, "private_key", privateKey.ToHex());
        }

        if (config.ListenPort is ushort port)
        {
            Line(sb, "listen_port", port.ToString(CultureInfo.InvariantCulture));
        }

        if (config.FirewallMark is uint mark)
        {
            Line(sb, "fwmark", mark.ToString(CultureInfo.InvariantCulture));
        }

        if (config.ReplacePeers)
        {
            Line(sb, "replace_peers", "true");
        }

        foreach (var peer in config.Peers)
        {
            Line(sb, "public_key", peer.PublicKey.ToHex());
            if (peer.Remove)
            {
                Line(sb, "remove", "true");
                continue;
            }

            if (peer.UpdateOnly)
            {
                // Right after public_key: wireguard-go undoes the creation the public_key line just made.
                Line(sb, "update_only", "true");
            }

            if (peer.PresharedKey is { } psk)
            {
                Line(sb, "preshared_key", psk.ToHex());
            }

            if (peer.Endpoint is { } endpoint)
            {
                Line(sb, "endpoint", FormatEndpoint(endpoint));
            }

            if (peer.PersistentKeepaliveInterval is ushort keepalive)
            {
                Line(sb, "persistent_keepalive_interval", keepalive.ToString(CultureInfo.InvariantCulture));
            }

            if (peer.ReplaceAllowedIPs)
            {
                Line(sb, "replace_allowed_ips", "true");
            }

            foreach (var prefix in peer.AllowedIPs)
            {
                Line(sb, "allowed_ip", FormatPrefix(prefix));
            }
        }

        return sb.Append('\n').ToString();
    }

    /// <summary>What a device answers to <c>get=1</c> for <paramref name="device"/> (fields the protocol omits when
    /// zero are omitted), <c>errno=0</c> and the blank line included. The device side of the protocol: for tests
    /// and fakes.</summary>
    public static string FormatGet(WireGuardDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var sb = new StringBuilder();
        if (!device.PrivateKey.IsZero)
        {
            Line(sb, "private_key", device.PrivateKey.ToHex());
        }

        if (device.ListenPort != 0)
        {
            Line(sb, "listen_port", device.ListenPort.ToString(CultureInfo.InvariantCulture));
        }

        if (device.FirewallMark != 0)
        {
            Line(sb, "fwmark", device.FirewallMark.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var peer in device.Peers)
        {
            Line(sb, "public_key", peer.PublicKey.ToHex());
            Line(sb, "preshared_key", peer.PresharedKey.ToHex());
            Line(sb, "protocol_version", peer.ProtocolVersion.ToString(CultureInfo.InvariantCulture));
            if (peer.Endpoint is { } endpoint)
            {
                Line(sb, "endpoint", FormatEndpoint(endpoint));
            }

            var nanos = peer.LatestHandshake is { } when ? (when - DateTimeOffset.UnixEpoch).Ticks * 100 : 0;
            Line(sb, "last_handshake_time_sec", (nanos / 1_000_000_000).ToString(CultureInfo.InvariantCulture));
            Line(sb, "last_handshake_time_nsec", (nanos % 1_000_000_000).ToString(CultureInfo.InvariantCulture));
            Line(sb, "tx_bytes", peer.SentBytes.ToString(CultureInfo.InvariantCulture));
            Line(sb, "rx_bytes", peer.ReceivedBytes.ToString(CultureInfo.InvariantCulture));
            Line(sb, "persistent_keepalive_interval", peer.PersistentKeepaliveInterval.ToString(CultureInfo.InvariantCulture));
            foreach (var prefix in peer.AllowedIPs)
            {
                Line(sb, "allowed_ip", FormatPrefix(prefix));
            }
        }

        return sb.Append("errno=0\n\n").ToString();
    }

    /// <summary>The <c>errno=N</c> of a <c>set=1</c> answer, as a positive errno (wireguard-go sends it negated).</summary>
    /// <exception cref="FormatException">The answer is not <c>errno=N</c> and a blank line.</exception>
    public static int ParseSetResponse(string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var lines = Lines(response);
        if (lines.Count != 1 || !string.Equals(lines[0].Key, "errno", StringComparison.Ordinal))
        {
            throw new FormatException($"UAPI: a set answer is one errno line, got {lines.Count} line(s)");
        }

        return Errno(lines[0]);
    }

    /// <summary>Decodes a <c>get=1</c> answer into the device named <paramref name="name"/>.</summary>
    /// <param name="name">The device's name (the protocol does not carry it).</param>
    /// <param name="response">Everything the device sent, up to and including the blank line.</param>
    /// <param name="errno">The answer's errno (positive), 0 for success; the device is empty when it is not 0.</param>
    /// <exception cref="FormatException">The answer is not the protocol: a line without '=', a bad key, number,
    /// endpoint or prefix, a peer field before any peer, no errno line.</exception>
    public static WireGuardDevice ParseGet(string name, string response, out int errno)
    {
        ArgumentNullException.ThrowIfNull(response);
        var lines = Lines(response);
        if (lines.Count == 0 || !string.Equals(lines[^1].Key, "errno", StringComparison.Ordinal))
        {
            throw new FormatException("UAPI: the answer does not end with an errno line");
        }

        errno = Errno(lines[^1]);
        var device = new WireGuardDevice { Name = name };
        if (errno != 0)
        {
            return device;
        }

        var peers = new List<WireGuardPeer>();
        PeerBuilder? peer = null;
        for (var i = 0; i < lines.Count - 1; i++)
        {
            var (key, value) = lines[i];
            switch (key)
            {
                case "private_key":
                    var privateKey = SecretKey(key, value);
                    device = device with { PrivateKey = privateKey, PublicKey = privateKey.IsZero ? null : privateKey.GetPublicKey() };
                    break;
                case "listen_port":
                    device = device with { ListenPort = Number<ushort>(key, value) };
                    break;
                case "fwmark":
                    device = device with { FirewallMark = Number<uint>(key, value) };
                    break;
                case "public_key":
                    if (peer is not null)
                    {
                        peers.Add(peer.Build());
                    }

                    peer = new PeerBuilder(PublicKey(key, value));
                    break;
                case "errno":
                    throw new FormatException("UAPI: errno before the end of the answer");
                default:
                    if (peer is null)
                    {
                        // A device field this library does not know (a newer or a forked wireguard-go): kept out,
                        // never fatal, as a newer kernel's attributes are.
                        if (IsPeerKey(key))
                        {
                            throw new FormatException($"UAPI: '{key}' before any public_key");
                        }

                        break;
                    }

                    peer.Set(key, value);
                    break;
            }
        }

        if (peer is not null)
        {
            peers.Add(peer.Build());
        }

        return device with { Peers = peers };
    }

    /// <summary>Decodes a <c>set=1</c> request into the change it asks for (the device side: tests and fakes).</summary>
    /// <exception cref="FormatException">Not a set request of this protocol.</exception>
    public static WireGuardDeviceConfig ParseSet(string request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.StartsWith("set=1\n", StringComparison.Ordinal))
        {
            throw new FormatException("UAPI: a set request starts with set=1");
        }

        var config = new WireGuardDeviceConfig();
        var peers = new List<WireGuardPeerConfig>();
        WireGuardPeerConfig? peer = null;
        foreach (var (key, value) in Lines(request["set=1\n".Length..]))
        {
            if (string.Equals(key, "public_key", StringComparison.Ordinal))
            {
                if (peer is not null)
                {
                    peers.Add(peer);
                }

                peer = new WireGuardPeerConfig(PublicKey(key, value));
                continue;
            }

            if (peer is null)
            {
                config = key switch
                {
                    "private_key" => config with { PrivateKey = SecretKey(key, value) },
                    "listen_port" => config with { ListenPort = Number<ushort>(key, value) },
                    "fwmark" => config with { FirewallMark = Number<uint>(key, value) },
                    "replace_peers" => config with { ReplacePeers = True(key, value) },
                    _ => throw new FormatException($"UAPI: invalid device key '{Clip(key)}'"),
                };
                continue;
            }

            peer = key switch
            {
                "remove" => peer with { Remove = True(key, value) },
                "update_only" => peer with { UpdateOnly = True(key, value) },
                "preshared_key" => peer with { PresharedKey = SecretKey(key, value) },
                "endpoint" => peer with { Endpoint = Endpoint(value) },
                "persistent_keepalive_interval" => peer with { PersistentKeepaliveInterval = Number<ushort>(key, value) },
                "replace_allowed_ips" => peer with { ReplaceAllowedIPs = True(key, value) },
                "allowed_ip" => peer with { AllowedIPs = [.. peer.AllowedIPs, Prefix(value)] },
                "protocol_version" => string.Equals(value, "1", StringComparison.Ordinal) ? peer : throw new FormatException($"UAPI: protocol_version {Clip(value)}, only 1 exists"),
                _ => throw new FormatException($"UAPI: invalid peer key '{Clip(key)}'"),
            };
        }

        if (peer is not null)
        {
            peers.Add(peer);
        }

        return config with { Peers = peers };
    }

    /// <summary><c>1.2.3.4:51820</c> or <c>[fd00::1]:51820</c>, as wireguard-go parses and prints endpoints.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{endpoint.Address}]:{endpoint.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{endpoint.Address}:{endpoint.Port}");
    }

    /// <summary>Parses <c>1.2.3.4:51820</c> or <c>[fd00::1]:51820</c> (a port is required, IPv4 in four parts).</summary>
    /// <exception cref="FormatException">Anything else.</exception>
    public static IPEndPoint Endpoint(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"UAPI: endpoint '{Clip(text)}' has no ]:port");
            }

            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                throw new FormatException($"UAPI: endpoint '{Clip(text)}' has no port");
            }

            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal) || host.AsSpan().Count('.') != 3)
            {
                throw new FormatException($"UAPI: endpoint '{Clip(text)}' is not IPv4 a.b.c.d:port or [IPv6]:port");
            }
        }

        if (!IPAddress.TryParse(host, out var address)
            || (text.StartsWith('[') != (address.AddressFamily == AddressFamily.InterNetworkV6))
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new FormatException($"UAPI: endpoint '{Clip(text)}' is not an address and a port in 1..65535");
        }

        return new IPEndPoint(address, number);
    }

    /// <summary>A prefix as the protocol writes it: its network address and length.</summary>
    public static string FormatPrefix(IPPrefix prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix.Network}/{prefix.PrefixLength}");

    private static bool IsPeerKey(string key) => key is "preshared_key" or "protocol_version" or "endpoint" or "last_handshake_time_sec"
        or "last_handshake_time_nsec" or "tx_bytes" or "rx_bytes" or "persistent_keepalive_interval" or "allowed_ip";

    private static void Line(StringBuilder sb, string key, string value) => sb.Append(key).Append('=').Append(value).Append('\n');

    /// <summary>Splits an exchange's text into key/value pairs up to the blank line that ends it.</summary>
    private static List<(string Key, string Value)> Lines(string text)
    {
        var lines = new List<(string, string)>();
        if (string.Equals(text, "\n", StringComparison.Ordinal))
        {
            return lines; // nothing before the blank line
        }

        var end = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (end < 0)
        {
            throw new FormatException("UAPI: the text does not end with a blank line");
        }

        if (end + 2 != text.Length)
        {
            throw new FormatException("UAPI: text after the blank line that ends the exchange");
        }

        foreach (var line in text[..end].Split('\n'))
        {
            if (line.Length > MaxLineLength)
            {
                throw new FormatException($"UAPI: a line of {line.Length} characters");
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"UAPI: line '{Clip(line)}' is not key=value");
            }

            lines.Add((line[..eq], line[(eq + 1)..]));
        }

        return lines;
    }

    private static int Errno((string Key, string Value) line)
    {
        if (!long.TryParse(line.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value is < -65535 or > 65535)
        {
            throw new FormatException($"UAPI: errno '{Clip(line.Value)}' is not a number");
        }

        return (int)Math.Abs(value);
    }

    private static T Number<T>(string key, string value)
        where T : IBinaryInteger<T>
    {
        return T.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"UAPI: {key} '{Clip(value)}' is not a number in range");
    }

    private static bool True(string key, string value) =>
        string.Equals(value, "true", StringComparison.Ordinal) ? true : throw new FormatException($"UAPI: {key} '{Clip(value)}': only 'true' is allowed");

    private static WireGuardKey PublicKey(string key, string value) =>
        WireGuardKey.TryParseHex(value, out var k) ? k : throw new FormatException($"UAPI: {key} is not 64 hex digits");

    private static WireGuardSecretKey SecretKey(string key, string value) =>
        WireGuardSecretKey.TryParseHex(value, out var k) ? k : throw new FormatException($"UAPI: {key} is not 64 hex digits"); // never quote a secret

    private static IPPrefix Prefix(string value)
    {
        if (!IPPrefix.TryParse(value, out var prefix, out var error) || !value.Contains('/', StringComparison.Ordinal))
        {
            throw new FormatException("UAPI: allowed_ip: " + (error ?? $"'{Clip(value)}' has no prefix length"));
        }

        return new IPPrefix(prefix.Network, prefix.PrefixLength);
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "…";

    /// <summary>Collects one peer's lines.</summary>
    private sealed class PeerBuilder(WireGuardKey publicKey)
    {
        private readonly List<IPPrefix> _allowed = [];
        private WireGuardPeer _peer = new() { PublicKey = publicKey };
        private long _seconds;
        private long _nanoseconds;

        public void Set(string key, string value)
        {
            switch (key)
            {
                case "preshared_key": _peer = _peer with { PresharedKey = SecretKey(key, value) }; break;
                case "protocol_version": _peer = _peer with { ProtocolVersion = Number<int>(key, value) }; break;
                case "endpoint": _peer = _peer with { Endpoint = Endpoint(value) }; break;
                case "last_handshake_time_sec": _seconds = Number<long>(key, value); break;
                case "last_handshake_time_nsec": _nanoseconds = Number<long>(key, value); break;
                case "tx_bytes": _peer = _peer with { SentBytes = Number<ulong>(key, value) }; break;
                case "rx_bytes": _peer = _peer with { ReceivedBytes = Number<ulong>(key, value) }; break;
                case "persistent_keepalive_interval": _peer = _peer with { PersistentKeepaliveInterval = Number<ushort>(key, value) }; break;
                case "allowed_ip": _allowed.Add(Prefix(value)); break;
                default: break; // a peer field this library does not know: ignored, as above
            }
        }

        public WireGuardPeer Build() => _peer with { LatestHandshake = Handshake(_seconds, _nanoseconds), AllowedIPs = _allowed };

        private static DateTimeOffset? Handshake(long seconds, long nanoseconds)
        {
            if (seconds == 0 && nanoseconds == 0)
            {
                return null;
            }

            const long maxSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z, DateTimeOffset's end
            if (seconds > maxSeconds || nanoseconds >= 1_000_000_000)
            {
                throw new FormatException($"UAPI: last handshake {seconds}.{nanoseconds:D9} is not a time");
            }

            return DateTimeOffset.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));
        }
    }
}
