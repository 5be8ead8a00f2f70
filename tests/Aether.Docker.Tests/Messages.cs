using System.Text.Json;
using Aether.Server.Docker;

namespace Aether.Docker.Tests;

/// <summary>Protocol messages as dockerd sends them, parsed from JSON text (what the wire carries).</summary>
internal static class Messages
{
    public const string Key = "yC2c6/Xdy2ghL6j/6c0pSCsvXA1D6eYtqj0rO8nR5lo="; // wg genkey
    public const string PeerKey = "ipsDl7X6WyagN1DJZ2FB7BXZCaAK+Y92QEON+Q5ETQ8="; // wg pubkey of another

    public static string NetworkId(char c) => new(c, 64);

    /// <summary>A CreateNetwork body: <paramref name="options"/> as -o KEY=VALUE, and the IPAM pool.</summary>
    public static string CreateNetworkJson(string networkId, IReadOnlyDictionary<string, string> options, string pool = "10.71.0.0/24", string gateway = "10.71.0.1/24") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["NetworkID"] = networkId,
            ["Options"] = new Dictionary<string, object>
            {
                ["com.docker.network.enable_ipv6"] = false,
                ["com.docker.network.generic"] = options,
            },
            ["IPv4Data"] = new[] { new Dictionary<string, string> { ["AddressSpace"] = "LocalDefault", ["Pool"] = pool, ["Gateway"] = gateway } },
            ["IPv6Data"] = Array.Empty<object>(),
        });

    public static CreateNetworkMessage CreateNetwork(string networkId, IReadOnlyDictionary<string, string> options, string pool = "10.71.0.0/24", string gateway = "10.71.0.1/24") =>
        JsonSerializer.Deserialize<CreateNetworkMessage>(CreateNetworkJson(networkId, options, pool, gateway))!;

    public static Dictionary<string, string> GoodOptions(string port = "51901") => new(StringComparer.Ordinal)
    {
        ["key"] = Key,
        ["port"] = port,
        ["peer-endpoint"] = "192.168.77.2:51820",
        ["peer-key"] = PeerKey,
    };
}
