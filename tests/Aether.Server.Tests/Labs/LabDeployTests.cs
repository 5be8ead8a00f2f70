using System.Net;
using System.Text.Json;

namespace Aether.Server.Tests.Labs;

/// <summary><c>POST /v1/labs</c> (YAML and JSON), list, get, delete and the 404s, through the daemon's socket, checked
/// with <c>ip -j</c>; an invalid lab refused with every problem at its position and nothing touched.</summary>
public sealed class LabDeployTests : LabApiTest
{
    [Fact]
    public async Task A_lab_deployed_as_yaml_is_listed_read_and_deleted()
    {
        var yaml = Yaml();
        using (var response = await Client.PostAsync("/v1/labs", YamlBody(yaml)))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"/v1/labs/{Lab}", response.Headers.Location?.OriginalString);
            var deployed = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("deploy", deployed.GetProperty("command").GetString());
            Assert.Equal(Lab, deployed.GetProperty("lab").GetString());
            Assert.False(deployed.TryGetProperty("counts", out _));
            Assert.Equal(JsonValueKind.Null, deployed.GetProperty("error").ValueKind);
            var first = deployed.GetProperty("links")[0];
            Assert.Equal(["r1:Ethernet1", "r2:ge-0/0/0"], first.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal(["r1:eth1", "r2:eth1"], first.GetProperty("linux").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal("r1:eth1-r2:eth1", first.GetProperty("id").GetString());
            Assert.Equal("up", first.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);
            Assert.Equal(JsonValueKind.Null, first.GetProperty("mtu").ValueKind);
            Assert.Equal(JsonValueKind.String, first.GetProperty("checked").ValueKind);
            var second = deployed.GetProperty("links")[1];
            Assert.Equal("h1:eth1-r1:eth2", second.GetProperty("id").GetString());
            Assert.Equal(9000, second.GetProperty("mtu").GetInt32());
            Assert.Equal("up", second.GetProperty("state").GetString());
        }

        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1");
        await AssertVethAsync(Ns("r1"), "eth2", Ns("h1"), "eth1", mtu: 9000);
        Assert.True(await IsUpAsync(Ns("r2"), "eth1"));
        var index = Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex");

        // The same lab again: 200, nothing remade.
        var again = await DeployAsync(yaml, HttpStatusCode.OK);
        Assert.All(States(again).Values, s => Assert.Equal("up", s));
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex"));

        var list = await ExpectAsync(await Client.GetAsync("/v1/labs"), HttpStatusCode.OK);
        var summary = list.EnumerateArray().Single(l => l.GetProperty("lab").GetString() == Lab);
        Assert.Equal("veth", summary.GetProperty("fabric").GetString());
        Assert.Equal(3, summary.GetProperty("nodes").GetInt32());
        Assert.Equal(2, summary.GetProperty("links").GetInt32());
        Assert.Equal(2, summary.GetProperty("up").GetInt32());
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        Assert.Equal("running", summary.GetProperty("runtime").GetProperty("state").GetString());

        var lab = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK);
        Assert.Equal(yaml, lab.GetProperty("definition").GetString());
        Assert.Equal(JsonValueKind.Null, lab.GetProperty("sourcePath").ValueKind);
        Assert.Equal("running", lab.GetProperty("runtime").GetProperty("state").GetString());
        var r1 = lab.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "r1");
        Assert.Equal("arista_ceos", r1.GetProperty("kind").GetString());
        Assert.Equal(Ns("r1"), r1.GetProperty("namespace").GetString());
        Assert.True(r1.GetProperty("present").GetBoolean());
        Assert.Equal(JsonValueKind.Null, r1.GetProperty("process").ValueKind);
        Assert.Equal(
            ["Ethernet1/eth1/r1:eth1-r2:eth1/up", "Ethernet2/eth2/h1:eth1-r1:eth2/up"],
            r1.GetProperty("interfaces").EnumerateArray().Select(i => $"{i.GetProperty("vendor")}/{i.GetProperty("linux")}/{i.GetProperty("link")}/{i.GetProperty("state")}"));
        Assert.Equal(2, lab.GetProperty("links").GetArrayLength());

        var links = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), HttpStatusCode.OK);
        Assert.Equal("links", links.GetProperty("command").GetString());
        Assert.Equal(new Dictionary<string, string> { ["r1:eth1-r2:eth1"] = "up", ["h1:eth1-r1:eth2"] = "up" }, States(links));

        await ExpectAsync(await Client.DeleteAsync($"/v1/labs/{Lab}"), HttpStatusCode.NoContent);
        Assert.Empty(await LabNamespacesAsync());
        var gone = await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}"), 404);
        Assert.Equal(Lab, gone.GetProperty("lab").GetString());
        await Requests.ProblemAsync(await Client.DeleteAsync($"/v1/labs/{Lab}"), 404);
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), 404);
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}/interface-mappings"), 404);
        await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/links/reconcile", null), 404);
        await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/interface-mappings/sync", null), 404);
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}/nodes/r1/interfaces"), 404);
        var after = await ExpectAsync(await Client.GetAsync("/v1/labs"), HttpStatusCode.OK);
        Assert.DoesNotContain(after.EnumerateArray(), l => l.GetProperty("lab").GetString() == Lab);
    }

    [Fact]
    public async Task A_lab_deployed_as_json_and_deployed_again_changed_is_redeployed()
    {
        var created = await ExpectAsync(await Client.PostAsync("/v1/labs", Json(new { definition = Yaml() })), HttpStatusCode.Created);
        Assert.All(States(created).Values, s => Assert.Equal("up", s));
        var index = Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex");

        // r1–h1 goes, r2:ge-0/0/1–h1:eth2 comes; r1–r2 stays as it is.
        var changed = $$"""
            name: {{Lab}}
            nodes:
              r1: { kind: arista_ceos }
              r2: { kind: juniper_vmx }
              h1: { kind: linux }
            links:
              - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
              - endpoints: ["r2:ge-0/0/1", "h1:eth2"]
            """;
        var redeployed = await ExpectAsync(await Client.PostAsync("/v1/labs", Json(new { definition = changed })), HttpStatusCode.OK);
        Assert.Equal(new Dictionary<string, string> { ["r1:eth1-r2:eth1"] = "up", ["h1:eth2-r2:eth2"] = "up" }, States(redeployed));
        Assert.Null(await Ip.LinkAsync(Ns("r1"), "eth2"));
        Assert.Null(await Ip.LinkAsync(Ns("h1"), "eth1"));
        await AssertVethAsync(Ns("r2"), "eth2", Ns("h1"), "eth2");
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex"));

        var lab = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK);
        Assert.Equal(changed, lab.GetProperty("definition").GetString());
        Assert.Equal(2, lab.GetProperty("links").GetArrayLength());
    }

    [Fact]
    public async Task An_invalid_lab_is_400_with_every_problem_at_its_position_and_touches_nothing()
    {
        var invalid = $$"""
            name: {{Lab}}
            nodes:
              r1: { kind: arista_ceos }
              r2: { kind: no_such_kind }
            links:
              - endpoints: ["r1:Ethernet1", "r3:eth1"]
              - endpoints: ["r1:eth2", "r2:eth1"]
                mtu: 10
            """;
        foreach (var body in new HttpContent[] { YamlBody(invalid), Json(new { definition = invalid }) })
        {
            var problem = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", body), 400);
            Assert.Equal("Invalid lab", problem.GetProperty("title").GetString());
            Assert.Contains("nothing was touched", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var errors = problem.GetProperty("errors").EnumerateArray().ToList();
            Assert.All(errors, e => Assert.Equal("definition", e.GetProperty("file").GetString()));
            Assert.Equal(
                [(4, 15, "nodes.r2.kind"), (6, 33, "links[0].endpoints[1]"), (8, 10, "links[1].mtu")],
                errors.Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("column").GetInt32(), e.GetProperty("message").GetString()!.Split(':')[0])));
        }

        var unknownField = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", Requests.Json("{\"definitoin\": \"name: x\"}")), 400);
        Assert.Equal(["definitoin"], Requests.Fields(unknownField));
        var missing = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", Requests.Json("{}")), 400);
        Assert.Equal(["definition"], Requests.Fields(missing));
        var notYaml = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", YamlBody("name: [unclosed")), 400);
        Assert.Equal("definition", notYaml.GetProperty("errors")[0].GetProperty("file").GetString());
        Assert.True(notYaml.GetProperty("errors")[0].GetProperty("line").GetInt32() >= 1);
        await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", new StringContent(Yaml())), 415);
        var badName = await Requests.ProblemAsync(await Client.GetAsync("/v1/labs/Not_A_Name"), 400);
        Assert.Equal(["lab"], Requests.Fields(badName));

        Assert.Empty(await LabNamespacesAsync());
        Assert.False(Directory.Exists(Path.Combine(State, "lab-" + Lab)));
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}"), 404);
        var list = await ExpectAsync(await Client.GetAsync("/v1/labs"), HttpStatusCode.OK);
        Assert.Equal(0, list.GetArrayLength());
    }
}
