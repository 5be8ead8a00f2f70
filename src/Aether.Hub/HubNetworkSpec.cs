using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;

namespace Aether.Hub;

/// <summary>A validated <see cref="HubNetworkRequest"/>: parsed keys and addresses, and the names it gives its
/// interfaces. IPv4 networks (the endpoint may be IPv6).</summary>
public sealed record HubNetworkSpec
{
    /// <summary>The largest index: <c>veth-root9999</c> still fits in an interface name.</summary>
    public const int MaxIndex = 9999;

    /// <summary>The most peers one network may have.</summary>
    public const int MaxPeers = 1024;

    private HubNetworkSpec(HubNetworkRequest request) => Request = request;

    /// <summary>The request, normalised (keys and addresses in canonical form): what the store keeps.</summary>
    public HubNetworkRequest Request { get; }

    /// <summary>The network's id.</summary>
    public required string Id { get; init; }

    /// <summary>Its index N.</summary>
    public required int Index { get; init; }

    /// <summary>The network's own container (its attachment named by the index: <c>veth-rootN</c> / <c>ethN</c>): a
    /// name, an absolute path, or <c>pid:N</c>; null for a network created alone.</summary>
    public string? Container { get; init; }

    /// <summary>The private key of <c>wgN</c>.</summary>
    public required WireGuardSecretKey PrivateKey { get; init; }

    /// <summary>Its public key.</summary>
    public required WireGuardKey PublicKey { get; init; }

    /// <summary>The listen port.</summary>
    public required ushort ListenPort { get; init; }

    /// <summary>The peers, keyed by public key (no two with one key, no two whose allowed IPs overlap).</summary>
    public required IReadOnlyList<HubPeerSpec> Peers { get; init; }

    /// <summary>What a NAT failure does: <see cref="HubNatPolicy.Warn"/> or <see cref="HubNatPolicy.Require"/>.</summary>
    public string NatPolicy { get; init; } = HubNatPolicy.Warn;

    /// <summary>The own container's address, or null without one.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The network (host bits clear).</summary>
    public required IPPrefix NetworkCidr { get; init; }

    /// <summary>The gateway.</summary>
    public required IPAddress Gateway { get; init; }

    /// <summary>What the WireGuard device's name starts with: <c>wg</c> unless the hub says otherwise (WireGuard
    /// names of the userspace implementation are global to the machine, so tests give theirs a unique prefix).</summary>
    public string WgPrefix { get; init; } = "wg";

    /// <summary><c>wgN</c>.</summary>
    public string WgName => WgPrefix + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>veth-rootN</c>.</summary>
    public string VethRootName => "veth-root" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>ethN</c>.</summary>
    public string EthName => "eth" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The network as clients see it (without its attachments: the hub adds them). The single-peer fields
    /// show the first peer, or are empty; the own container's fields are empty without one.</summary>
    public HubNetworkInfo ToInfo(bool nat) => new(
        Id, Index, Container ?? "", WgName, Container is null ? "" : VethRootName, Container is null ? "" : EthName, PublicKey.ToString(), ListenPort, Address?.ToString() ?? "",
        NetworkCidr.ToString(), Gateway.ToString(), Peers.Count > 0 ? Peers[0].Endpoint?.ToString() ?? "" : "", Peers.Count > 0 ? Peers[0].PublicKey.ToString() : "", nat)
    {
        Peers = [.. Peers.Select(p => p.ToInfo())],
        NatPolicy = NatPolicy,
    };

    /// <summary>Whether two specs ask for the same network (the same request twice is a no-op).</summary>
    public bool SameAs(HubNetworkSpec other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Request == other.Request;
    }

    /// <summary>This network with its peers replaced (the request too, as the store keeps it).</summary>
    public HubNetworkSpec WithPeers(IReadOnlyList<HubPeerSpec> peers) =>
        new(Request with { Peers = [.. peers.Select(p => p.ToRequest())] })
        {
            Id = Id,
            Index = Index,
            Container = Container,
            PrivateKey = PrivateKey,
            PublicKey = PublicKey,
            ListenPort = ListenPort,
            Peers = peers,
            NatPolicy = NatPolicy,
            Address = Address,
            NetworkCidr = NetworkCidr,
            Gateway = Gateway,
            WgPrefix = WgPrefix,
        };

    /// <summary>Opens a container reference: a name, an absolute path, or <c>pid:N</c>; nothing but a network
    /// namespace is opened (see <see cref="NetworkNamespace.OpenVerified"/>).</summary>
    /// <exception cref="NotANetworkNamespaceException">It is there but is not a network namespace.</exception>
    /// <exception cref="NetlinkException">It cannot be opened (<c>ENOENT</c>; <c>ESRCH</c> for a process that is
    /// not there).</exception>
    public static NetworkNamespace OpenContainer(string container)
    {
        using var opened = OpenedContainer.Open(container);
        var (ns, pidfd) = opened.Take();
        if (pidfd >= 0)
        {
            Interop.Libc.Close(pidfd);
        }

        return ns;
    }

    internal static HubNetworkSpec From(HubNetworkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<HubFieldError>();
        void Bad(string field, string message) => errors.Add(new HubFieldError(field, message));

        var id = request.NetworkId;
        if (string.IsNullOrEmpty(id))
        {
            Bad("networkId", "is required");
        }
        else if (id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            Bad("networkId", "must be 1 to 64 of A-Z a-z 0-9 . _ -");
        }

        if (request.Index is not int index)
        {
            Bad("index", "is required");
            index = 0;
        }
        else if (index is < 0 or > MaxIndex)
        {
            Bad("index", string.Create(CultureInfo.InvariantCulture, $"must be 0 to {MaxIndex} (wgN, veth-rootN and ethN must fit in 15 bytes), not {index}"));
        }

        var hasContainer = request.Container is not null || request.ContainerPid is not null;
        var container = hasContainer ? ParseContainer(request.Container, request.ContainerPid, required: true, Bad) : null;

        var privateKey = WireGuardSecretKey.Zero;
        if (request.PrivateKey is null)
        {
            Bad("privateKey", "is required");
        }
        else if (!WireGuardSecretKey.TryParse(request.PrivateKey, out privateKey) || privateKey.IsZero)
        {
            Bad("privateKey", "is not a WireGuard key (44 characters of base64, as wg genkey prints)");
        }

        ushort port = 0;
        if (request.ListenPort is not int listenPort)
        {
            Bad("listenPort", "is required");
        }
        else if (listenPort is < 1 or > 65535)
        {
            Bad("listenPort", string.Create(CultureInfo.InvariantCulture, $"must be 1 to 65535, not {listenPort}"));
        }
        else
        {
            port = (ushort)listenPort;
        }

        IPPrefix? cidr = null;
        if (request.NetworkCidr is null)
        {
            Bad("networkCidr", "is required");
        }
        else if (!IPPrefix.TryParse(request.NetworkCidr, out var parsed, out var cidrError) || !request.NetworkCidr.Contains('/', StringComparison.Ordinal))
        {
            Bad("networkCidr", cidrError ?? "must be a prefix such as 10.1.0.0/24");
        }
        else if (parsed.Family != AddressFamily.InterNetwork)
        {
            Bad("networkCidr", "must be an IPv4 prefix");
        }
        else if (parsed.PrefixLength is < 8 or > 30)
        {
            Bad("networkCidr", string.Create(CultureInfo.InvariantCulture, $"prefix length must be 8 to 30, not {parsed.PrefixLength}"));
        }
        else if (!parsed.Address.Equals(parsed.Network))
        {
            Bad("networkCidr", $"has host bits set: did you mean {parsed.Network}/{parsed.PrefixLength}?");
        }
        else
        {
            cidr = parsed;
        }

        // The own container's address: required with a container, refused without one.
        IPAddress? address = null;
        if (hasContainer)
        {
            address = ParseMember(request.Address, "address", cidr, allowPrefix: true, Bad);
        }
        else if (request.Address is not null)
        {
            Bad("address", "is the network's own container's address: give container or containerPid with it, or attach containers later");
        }

        var gateway = ParseMember(request.Gateway, "gateway", cidr, allowPrefix: false, Bad);
        if (address is not null && gateway is not null && address.Equals(gateway))
        {
            Bad("gateway", "must differ from the container's address");
        }

        var peers = ParsePeers(request, privateKey, cidr, Bad);

        var natPolicy = request.NatPolicy ?? HubNatPolicy.Warn;
        if (natPolicy is not (HubNatPolicy.Warn or HubNatPolicy.Require))
        {
            Bad("natPolicy", $"must be '{HubNatPolicy.Warn}' (a NAT failure is logged and reported) or '{HubNatPolicy.Require}' (a NAT failure fails the add), not '{natPolicy}'");
        }

        if (errors.Count > 0)
        {
            throw HubException.Invalid(errors);
        }

        var normal = new HubNetworkRequest
        {
            NetworkId = id,
            Index = index,
            Container = request.ContainerPid is null ? container : null,
            ContainerPid = request.ContainerPid,
            PrivateKey = privateKey.ToBase64(),
            ListenPort = port,
            Peers = [.. peers!.Select(p => p.ToRequest())],
            Address = address?.ToString(),
            NetworkCidr = cidr!.Value.ToString(),
            Gateway = gateway!.ToString(),
            NatPolicy = natPolicy,
        };
        return new HubNetworkSpec(normal)
        {
            Id = id!,
            Index = index,
            Container = container,
            PrivateKey = privateKey,
            PublicKey = privateKey.GetPublicKey(),
            ListenPort = port,
            Peers = peers!,
            NatPolicy = natPolicy,
            Address = address,
            NetworkCidr = cidr.Value,
            Gateway = gateway,
        };
    }

    /// <summary>A container reference: a namespace name, an absolute path, or <c>pid:N</c> (null when bad).</summary>
    internal static string? ParseContainer(string? name, int? pid, bool required, Action<string, string> bad)
    {
        if (name is not null && pid is not null)
        {
            bad("container", "give container or containerPid, not both");
            return null;
        }

        if (pid is int p)
        {
            if (p <= 0)
            {
                bad("containerPid", string.Create(CultureInfo.InvariantCulture, $"must be a positive process id, not {p}"));
                return null;
            }

            return string.Create(CultureInfo.InvariantCulture, $"pid:{p}");
        }

        if (string.IsNullOrEmpty(name))
        {
            if (required)
            {
                bad("container", "is required (a namespace name, a path such as /proc/PID/ns/net, or containerPid)");
            }

            return null;
        }

        if (name.StartsWith('/'))
        {
            if (name.Contains('\0', StringComparison.Ordinal) || name.Split('/').Any(part => part is ".."))
            {
                bad("container", "a path must be absolute, without '..' or NUL");
                return null;
            }

            return name;
        }

        if (!Aether.Netlink.Names.NamespaceNameRule.IsValid(name, out var why))
        {
            bad("container", why);
            return null;
        }

        return name;
    }

    /// <summary>The peers: the single-peer shorthand (allowed IPs: the network) first, then <c>peers</c>; no key
    /// twice, no two peers' allowed IPs overlapping, none the hub's own key.</summary>
    private static List<HubPeerSpec>? ParsePeers(HubNetworkRequest request, WireGuardSecretKey privateKey, IPPrefix? cidr, Action<string, string> bad)
    {
        var peers = new List<HubPeerSpec>();
        var ok = true;
        void Bad(string field, string message)
        {
            ok = false;
            bad(field, message);
        }

        if (request.PeerPublicKey is not null || request.PeerEndpoint is not null || request.PersistentKeepalive is not null)
        {
            var shorthand = new HubPeerRequest
            {
                PublicKey = request.PeerPublicKey,
                Endpoint = request.PeerEndpoint,
                AllowedIps = cidr is { } c ? [c.ToString()] : [],
                PersistentKeepalive = request.PersistentKeepalive,
            };
            var field = (string f) => f switch { "publicKey" => "peerPublicKey", "endpoint" => "peerEndpoint", _ => f };
            if (HubPeerRequest.Parse(shorthand, "", (f, m) => Bad(field(f), m)) is { } one)
            {
                peers.Add(one);
            }
        }

        var list = request.Peers ?? [];
        if (list.Count > MaxPeers)
        {
            Bad("peers", string.Create(CultureInfo.InvariantCulture, $"at most {MaxPeers} peers, not {list.Count}"));
            return null;
        }

        for (var i = 0; i < list.Count; i++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"peers[{i}].");
            if (HubPeerRequest.Parse(list[i], prefix, Bad) is { } peer)
            {
                if (CheckAgainst(peers, peer) is { } clash)
                {
                    Bad(prefix + clash.Field, clash.Message);
                }
                else
                {
                    peers.Add(peer);
                }
            }
        }

        if (!privateKey.IsZero && peers.FirstOrDefault(p => p.PublicKey == privateKey.GetPublicKey()) is { } own)
        {
            Bad(ReferenceEquals(own, peers[0]) && request.PeerPublicKey is not null ? "peerPublicKey" : "peers", "is the hub's own public key");
        }

        return ok ? peers : null;
    }

    /// <summary>Why <paramref name="peer"/> cannot join <paramref name="others"/>: its key is there already, or its
    /// allowed IPs overlap another peer's (WireGuard would move them silently).</summary>
    internal static HubFieldError? CheckAgainst(IEnumerable<HubPeerSpec> others, HubPeerSpec peer)
    {
        foreach (var other in others)
        {
            if (other.PublicKey == peer.PublicKey)
            {
                return new HubFieldError("publicKey", $"{peer.PublicKey} is listed twice");
            }

            foreach (var a in peer.AllowedIps)
            {
                if (other.AllowedIps.FirstOrDefault(b => b.Overlaps(a)) is { Address: not null } b)
                {
                    return new HubFieldError("allowedIps", $"{a} overlaps {b} of peer {other.PublicKey}");
                }
            }
        }

        return null;
    }

    private static IPAddress? ParseMember(string? text, string field, IPPrefix? cidr, bool allowPrefix, Action<string, string> bad)
    {
        if (text is null)
        {
            bad(field, "is required");
            return null;
        }

        IPAddress? address;
        if (text.Contains('/', StringComparison.Ordinal))
        {
            if (!allowPrefix || !IPPrefix.TryParse(text, out var prefix, out _))
            {
                bad(field, allowPrefix ? "must be an IPv4 address, optionally with the network's prefix length" : "must be an IPv4 address without a prefix length");
                return null;
            }

            if (cidr is { } c && prefix.PrefixLength != c.PrefixLength && prefix.PrefixLength != 32)
            {
                bad(field, string.Create(CultureInfo.InvariantCulture, $"prefix length /{prefix.PrefixLength} is neither the network's /{c.PrefixLength} nor /32"));
                return null;
            }

            address = prefix.Address;
        }
        else if (!IPAddress.TryParse(text, out address) || text.Contains(':', StringComparison.Ordinal) && address.AddressFamily == AddressFamily.InterNetwork)
        {
            bad(field, "must be an IPv4 address");
            return null;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            bad(field, "must be an IPv4 address");
            return null;
        }

        if (cidr is { } network)
        {
            if (!network.Contains(address))
            {
                bad(field, $"{address} is outside networkCidr {network}");
                return null;
            }

            var bytes = address.GetAddressBytes();
            var net = network.Network.GetAddressBytes();
            var last = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
            var first = (uint)(net[0] << 24 | net[1] << 16 | net[2] << 8 | net[3]);
            var broadcast = first | (uint.MaxValue >> network.PrefixLength);
            if (last == first || last == broadcast)
            {
                bad(field, $"{address} is the network or broadcast address of {network}");
                return null;
            }
        }

        return address;
    }
}
