using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aether.Hub;

namespace Aether.Server.Docker;

/// <summary>
/// A <c>CreateNetwork</c> checked: the user's <c>-o</c> options (under <see cref="GenericOptions"/>) and docker's IPAM
/// pool, every problem reported at once with the option's name. With docker's IPAM (<c>--subnet</c>, <c>--gateway</c>)
/// the pool is the network and <c>-o cidr</c>/<c>-o gateway</c> must match it or be absent; with the null IPAM driver
/// (pool <c>0.0.0.0/0</c>) both are required and the driver allocates the endpoints' addresses.
/// </summary>
internal sealed record NetworkOptions
{
    /// <summary>Where dockerd puts the user's <c>-o KEY=VALUE</c> options.</summary>
    public const string GenericOptions = "com.docker.network.generic";

    /// <summary>The options this driver takes, in the order the help lists them.</summary>
    public static readonly IReadOnlyList<string> Names = ["key", "port", "peer-endpoint", "peer-key", "cidr", "gateway", "keepalive"];

    /// <summary>The hub's request fields by option: how a hub error is told in the driver's words.</summary>
    private static readonly Dictionary<string, string> HubFields = new(StringComparer.Ordinal)
    {
        ["privateKey"] = "key",
        ["listenPort"] = "port",
        ["peerEndpoint"] = "peer-endpoint",
        ["peerPublicKey"] = "peer-key",
        ["networkCidr"] = "cidr",
        ["gateway"] = "gateway",
        ["persistentKeepalive"] = "keepalive",
    };

    /// <summary>Docker's network id (64 hex digits): also the hub network's id.</summary>
    public required string NetworkId { get; init; }

    /// <summary>The network.</summary>
    public required IPNetwork Cidr { get; init; }

    /// <summary>The gateway (the host's address in the network).</summary>
    public required IPAddress Gateway { get; init; }

    /// <summary>Whether the driver allocates the endpoints' addresses (the null IPAM driver).</summary>
    public required bool Allocates { get; init; }

    /// <summary>The hub request, without its index (the driver picks the lowest free one when it creates it).</summary>
    public required HubNetworkRequest Request { get; init; }

    /// <summary>The option a hub request field comes from (<c>networkCidr</c> → <c>-o cidr</c>).</summary>
    public static string OptionFor(string hubField) => HubFields.TryGetValue(hubField, out var option) ? "-o " + option : hubField;

    /// <summary>Checks the whole message.</summary>
    /// <exception cref="DriverException">Invalid, with every bad option.</exception>
    public static NetworkOptions Parse(CreateNetworkMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var errors = new List<string>();
        var networkId = message.NetworkId;
        if (!DockerIds.IsValid(networkId))
        {
            errors.Add("NetworkID: must be 1-64 of A-Z a-z 0-9 . _ -");
        }

        var options = ReadGeneric(message, errors);
        var port = ReadInt(options, "port", 1, 65535, required: true, errors);
        var keepalive = ReadInt(options, "keepalive", 0, 65535, required: false, errors);
        options.TryGetValue("key", out var key);
        if (string.IsNullOrEmpty(key))
        {
            errors.Add("-o key: required (the hub's WireGuard private key, base64 as wg genkey prints it)");
        }

        options.TryGetValue("peer-endpoint", out var peerEndpoint);
        options.TryGetValue("peer-key", out var peerKey);
        var (cidr, gateway, allocates) = ReadPool(message, options, errors);
        if (errors.Count > 0)
        {
            throw DriverException.Invalid(errors);
        }

        var request = new HubNetworkRequest
        {
            NetworkId = networkId,
            PrivateKey = key,
            ListenPort = port,
            PeerEndpoint = peerEndpoint,
            PeerPublicKey = peerKey,
            NetworkCidr = cidr!.Value.ToString(),
            Gateway = gateway!.ToString(),
            PersistentKeepalive = keepalive,
        };
        return new NetworkOptions { NetworkId = networkId!, Cidr = cidr.Value, Gateway = gateway, Allocates = allocates, Request = request };
    }

    private static Dictionary<string, string> ReadGeneric(CreateNetworkMessage message, List<string> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (message.Options is null || !message.Options.TryGetValue(GenericOptions, out var generic) || generic.ValueKind is JsonValueKind.Null)
        {
            return result;
        }

        if (generic.ValueKind is not JsonValueKind.Object)
        {
            errors.Add($"Options.{GenericOptions}: must be an object of -o KEY=VALUE options");
            return result;
        }

        foreach (var option in generic.EnumerateObject())
        {
            if (option.Name.StartsWith("com.docker.", StringComparison.Ordinal))
            {
                continue; // docker's own labels, not the user's
            }

            if (!Names.Contains(option.Name, StringComparer.Ordinal))
            {
                errors.Add($"-o {option.Name}: unknown option (allowed: {string.Join(", ", Names)})");
            }
            else if (option.Value.ValueKind is not JsonValueKind.String)
            {
                errors.Add($"-o {option.Name}: must be a string");
            }
            else
            {
                result[option.Name] = option.Value.GetString()!;
            }
        }

        return result;
    }

    private static int? ReadInt(Dictionary<string, string> options, string name, int min, int max, bool required, List<string> errors)
    {
        if (!options.TryGetValue(name, out var text))
        {
            if (required)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"-o {name}: required (an integer {min}-{max})"));
            }

            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add(string.Create(CultureInfo.InvariantCulture, $"-o {name}: '{text}' is not an integer {min}-{max}"));
        return null;
    }

    private static (IPNetwork? Cidr, IPAddress? Gateway, bool Allocates) ReadPool(CreateNetworkMessage message, Dictionary<string, string> options, List<string> errors)
    {
        if (message.IPv6Data is { Count: > 0 })
        {
            errors.Add("--ipv6: not supported (the hub's networks are IPv4)");
        }

        IPNetwork? cidr = null;
        IPAddress? gateway = null;
        if (options.TryGetValue("cidr", out var cidrText) && (!IPNetwork.TryParse(cidrText, out var parsed) || parsed.BaseAddress.AddressFamily is not AddressFamily.InterNetwork || parsed.PrefixLength > 30))
        {
            errors.Add($"-o cidr: '{cidrText}' is not an IPv4 network of at least 4 addresses with its host bits clear (10.1.0.0/24)");
        }
        else if (cidrText is not null)
        {
            cidr = IPNetwork.Parse(cidrText);
        }

        if (options.TryGetValue("gateway", out var gatewayText) && (!IPAddress.TryParse(gatewayText, out var gw) || gw.AddressFamily is not AddressFamily.InterNetwork))
        {
            errors.Add($"-o gateway: '{gatewayText}' is not an IPv4 address");
        }
        else if (gatewayText is not null)
        {
            gateway = IPAddress.Parse(gatewayText);
        }

        var pools = message.IPv4Data ?? [];
        if (pools.Count != 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"IPv4Data: one pool is allowed, {pools.Count} given (one --subnet, or --ipam-driver null)"));
            return (cidr, gateway, false);
        }

        var pool = pools[0];
        if (!IPNetwork.TryParse(pool.Pool ?? "", out var poolNetwork) || poolNetwork.BaseAddress.AddressFamily is not AddressFamily.InterNetwork)
        {
            errors.Add($"IPv4Data.Pool: '{pool.Pool}' is not an IPv4 network");
            return (cidr, gateway, false);
        }

        if (poolNetwork.PrefixLength == 0)
        {
            // The null IPAM driver: the options say what the network is.
            if (cidrText is null)
            {
                errors.Add("-o cidr: required with --ipam-driver null (the network, 10.1.0.0/24)");
            }

            if (gatewayText is null)
            {
                errors.Add("-o gateway: required with --ipam-driver null (the host's address in the network)");
            }

            return (cidr, gateway, true);
        }

        if (cidrText is not null && cidr is { } given && !given.Equals(poolNetwork))
        {
            errors.Add($"-o cidr: {given} differs from docker's pool {poolNetwork} (--subnet): give one of them, or the same");
        }

        IPAddress? poolGateway = null;
        if (!string.IsNullOrEmpty(pool.Gateway))
        {
            var slash = pool.Gateway.IndexOf('/', StringComparison.Ordinal);
            if (!IPAddress.TryParse(slash < 0 ? pool.Gateway : pool.Gateway[..slash], out poolGateway))
            {
                errors.Add($"IPv4Data.Gateway: '{pool.Gateway}' is not an address");
            }
        }

        if (gatewayText is not null && gateway is not null && poolGateway is not null && !gateway.Equals(poolGateway))
        {
            errors.Add($"-o gateway: {gateway} differs from docker's gateway {poolGateway} (--gateway): give one of them, or the same");
        }

        gateway ??= poolGateway;
        if (gateway is null && gatewayText is null)
        {
            errors.Add("-o gateway: required: docker's IPAM gave no gateway");
        }

        return (poolNetwork, gateway, false);
    }
}
