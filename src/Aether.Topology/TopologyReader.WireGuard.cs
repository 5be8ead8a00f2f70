using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.WireGuard;

namespace Aether.Topology;

/// <summary>WireGuard links: keys (inline, from a file whose mode is checked, or generated later), port, mark and
/// peers; and the checks across links (a port twice in one namespace, a device name twice on the machine).</summary>
internal sealed partial class TopologyReader
{
    /// <summary>The longest key file read: a key is 44 characters and a newline.</summary>
    private const int MaxKeyFileBytes = 4096;

    /// <summary>Keys that only a WireGuard link takes.</summary>
    private static readonly string[] WireGuardOnlyKeys = ["privateKey", "privateKeyFile", "listenPort", "fwmark", "peers"];

    /// <summary>Where relative key files are looked up: the topology file's directory (the working directory for text
    /// given without a file).</summary>
    private string? _baseDirectory;

    private void ReadWireGuard(Fields fields, LinkDraft draft)
    {
        if (draft.Kind != TopologyLinkKind.WireGuard)
        {
            foreach (var key in WireGuardOnlyKeys)
            {
                if (draft.Kind is { } kind && fields.KeyNode(key) is { } keyNode)
                {
                    _errors.Add(keyNode, fields.PathOf(key), $"only for wireguard links, and this one is a {KindName(kind)}");
                }
            }

            return;
        }

        if (fields.KeyNode("master") is { } master)
        {
            _errors.Add(master, fields.PathOf("master"), "a WireGuard device carries IP packets, not frames: it cannot be a bridge port");
            draft.Master = null;
        }

        var wg = new WireGuardDraft();
        if (fields.Has("privateKey") && fields.Has("privateKeyFile"))
        {
            _errors.Add(fields.PathOf("privateKeyFile"), "give privateKey or privateKeyFile, not both");
        }
        else if (fields.String("privateKey") is { } inline)
        {
            if (!WireGuardSecretKey.TryParse(inline.Trim(), out var key) || key.IsZero)
            {
                _errors.Add(fields.PathOf("privateKey"), "not a WireGuard private key: 44 characters of base64 (as wg genkey prints), not all zero");
            }
            else
            {
                wg.PrivateKey = key;
            }
        }
        else if (KeyFile(fields, "privateKeyFile", "private key", "wg genkey") is { } fromFile)
        {
            wg.PrivateKey = fromFile.Key;
            wg.PrivateKeyFile = fromFile.Path;
        }

        wg.ListenPort = (ushort?)fields.Integer("listenPort", 1, 65535);
        wg.FirewallMark = (uint)(fields.Integer("fwmark", 0, uint.MaxValue) ?? 0);
        var peers = fields.List("peers");
        for (var i = 0; i < peers.Count; i++)
        {
            if (ReadWireGuardPeer(peers[i], TopologyErrors.Index(fields.PathOf("peers"), i)) is { } peer)
            {
                wg.Peers.Add(peer);
            }
        }

        CheckPeers(wg);
        draft.WireGuard = wg;
    }

    private WireGuardPeerDraft? ReadWireGuardPeer(DefinitionNode node, string path)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.WireGuardPeerKeys);
        if (fields is null)
        {
            return null;
        }

        var peer = new WireGuardPeerDraft(path);
        if (fields.Require("publicKey", "the peer's public key (as wg pubkey prints it)") && fields.String("publicKey") is { } text)
        {
            if (!WireGuardKey.TryParse(text.Trim(), out var key) || key.IsZero)
            {
                _errors.Add(fields.PathOf("publicKey"), "not a WireGuard public key: 44 characters of base64 (as wg pubkey prints), not all zero");
            }
            else
            {
                peer.PublicKey = key;
            }
        }

        if (fields.String("endpoint") is { } endpoint)
        {
            peer.Endpoint = Endpoint(fields.PathOf("endpoint"), endpoint);
        }

        var allowed = fields.List("allowedIPs");
        for (var i = 0; i < allowed.Count; i++)
        {
            var itemPath = TopologyErrors.Index(fields.PathOf("allowedIPs"), i);
            _errors.Remember(itemPath, allowed[i]);
            if (allowed[i] is not DefinitionScalar { Value: { } prefixText } || TopologyErrors.IsNull(allowed[i]))
            {
                _errors.Add(allowed[i], itemPath, $"expected a prefix (10.0.0.2/32, 0.0.0.0/0); got {TopologyErrors.Describe(allowed[i])}");
            }
            else if (Prefix(itemPath, prefixText) is { } prefix)
            {
                var normal = new IPPrefix(prefix.Network, prefix.PrefixLength);
                if (peer.AllowedIPs.FirstOrDefault(a => a.Prefix == normal) is { Path: { } first })
                {
                    _errors.Add(itemPath, $"{normal} is already listed at {first}");
                }
                else
                {
                    peer.AllowedIPs.Add((normal, itemPath));
                }
            }
        }

        peer.PersistentKeepalive = (ushort)(fields.Integer("persistentKeepalive", 0, 65535) ?? 0);
        if (KeyFile(fields, "presharedKeyFile", "preshared key", "wg genpsk") is { } psk)
        {
            peer.PresharedKey = psk.Key;
            peer.PresharedKeyFile = psk.Path;
        }

        return peer;
    }

    /// <summary>Peers of one device: each key once, not the device's own, and no address routed to two of them.</summary>
    private void CheckPeers(WireGuardDraft wg)
    {
        var own = wg.PrivateKey?.GetPublicKey();
        var keys = new Dictionary<WireGuardKey, string>();
        foreach (var peer in wg.Peers)
        {
            if (peer.PublicKey is not { } key)
            {
                continue;
            }

            if (key == own)
            {
                _errors.Add(peer.Path + ".publicKey", "is the device's own public key");
            }
            else if (!keys.TryAdd(key, peer.Path))
            {
                _errors.Add(peer.Path + ".publicKey", $"this peer is already listed at {keys[key]}");
            }
        }

        // Two prefixes overlap when one holds the other. Sorted by family, network and then length, every prefix that
        // holds the current one is on the stack (a holder sorts before what it holds): O(n log n), one error per prefix.
        var all = wg.Peers.SelectMany((peer, index) => peer.AllowedIPs.Select(a => (a.Prefix, a.Path, Peer: index)))
            .OrderBy(a => a.Prefix.Family)
            .ThenBy(a => a.Prefix.Network.GetAddressBytes(), ByteOrder.Instance)
            .ThenBy(a => a.Prefix.PrefixLength)
            .ToList();
        var holders = new List<(IPPrefix Prefix, string Path, int Peer)>();
        foreach (var current in all)
        {
            while (holders.Count > 0 && !(holders[^1].Prefix.Family == current.Prefix.Family && holders[^1].Prefix.Overlaps(current.Prefix)))
            {
                holders.RemoveAt(holders.Count - 1);
            }

            for (var i = holders.Count - 1; i >= 0; i--)
            {
                if (holders[i].Peer != current.Peer)
                {
                    _errors.Add(current.Path, $"{current.Prefix} overlaps {holders[i].Prefix} of another peer ({holders[i].Path}): WireGuard routes an address to one peer only, so the two peers' allowed IPs must not overlap");
                    break;
                }
            }

            holders.Add(current);
        }
    }

    /// <summary>Addresses' bytes compared as unsigned big-endian numbers.</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    /// <summary>Across links: a WireGuard port once per namespace (its UDP socket is there), and a device name once in
    /// the file (wireguard-go's socket, <c>/var/run/wireguard/NAME.sock</c>, is global to the machine).</summary>
    private void CheckWireGuard()
    {
        var ports = new Dictionary<(string, int), string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var link in _links)
        {
            if (link.Kind == TopologyLinkKind.Vxlan && link.Port is { } vxlanPort)
            {
                ports.TryAdd((link.TunnelNamespace, vxlanPort), link.Path + ".port");
            }
        }

        foreach (var link in _links.Where(l => l is { Kind: TopologyLinkKind.WireGuard, WireGuard: not null }))
        {
            if (link.WireGuard!.ListenPort is { } port && !ports.TryAdd((link.Namespace ?? "", port), link.Path + ".listenPort"))
            {
                var first = ports[(link.Namespace ?? "", port)];
                _errors.Add(link.Path + ".listenPort", $"UDP port {port} is already used in {Where(link.Namespace)} by {first} ({_errors.LineOf(first)})");
            }

            if (link.Name is { } name && !names.TryAdd(name, link.Path + ".name") && names[name] is var other)
            {
                _errors.Add(link.Path + ".name", $"wireguard device '{name}' is already declared at {other} ({_errors.LineOf(other)}); WireGuard device names must be unique on the machine (the userspace implementation's socket /var/run/wireguard/{name}.sock is shared by every namespace)");
            }
        }
    }

    private IPEndPoint? Endpoint(string path, string text)
    {
        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            host = close < 0 ? "" : text[1..close];
            port = close < 0 ? "" : text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = colon < 0 ? text : text[..colon];
            port = colon < 0 ? "" : text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                host = ""; // an IPv6 address needs brackets: [fd00::2]:51820
            }
        }

        if (!IPPrefix.TryParse(host, out var address, out _) || host.Contains('/', StringComparison.Ordinal)
            || !ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number == 0
            || address.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            _errors.Add(path, $"'{text}' is not an endpoint: write ADDRESS:PORT (192.0.2.1:51820, [2001:db8::1]:51820); names are not resolved");
            return null;
        }

        return new IPEndPoint(address.Address, number);
    }

    /// <summary>A key read from a file: a regular file that only its owner may read or write (as ssh asks of its
    /// keys), holding one key in base64 and nothing but whitespace around it.</summary>
    private (WireGuardSecretKey Key, string Path)? KeyFile(Fields fields, string field, string what, string tool)
    {
        if (fields.String(field) is not { } text)
        {
            return null;
        }

        var path = Path.GetFullPath(text, _baseDirectory ?? Environment.CurrentDirectory);
        var at = fields.PathOf(field);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("key files are read on Linux only");
        }

        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                info = (FileInfo?)info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
            }

            if (!info.Exists)
            {
                _errors.Add(at, $"{text}: no such file (looked for {path})");
                return null;
            }

            const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            var mode = info.UnixFileMode;
            if ((mode & others) != UnixFileMode.None)
            {
                _errors.Add(at, $"{text}: mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')} lets others than its owner {(((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != UnixFileMode.None) ? "read" : "reach")} the {what}; it must be readable by its owner only (chmod 600 {text})");
                return null;
            }

            if (info.Length > MaxKeyFileBytes)
            {
                _errors.Add(at, $"{text}: {info.Length} bytes; a key file holds one key ({tool} writes 45 bytes)");
                return null;
            }

            // Read as definition files are: a regular file only (a FIFO or a device would block or never end).
            var read = DefinitionFile.Read(info.FullName);
            if (read.Text is not { } content)
            {
                _errors.Add(at, $"{text}: {read.Problem!.Message}");
                return null;
            }

            if (!WireGuardSecretKey.TryParse(content.Trim(), out var key) || key.IsZero)
            {
                _errors.Add(at, $"{text}: does not hold a WireGuard {what} (44 characters of base64, as {tool} writes)");
                return null;
            }

            return (key, info.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _errors.Add(at, $"{text}: cannot read it: {ex.Message}");
            return null;
        }
    }

    private sealed class WireGuardDraft
    {
        public WireGuardSecretKey? PrivateKey { get; set; }

        public string? PrivateKeyFile { get; set; }

        public ushort? ListenPort { get; set; }

        public uint FirewallMark { get; set; }

        public List<WireGuardPeerDraft> Peers { get; } = [];

        public TopologyWireGuard Build() => new()
        {
            PrivateKey = PrivateKey,
            PrivateKeyFile = PrivateKeyFile,
            ListenPort = ListenPort,
            FirewallMark = FirewallMark,
            Peers = [.. Peers.Where(p => p.PublicKey is not null).Select(p => p.Build())],
        };
    }

    private sealed class WireGuardPeerDraft(string path)
    {
        public string Path => path;

        public WireGuardKey? PublicKey { get; set; }

        public IPEndPoint? Endpoint { get; set; }

        public List<(IPPrefix Prefix, string Path)> AllowedIPs { get; } = [];

        public ushort PersistentKeepalive { get; set; }

        public WireGuardSecretKey? PresharedKey { get; set; }

        public string? PresharedKeyFile { get; set; }

        public TopologyWireGuardPeer Build() => new(PublicKey!.Value)
        {
            Endpoint = Endpoint,
            AllowedIPs = [.. AllowedIPs.Select(a => a.Prefix)],
            PersistentKeepalive = PersistentKeepalive,
            PresharedKey = PresharedKey,
            PresharedKeyFile = PresharedKeyFile,
        };
    }
}
