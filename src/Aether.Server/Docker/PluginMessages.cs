using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aether.Server.Docker;

// The messages of Docker's remote network driver protocol (libnetwork's driverapi over plugins), with the field names
// dockerd sends and expects. Only the fields this driver reads or answers are declared; the rest are ignored.

/// <summary>An IPv4 or IPv6 pool as docker's IPAM gave it (<c>IPv4Data</c>).</summary>
internal sealed record IpamData
{
    [JsonPropertyName("AddressSpace")]
    public string? AddressSpace { get; init; }

    /// <summary>The pool, <c>172.30.0.0/24</c>; <c>0.0.0.0/0</c> from the null IPAM driver.</summary>
    [JsonPropertyName("Pool")]
    public string? Pool { get; init; }

    /// <summary>The gateway with the pool's prefix length, <c>172.30.0.1/24</c>; empty from the null IPAM driver.</summary>
    [JsonPropertyName("Gateway")]
    public string? Gateway { get; init; }
}

/// <summary><c>NetworkDriver.CreateNetwork</c>.</summary>
internal sealed record CreateNetworkMessage
{
    [JsonPropertyName("NetworkID")]
    public string? NetworkId { get; init; }

    /// <summary>Docker's options; the user's <c>-o</c> ones under <see cref="NetworkOptions.GenericOptions"/>.</summary>
    [JsonPropertyName("Options")]
    public Dictionary<string, JsonElement>? Options { get; init; }

    [JsonPropertyName("IPv4Data")]
    public IReadOnlyList<IpamData>? IPv4Data { get; init; }

    [JsonPropertyName("IPv6Data")]
    public IReadOnlyList<IpamData>? IPv6Data { get; init; }
}

/// <summary>The messages that name a network, and maybe an endpoint: <c>DeleteNetwork</c>, <c>DeleteEndpoint</c>,
/// <c>Leave</c>, <c>EndpointOperInfo</c>, and (with their extra fields) <c>CreateEndpoint</c> and <c>Join</c>.</summary>
internal sealed record EndpointMessage
{
    [JsonPropertyName("NetworkID")]
    public string? NetworkId { get; init; }

    [JsonPropertyName("EndpointID")]
    public string? EndpointId { get; init; }

    /// <summary><c>CreateEndpoint</c>: the interface as docker's IPAM gave it (its address may be empty).</summary>
    [JsonPropertyName("Interface")]
    public EndpointInterface? Interface { get; init; }

    /// <summary><c>Join</c>: the container's network namespace, a path.</summary>
    [JsonPropertyName("SandboxKey")]
    public string? SandboxKey { get; init; }
}

/// <summary>An endpoint's interface: its addresses in CIDR form.</summary>
internal sealed record EndpointInterface
{
    [JsonPropertyName("Address")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Address { get; init; }

    [JsonPropertyName("AddressIPv6")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AddressIPv6 { get; init; }

    [JsonPropertyName("MacAddress")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MacAddress { get; init; }
}

/// <summary>The answer to <c>CreateEndpoint</c>: an interface only when the driver chose the address.</summary>
internal sealed record CreateEndpointAnswer(
    [property: JsonPropertyName("Interface"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EndpointInterface? Interface);

/// <summary>The answer to <c>Join</c>: no <c>InterfaceName</c> (the hub made <c>ethK</c> in the sandbox itself), no
/// gateway (the hub set the routes), and no gateway service (else dockerd adds <c>docker_gwbridge</c> on the
/// host).</summary>
internal sealed record JoinAnswer(
    [property: JsonPropertyName("DisableGatewayService")] bool DisableGatewayService);

/// <summary>An error, as the protocol carries it.</summary>
internal sealed record ErrorAnswer([property: JsonPropertyName("Err")] string Err);
