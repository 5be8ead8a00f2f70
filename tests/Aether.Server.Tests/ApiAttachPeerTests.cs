using System.Net;
using System.Text.Json.Nodes;
using Aether.WireGuard;

namespace Aether.Server.Tests;

/// <summary>The attachment and peer routes through the test server: statuses, problem details naming the fields, and
/// that a rejected request reaches no mutating call of the hub.</summary>
public sealed class ApiAttachPeerTests : IDisposable
{
    private readonly ApiFactory _factory = new();
    private readonly HttpClient _client;

    public ApiAttachPeerTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Attach_and_detach_answer_201_200_204_404_and_bad_bodies_are_400_naming_every_field()
    {
        (await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid()))).Dispose();
        var body = new JsonObject { ["attachmentId"] = "web", ["container"] = "aetc2" };
        using var created = await _client.PostAsync("/v1/hub/networks/net1/attachments", Requests.Json(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/hub/networks/net1/attachments/web", created.Headers.Location?.OriginalString);
        Assert.Equal("veth1-1", (await Requests.ReadAsync(created)).GetProperty("hostInterface").GetString());
        using var again = await _client.PostAsync("/v1/hub/networks/net1/attachments", Requests.Json(body));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var network = await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks/net1"));
        Assert.Equal("web", network.GetProperty("attachments").EnumerateArray().Single().GetProperty("attachmentId").GetString());
        var mutations = _factory.Hub.Mutations.Count;

        foreach (var (bad, fields) in new (JsonObject, string[])[]
        {
            (new JsonObject { ["attachmentId"] = "a b", ["interface"] = "x/y", ["address"] = "10.1.0" }, ["attachmentId", "container", "interface", "address"]),
            (new JsonObject { ["attachmentId"] = new string('a', 65), ["containerPid"] = -4 }, ["attachmentId", "containerPid"]),
            (new JsonObject { ["attachmentId"] = "ok", ["container"] = "aetc2", ["containerPid"] = 7, ["address"] = "fe80::1" }, ["container", "address"]),
            (new JsonObject { ["attachmentId"] = "ok", ["container"] = "aetc2", ["addresss"] = "10.1.0.5" }, ["addresss"]),
            (new JsonObject { ["attachmentId"] = 5, ["container"] = "aetc2" }, ["attachmentId"]),
        })
        {
            var problem = await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks/net1/attachments", Requests.Json(bad)), 400);
            Assert.Equal(fields, problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()));
        }

        await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks/bad%20id/attachments", Requests.Json(body)), 400);
        Assert.Equal("No such network", (await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks/nope/attachments", Requests.Json(body)), 404)).GetProperty("title").GetString());
        Assert.Equal(mutations + 1, _factory.Hub.Mutations.Count); // only the 404 reached the hub

        using var detached = await _client.DeleteAsync("/v1/hub/networks/net1/attachments/web");
        Assert.Equal(HttpStatusCode.NoContent, detached.StatusCode);
        Assert.Equal("No such attachment", (await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/net1/attachments/web"), 404)).GetProperty("title").GetString());
        Assert.Equal("No such network", (await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/nope/attachments/web"), 404)).GetProperty("title").GetString());
        await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/net1/attachments/a%20b"), 400);
    }

    [Fact]
    public async Task Peers_are_put_and_deleted_by_key_in_base64url_or_percent_encoded_base64_and_bad_ones_are_400()
    {
        (await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid()))).Dispose();
        var key = KeyWithSlash();
        var peer = new JsonObject { ["publicKey"] = key, ["endpoint"] = "192.0.2.7:51820", ["allowedIps"] = new JsonArray("10.9.0.0/24"), ["persistentKeepalive"] = 25 };
        using var added = await _client.PutAsync("/v1/hub/networks/net1/peers", Requests.Json(peer));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.False((await Requests.ReadAsync(added)).GetProperty("hasPresharedKey").GetBoolean());
        using var updated = await _client.PutAsync("/v1/hub/networks/net1/peers", Requests.Json(peer));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var mutations = _factory.Hub.Mutations.Count;

        foreach (var (bad, fields) in new (JsonObject, string[])[]
        {
            (new JsonObject { ["publicKey"] = "nope", ["allowedIps"] = new JsonArray("10.9.1.0/33", "10.9.2.1/24"), ["persistentKeepalive"] = 65536 }, ["publicKey", "allowedIps", "allowedIps", "persistentKeepalive"]),
            (new JsonObject { ["endpoint"] = "192.0.2.7", ["presharedKey"] = "x" }, ["publicKey", "endpoint", "presharedKey"]),
            (new JsonObject { ["publicKey"] = key, ["allowedIps"] = "10.9.0.0/24" }, ["allowedIps"]),
            (new JsonObject { ["publicKey"] = key, ["keepalive"] = 5 }, ["keepalive"]),
        })
        {
            var problem = await Requests.ProblemAsync(await _client.PutAsync("/v1/hub/networks/net1/peers", Requests.Json(bad)), 400);
            Assert.Equal(fields, problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()));
        }

        Assert.Equal(mutations, _factory.Hub.Mutations.Count);
        await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/net1/peers/not-a-key"), 400);
        Assert.Equal(mutations, _factory.Hub.Mutations.Count);

        using var removed = await _client.DeleteAsync("/v1/hub/networks/net1/peers/" + Uri.EscapeDataString(key));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        (await _client.PutAsync("/v1/hub/networks/net1/peers", Requests.Json(peer))).Dispose();
        using var removedUrl = await _client.DeleteAsync("/v1/hub/networks/net1/peers/" + key.Replace('+', '-').Replace('/', '_').TrimEnd('='));
        Assert.Equal(HttpStatusCode.NoContent, removedUrl.StatusCode);
        Assert.Equal("No such peer", (await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/net1/peers/" + Uri.EscapeDataString(key)), 404)).GetProperty("title").GetString());
        Assert.Equal("No such network", (await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/nope/peers/" + Uri.EscapeDataString(key)), 404)).GetProperty("title").GetString());
    }

    /// <summary>A public key whose base64 has a '/' (so the path needs it encoded).</summary>
    private static string KeyWithSlash()
    {
        while (true)
        {
            var key = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
            if (key.Contains('/', StringComparison.Ordinal) && key.Contains('+', StringComparison.Ordinal))
            {
                return key;
            }
        }
    }
}
