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

    private HubNetworkSpec(HubNetworkRequest request) => Request = request;

    /// <summary>The request, normalised (keys and addresses in canonical form): what the store keeps.</summary>
    public HubNetworkRequest Request { get; }

    /// <summary>The network's id.</summary>
    public required string Id { get; init; }

    /// <summary>Its index N.</summary>
    public required int Index { get; init; }

    /// <summary>The container's namespace: a name, an absolute path, or <c>pid:N</c>.</summary>
    public required string Container { get; init; }

    /// <summary>The private key of <c>wgN</c>.</summary>
    public required WireGuardSecretKey PrivateKey { get; init; }

    /// <summary>Its public key.</summary>
    public required WireGuardKey PublicKey { get; init; }

    /// <summary>The listen port.</summary>
    public required ushort ListenPort { get; init; }

    /// <summary>The peer's endpoint.</summary>
    public required IPEndPoint PeerEndpoint { get; init; }

    /// <summary>The peer's public key.</summary>
    public required WireGuardKey PeerPublicKey { get; init; }

    /// <summary>The container's address.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>The network (host bits clear).</summary>
    public required IPPrefix NetworkCidr { get; init; }

    /// <summary>The gateway.</summary>
    public required IPAddress Gateway { get; init; }

    /// <summary>The peer's persistent keepalive in seconds.</summary>
    public ushort PersistentKeepalive { get; init; }

    /// <summary>What the WireGuard device's name starts with: <c>wg</c> unless the hub says otherwise (WireGuard
    /// names of the userspace implementation are global to the machine, so tests give theirs a unique prefix).</summary>
    public string WgPrefix { get; init; } = "wg";

    /// <summary><c>wgN</c>.</summary>
    public string WgName => WgPrefix + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>veth-rootN</c>.</summary>
    public string VethRootName => "veth-root" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>ethN</c>.</summary>
    public string EthName => "eth" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens the container's namespace.</summary>
    /// <exception cref="IOException">It does not exist (any more).</exception>
    public NetworkNamespace OpenContainer() => OpenContainer(Container);

    /// <summary>The network as clients see it.</summary>
    public HubNetworkInfo ToInfo(bool nat) => new(
        Id, Index, Container, WgName, VethRootName, EthName, PublicKey.ToString(), ListenPort, Address.ToString(), NetworkCidr.ToString(), Gateway.ToString(),
        PeerEndpoint.ToString(), PeerPublicKey.ToString(), nat);

    /// <summary>Whether two specs ask for the same network (the same request twice is a no-op).</summary>
    public bool SameAs(HubNetworkSpec other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Request == other.Request;
    }

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

        string container = "";
        if (request.Container is not null && request.ContainerPid is not null)
        {
            Bad("container", "give container or containerPid, not both");
        }
        else if (request.ContainerPid is int pid)
        {
            if (pid <= 0)
            {
                Bad("containerPid", string.Create(CultureInfo.InvariantCulture, $"must be a positive process id, not {pid}"));
            }

            container = string.Create(CultureInfo.InvariantCulture, $"pid:{pid}");
        }
        else if (string.IsNullOrEmpty(request.Container))
        {
            Bad("container", "is required (a namespace name, a path such as /proc/PID/ns/net, or containerPid)");
        }
        else if (request.Container.StartsWith('/'))
        {
            if (request.Container.Contains('\0', StringComparison.Ordinal) || request.Container.Split('/').Any(part => part is ".."))
            {
                Bad("container", "a path must be absolute, without '..' or NUL");
            }

            container = request.Container;
        }
        else if (!Aether.Netlink.Names.NamespaceNameRule.IsValid(request.Container, out var why))
        {
            Bad("container", why);
        }
        else
        {
            container = request.Container;
        }

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

        IPEndPoint? endpoint = null;
        if (request.PeerEndpoint is null)
        {
            Bad("peerEndpoint", "is required");
        }
        else if (!IPEndPoint.TryParse(request.PeerEndpoint, out endpoint) || endpoint.Port == 0 || !request.PeerEndpoint.Contains(':', StringComparison.Ordinal)
            || (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && !request.PeerEndpoint.StartsWith('[')))
        {
            Bad("peerEndpoint", "must be IP:PORT or [IPv6]:PORT with a port of 1 to 65535");
            endpoint = null;
        }

        var peerKey = default(WireGuardKey);
        if (request.PeerPublicKey is null)
        {
            Bad("peerPublicKey", "is required");
        }
        else if (!WireGuardKey.TryParse(request.PeerPublicKey, out peerKey) || peerKey.IsZero)
        {
            Bad("peerPublicKey", "is not a WireGuard key (44 characters of base64, as wg pubkey prints)");
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

        var address = ParseMember(request.Address, "address", cidr, allowPrefix: true, Bad);
        var gateway = ParseMember(request.Gateway, "gateway", cidr, allowPrefix: false, Bad);
        if (address is not null && gateway is not null && address.Equals(gateway))
        {
            Bad("gateway", "must differ from the container's address");
        }

        ushort keepalive = 0;
        if (request.PersistentKeepalive is int k)
        {
            if (k is < 0 or > 65535)
            {
                Bad("persistentKeepalive", string.Create(CultureInfo.InvariantCulture, $"must be 0 to 65535 seconds, not {k}"));
            }
            else
            {
                keepalive = (ushort)k;
            }
        }

        if (!privateKey.IsZero && !peerKey.IsZero && privateKey.GetPublicKey() == peerKey)
        {
            Bad("peerPublicKey", "is the hub's own public key");
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
            PeerEndpoint = endpoint!.ToString(),
            PeerPublicKey = peerKey.ToString(),
            Address = address!.ToString(),
            NetworkCidr = cidr!.Value.ToString(),
            Gateway = gateway!.ToString(),
            PersistentKeepalive = keepalive,
        };
        return new HubNetworkSpec(normal)
        {
            Id = id!,
            Index = index,
            Container = container,
            PrivateKey = privateKey,
            PublicKey = privateKey.GetPublicKey(),
            ListenPort = port,
            PeerEndpoint = endpoint,
            PeerPublicKey = peerKey,
            Address = address,
            NetworkCidr = cidr.Value,
            Gateway = gateway,
            PersistentKeepalive = keepalive,
        };
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
