using System.Globalization;
using System.Text;
using Aether.Netlink;

namespace Aether.WireGuard;

/// <summary>
/// A wg-quick(8) configuration file: an <c>[Interface]</c> section and <c>[Peer]</c> sections of <c>Key = Value</c>
/// lines, keys case-insensitive as wg reads them, <c>#</c> comments, values split on commas where wg-quick does
/// (Address, AllowedIPs, DNS). Read with every line checked (a bad value or an unknown key names its line), written
/// back the way wg-quick's own examples are laid out. wg-quick-only keys that describe the host (DNS, Table, MTU,
/// PreUp, PostUp, PreDown, PostDown, SaveConfig) are kept by name in <see cref="HostKeys"/> so that a reader that
/// does not apply them can say so.
/// </summary>
public sealed record WgQuickConfig
{
    private static readonly string[] HostKeyNames = ["DNS", "Table", "MTU", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"];

    /// <summary>The interface's private key, or null when the file has none (a template for someone else's key).</summary>
    public WireGuardSecretKey? PrivateKey { get; init; }

    /// <summary>The interface's UDP port, or null for a random one.</summary>
    public int? ListenPort { get; init; }

    /// <summary>The interface's firewall mark, or null for none.</summary>
    public uint? FwMark { get; init; }

    /// <summary>The addresses wg-quick gives the interface.</summary>
    public IReadOnlyList<IPPrefix> Addresses { get; init; } = [];

    /// <summary>The peers, in file order.</summary>
    public IReadOnlyList<WgQuickPeer> Peers { get; init; } = [];

    /// <summary>The wg-quick keys of the <c>[Interface]</c> that act on the host, not on the device, with their values
    /// (in file order).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> HostKeys { get; init; } = [];

    /// <summary>Reads a configuration.</summary>
    /// <exception cref="FormatException">A line that is not a section, a comment or <c>Key = Value</c>, an unknown key,
    /// a bad value, a key outside a section, or no <c>[Interface]</c>: the message starts with <c>line N:</c>.</exception>
    public static WgQuickConfig Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var config = new WgQuickConfig();
        var peers = new List<WgQuickPeer>();
        var addresses = new List<IPPrefix>();
        var host = new List<KeyValuePair<string, string>>();
        WgQuickPeer? peer = null;
        var peerLine = 0;
        string? section = null;
        var sawInterface = false;
        var number = 0;
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            number++;
            var line = (raw.IndexOf('#', StringComparison.Ordinal) is var hash and >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                Close();
                section = line[1..^1].Trim();
                if (string.Equals(section, "Interface", StringComparison.OrdinalIgnoreCase))
                {
                    sawInterface = sawInterface ? throw Bad(number, "a second [Interface] section") : true;
                }
                else if (string.Equals(section, "Peer", StringComparison.OrdinalIgnoreCase))
                {
                    peer = new WgQuickPeer(default);
                    peerLine = number;
                }
                else
                {
                    throw Bad(number, $"unknown section [{section}]: wg-quick has [Interface] and [Peer]");
                }

                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Bad(number, $"'{line}' is not a section or Key = Value");
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (section is null)
            {
                throw Bad(number, $"{key} is outside any section");
            }

            if (peer is null)
            {
                config = Interface(config, key, value, number, addresses, host);
            }
            else
            {
                peer = Peer(peer, key, value, number);
            }
        }

        Close();
        return !sawInterface
            ? throw new FormatException("no [Interface] section")
            : config with { Addresses = addresses, Peers = peers, HostKeys = host };

        void Close()
        {
            if (peer is not null)
            {
                peers.Add(peer.PublicKey.IsZero ? throw Bad(peerLine, "a [Peer] without PublicKey") : peer);
                peer = null;
            }
        }
    }

    /// <summary>The configuration as wg-quick reads it. <paramref name="comment"/> lines go first, each after
    /// <c># </c>; with <see cref="PrivateKey"/> null, <paramref name="missingPrivateKey"/> is written as a comment in its
    /// place.</summary>
    public string ToText(IEnumerable<string>? comment = null, string? missingPrivateKey = null)
    {
        var text = new StringBuilder();
        foreach (var line in comment ?? [])
        {
            text.Append("# ").Append(line).Append('\n');
        }

        text.Append("[Interface]\n");
        if (PrivateKey is { } key)
        {
            text.Append("PrivateKey = ").Append(key.ToBase64()).Append('\n');
        }
        else if (missingPrivateKey is not null)
        {
            text.Append("# PrivateKey = ").Append(missingPrivateKey).Append('\n');
        }

        Line(text, "Address", Addresses.Count == 0 ? null : string.Join(", ", Addresses));
        Line(text, "ListenPort", ListenPort?.ToString(CultureInfo.InvariantCulture));
        Line(text, "FwMark", FwMark?.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in HostKeys)
        {
            Line(text, name, value);
        }

        foreach (var peer in Peers)
        {
            text.Append("\n[Peer]\n");
            foreach (var line in peer.Comment)
            {
                text.Append("# ").Append(line).Append('\n');
            }

            text.Append("PublicKey = ").Append(peer.PublicKey.ToString()).Append('\n');
            Line(text, "PresharedKey", peer.PresharedKey?.ToBase64());
            Line(text, "Endpoint", peer.Endpoint);
            Line(text, "AllowedIPs", string.Join(", ", peer.AllowedIps));
            Line(text, "PersistentKeepalive", peer.PersistentKeepalive is > 0 ? peer.PersistentKeepalive.ToString(CultureInfo.InvariantCulture) : null);
        }

        return text.ToString();
    }

    private static void Line(StringBuilder text, string key, string? value)
    {
        if (value is { Length: > 0 })
        {
            text.Append(key).Append(" = ").Append(value).Append('\n');
        }
    }

    private static WgQuickConfig Interface(WgQuickConfig config, string key, string value, int number, List<IPPrefix> addresses, List<KeyValuePair<string, string>> host)
    {
        switch (key.ToUpperInvariant())
        {
            case "PRIVATEKEY":
                return WireGuardSecretKey.TryParse(value, out var secret) ? config with { PrivateKey = secret } : throw Bad(number, "PrivateKey is not a WireGuard key (44 characters of base64, as wg genkey prints)");
            case "LISTENPORT":
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 ? config with { ListenPort = port } : throw Bad(number, $"ListenPort '{value}' is not a port (0 to 65535)");
            case "FWMARK":
                return string.Equals(value, "off", StringComparison.OrdinalIgnoreCase) ? config with { FwMark = 0 }
                    : uint.TryParse(value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var mark)
                        ? config with { FwMark = mark } : throw Bad(number, $"FwMark '{value}' is not a number");
            case "ADDRESS":
                foreach (var part in Split(value))
                {
                    addresses.Add(IPPrefix.TryParse(part.Contains('/', StringComparison.Ordinal) ? part : part + (part.Contains(':', StringComparison.Ordinal) ? "/128" : "/32"), out var prefix, out _)
                        ? prefix : throw Bad(number, $"Address '{part}' is not an address such as 10.1.0.2/24"));
                }

                return config;
            default:
                var name = HostKeyNames.FirstOrDefault(n => string.Equals(n, key, StringComparison.OrdinalIgnoreCase));
                host.Add(new(name ?? throw Bad(number, $"unknown key {key} in [Interface]"), value));
                return config;
        }
    }

    private static WgQuickPeer Peer(WgQuickPeer peer, string key, string value, int number)
    {
        switch (key.ToUpperInvariant())
        {
            case "PUBLICKEY":
                return WireGuardKey.TryParse(value, out var publicKey) && !publicKey.IsZero ? peer with { PublicKey = publicKey } : throw Bad(number, "PublicKey is not a WireGuard key (44 characters of base64, as wg pubkey prints)");
            case "PRESHAREDKEY":
                return WireGuardSecretKey.TryParse(value, out var psk) ? peer with { PresharedKey = psk } : throw Bad(number, "PresharedKey is not a WireGuard key (44 characters of base64, as wg genpsk prints)");
            case "ENDPOINT":
                var colon = value.LastIndexOf(':');
                return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535
                    ? peer with { Endpoint = value } : throw Bad(number, $"Endpoint '{value}' is not HOST:PORT");
            case "ALLOWEDIPS":
                var allowed = peer.AllowedIps.ToList();
                foreach (var part in Split(value))
                {
                    allowed.Add(IPPrefix.TryParse(part, out var prefix, out _) && part.Contains('/', StringComparison.Ordinal) ? prefix : throw Bad(number, $"AllowedIPs '{part}' is not a prefix such as 10.1.0.0/24"));
                }

                return peer with { AllowedIps = allowed };
            case "PERSISTENTKEEPALIVE":
                return string.Equals(value, "off", StringComparison.OrdinalIgnoreCase) ? peer with { PersistentKeepalive = 0 }
                    : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 65535 ? peer with { PersistentKeepalive = seconds }
                    : throw Bad(number, $"PersistentKeepalive '{value}' is not a number of seconds (0 to 65535) or off");
            default:
                throw Bad(number, $"unknown key {key} in [Peer]");
        }
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static FormatException Bad(int line, string message) => new(string.Create(CultureInfo.InvariantCulture, $"line {line}: {message}"));
}

/// <summary>One <c>[Peer]</c> of a <see cref="WgQuickConfig"/>.</summary>
/// <param name="PublicKey">The peer's public key.</param>
public sealed record WgQuickPeer(WireGuardKey PublicKey)
{
    /// <summary>The preshared key, or null.</summary>
    public WireGuardSecretKey? PresharedKey { get; init; }

    /// <summary>The endpoint as written (<c>HOST:PORT</c>, <c>[IPv6]:PORT</c>), or null.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The allowed IPs.</summary>
    public IReadOnlyList<IPPrefix> AllowedIps { get; init; } = [];

    /// <summary>The persistent keepalive in seconds; 0 is off.</summary>
    public int PersistentKeepalive { get; init; }

    /// <summary>Comment lines written at the top of the section (not read back).</summary>
    public IReadOnlyList<string> Comment { get; init; } = [];
}
