using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aether.WireGuard;

namespace Aether.Server.Tests;

/// <summary>Request bodies and answers.</summary>
public static class Requests
{
    private static readonly string HubKey = WireGuardSecretKey.GeneratePrivate().ToBase64();
    private static readonly string PeerKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();

    /// <summary>A valid network request.</summary>
    public static JsonObject Valid(string id = "net1", int index = 1) => new()
    {
        ["networkId"] = id,
        ["index"] = index,
        ["container"] = "aetcontainer",
        ["privateKey"] = HubKey,
        ["listenPort"] = 51820 + index,
        ["peerEndpoint"] = "192.0.2.2:51820",
        ["peerPublicKey"] = PeerKey,
        ["address"] = $"10.{index}.0.2",
        ["networkCidr"] = $"10.{index}.0.0/24",
        ["gateway"] = $"10.{index}.0.1",
    };

    public static StringContent Json(string text) => new(text, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    public static StringContent Json(JsonNode node) => Json(node.ToJsonString());

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Checks a problem-details answer: its status, its media type, and returns its body.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}, want {status}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>The fields a 400 names.</summary>
    public static IReadOnlyList<string> Fields(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!)];
}
