using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json.Nodes;

namespace Aether.Server.Tests;

/// <summary>The API through the test server: statuses, problem details, and that a rejected request reaches no
/// mutating call of the hub.</summary>
public sealed class ApiTests : IDisposable
{
    private readonly ApiFactory _factory = new();
    private readonly HttpClient _client;

    public ApiTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Add_creates_then_the_same_request_is_200_and_list_and_status_show_it()
    {
        using var created = await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid()));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/hub/networks/net1", created.Headers.Location?.OriginalString);
        var info = await Requests.ReadAsync(created);
        Assert.Equal("wg1", info.GetProperty("wgInterface").GetString());
        Assert.Equal("eth1", info.GetProperty("ethInterface").GetString());
        Assert.Equal("10.1.0.0/24", info.GetProperty("networkCidr").GetString());
        Assert.False(info.TryGetProperty("privateKey", out _)); // never sent back

        using var again = await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var list = await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks"));
        Assert.Equal("net1", Assert.Single(list.EnumerateArray()).GetProperty("networkId").GetString());
        var one = await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks/net1"));
        Assert.Equal(1, one.GetProperty("index").GetInt32());

        var status = await Requests.ReadAsync(await _client.GetAsync("/v1/hub/status"));
        Assert.Equal("userspace", status.GetProperty("backend").GetString());
        var network = Assert.Single(status.GetProperty("networks").EnumerateArray());
        Assert.True(network.GetProperty("deviceUp").GetBoolean());
        Assert.Equal("192.0.2.2:51820", Assert.Single(network.GetProperty("peers").EnumerateArray()).GetProperty("endpoint").GetString());

        using var removed = await _client.DeleteAsync("/v1/hub/networks/net1");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(["add net1", "add net1", "remove net1"], _factory.Hub.Mutations);
    }

    public static TheoryData<string, string, string> BadBodies()
    {
        static string With(string field, JsonNode? value)
        {
            var body = Requests.Valid();
            body[field] = value;
            return body.ToJsonString();
        }

        static string Without(string field)
        {
            var body = Requests.Valid();
            body.Remove(field);
            return body.ToJsonString();
        }

        return new()
        {
            { "bad private key", With("privateKey", "not-a-key"), "privateKey" },
            { "bad peer key", With("peerPublicKey", "AAAA"), "peerPublicKey" },
            { "bad CIDR", With("networkCidr", "10.1.0.0/33"), "networkCidr" },
            { "CIDR with host bits", With("networkCidr", "10.1.0.1/24"), "networkCidr" },
            { "bad id", With("networkId", "no spaces allowed"), "networkId" },
            { "bad index", With("index", 10000), "index" },
            { "negative index", With("index", -1), "index" },
            { "bad namespace name", With("container", "../etc"), "container" },
            { "bad port", With("listenPort", 70000), "listenPort" },
            { "address outside the network", With("address", "10.9.0.2"), "address" },
            { "bad endpoint", With("peerEndpoint", "192.0.2.2"), "peerEndpoint" },
            { "missing gateway", Without("gateway"), "gateway" },
            { "missing network id", Without("networkId"), "networkId" },
            { "index of the wrong type", With("index", "one"), "index" },
            { "unknown field", With("netmask", "255.255.255.0"), "netmask" },
            { "malformed JSON", "{\"networkId\": \"net1\", ", "body" },
            { "not an object", "[1, 2]", "body" },
            { "null", "null", "body" },
        };
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_request_is_400_naming_the_field_and_reaches_no_mutating_call(string why, string body, string field)
    {
        using var response = await _client.PostAsync("/v1/hub/networks", Requests.Json(body));
        var problem = await Requests.ProblemAsync(response, 400);
        Assert.True(Requests.Fields(problem).Contains(field), $"{why}: {problem}");
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_factory.Hub.Mutations);
        Assert.Equal(0, (await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks"))).GetArrayLength());
    }

    [Theory]
    [InlineData("index", "\"one\"", "must be a JSON integer")]
    [InlineData("networkCidr", "24", "must be a JSON string")]
    [InlineData("netmask", "\"255.255.255.0\"", "is not a field of the request")]
    public async Task Json_of_the_wrong_shape_is_said_in_the_requests_words(string field, string value, string message)
    {
        var body = Requests.Valid().ToJsonString().TrimEnd('}') + $",\"{field}\":{value}}}";
        var problem = await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks", Requests.Json(body)), 400);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_factory.Hub.Mutations);
    }

    [Fact]
    public async Task Every_bad_field_is_named_at_once()
    {
        var body = Requests.Valid();
        body["privateKey"] = "x";
        body["networkCidr"] = "10.1.0.0/40";
        body["index"] = 123456;
        using var response = await _client.PostAsync("/v1/hub/networks", Requests.Json(body));
        var problem = await Requests.ProblemAsync(response, 400);
        Assert.Equal(["index", "privateKey", "networkCidr"], Requests.Fields(problem).Where(f => f is "index" or "privateKey" or "networkCidr"));
        Assert.Empty(_factory.Hub.Mutations);
    }

    [Fact]
    public async Task A_body_too_large_is_refused_without_a_call()
    {
        var body = Requests.Valid();
        body["container"] = new string('a', 100_000);
        using var response = await _client.PostAsync("/v1/hub/networks", Requests.Json(body));
        var problem = await Requests.ProblemAsync(response, 400);
        Assert.Equal(["body"], Requests.Fields(problem));
        Assert.Empty(_factory.Hub.Mutations);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        using var response = await _client.PostAsync("/v1/hub/networks", new StringContent("networkId=net1"));
        await Requests.ProblemAsync(response, 415);
        Assert.Empty(_factory.Hub.Mutations);
    }

    [Fact]
    public async Task Removing_an_unknown_network_is_404_and_a_bad_id_is_400_without_a_call()
    {
        var missing = await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/nope"), 404);
        Assert.Equal("nope", missing.GetProperty("networkId").GetString());
        Assert.Equal(["remove nope"], _factory.Hub.Mutations);

        var bad = await Requests.ProblemAsync(await _client.DeleteAsync("/v1/hub/networks/" + Uri.EscapeDataString("a b")), 400);
        Assert.Equal(["networkId"], Requests.Fields(bad));
        Assert.Equal(["remove nope"], _factory.Hub.Mutations);

        await Requests.ProblemAsync(await _client.GetAsync("/v1/hub/networks/nope"), 404);
    }

    [Fact]
    public async Task A_conflict_is_409_and_leaves_the_networks_as_they_were()
    {
        (await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid("net1", 1)))).EnsureSuccessStatusCode();
        var before = (await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks"))).GetRawText();

        // Another network on the same index, then the same id with other settings.
        await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid("net2", 1))), 409);
        var changed = Requests.Valid("net1", 1);
        changed["listenPort"] = 40000;
        var conflict = await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks", Requests.Json(changed)), 409);
        Assert.Equal("net1", conflict.GetProperty("networkId").GetString());

        Assert.Equal(before, (await Requests.ReadAsync(await _client.GetAsync("/v1/hub/networks"))).GetRawText());
    }

    [Fact]
    public async Task A_failed_step_is_500_naming_the_step()
    {
        _factory.Hub.FailStep = "links in the host";
        var problem = await Requests.ProblemAsync(await _client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid())), 500);
        Assert.Equal("links in the host", problem.GetProperty("step").GetString());
        Assert.Contains("EPERM", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_paths_are_404_problems()
    {
        await Requests.ProblemAsync(await _client.GetAsync("/v1/nothing"), 404);
    }

    [Fact]
    public async Task Health_and_status_report_the_daemon_and_the_hubs_loops()
    {
        var health = await Requests.ReadAsync(await _client.GetAsync("/v1/health"));
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal(["hub", "store", "loops", "labs"], health.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        var status = await Requests.ReadAsync(await _client.GetAsync("/v1/status"));
        Assert.Equal("test", status.GetProperty("version").GetString());
        Assert.Equal("userspace", status.GetProperty("backend").GetString());
        Assert.Equal(Environment.ProcessId, status.GetProperty("pid").GetInt32());
        Assert.True(status.GetProperty("uptimeSeconds").GetDouble() >= 0);
        var loop = Assert.Single(status.GetProperty("loops").EnumerateArray());
        Assert.Equal("hub/host", loop.GetProperty("source").GetString());
        Assert.Equal(3, loop.GetProperty("passes").GetInt64());
    }

    [Fact]
    public async Task The_openapi_document_lists_every_path()
    {
        using var response = await _client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Requests.ReadAsync(response);
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = doc.GetProperty("paths");
        string[] all =
        [
            "/v1/hub/networks", "/v1/hub/networks/{id}", "/v1/hub/status", "/v1/status",
            "/v1/labs", "/v1/labs/{lab}", "/v1/labs/{lab}/links", "/v1/labs/{lab}/links/reconcile", "/v1/labs/{lab}/links/{id}",
            "/v1/labs/{lab}/interface-mappings", "/v1/labs/{lab}/interface-mappings/sync", "/v1/labs/{lab}/nodes/{node}/interfaces",
        ];
        foreach (var path in all)
        {
            Assert.True(paths.TryGetProperty(path, out _), path + " missing from " + string.Join(", ", paths.EnumerateObject().Select(p => p.Name)));
        }

        var post = paths.GetProperty("/v1/hub/networks").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        foreach (var code in new[] { "201", "200", "400", "409" })
        {
            Assert.True(post.GetProperty("responses").TryGetProperty(code, out _), code);
        }

        var deploy = paths.GetProperty("/v1/labs").GetProperty("post");
        foreach (var type in new[] { "application/json", "application/yaml", "text/yaml" })
        {
            Assert.True(deploy.GetProperty("requestBody").GetProperty("content").TryGetProperty(type, out _), type);
        }

        foreach (var code in new[] { "201", "200", "400", "415" })
        {
            Assert.True(deploy.GetProperty("responses").TryGetProperty(code, out _), code);
        }

        Assert.True(paths.GetProperty("/v1/labs/{lab}/links/{id}").TryGetProperty("patch", out _));
        Assert.True(doc.GetProperty("components").GetProperty("schemas").TryGetProperty("LabLinksView", out _));
        Assert.True(doc.GetProperty("components").GetProperty("schemas").TryGetProperty("HubNetworkRequest", out var schema));
        Assert.True(schema.GetProperty("properties").TryGetProperty("networkCidr", out _));
        _ = JsonSerializer.Serialize(doc); // valid JSON through and through
    }
}
