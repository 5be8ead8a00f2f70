using System.Net;

namespace Aether.Server.Tests.Labs;

/// <summary>A deployed lab's links through the daemon with its runtime running: set down and up (both ends, kept so by
/// the runtime), hot connect and disconnect; checked with <c>ip -j</c>.</summary>
public sealed class LabLinkTests : LabApiTest
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_link_set_down_stays_down_and_comes_back_up()
    {
        await DeployAsync(Yaml());

        var down = await ExpectAsync(await Client.PatchAsync(LinkPath("r1:eth1-r2:eth1"), Json(new { state = "down" })), HttpStatusCode.OK);
        Assert.Equal("down", down.GetProperty("state").GetString());
        Assert.Equal("r1:eth1-r2:eth1", down.GetProperty("id").GetString());
        Assert.False(await IsUpAsync(Ns("r1"), "eth1"));
        Assert.False(await IsUpAsync(Ns("r2"), "eth1"));
        Assert.True(await IsUpAsync(Ns("r1"), "eth2"));

        // The runtime, started again on the lab as it is now, keeps it down.
        await Task.Delay(Settle);
        Assert.False(await IsUpAsync(Ns("r1"), "eth1"));
        Assert.False(await IsUpAsync(Ns("r2"), "eth1"));
        var links = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), HttpStatusCode.OK);
        Assert.Equal("down", States(links)["r1:eth1-r2:eth1"]);

        // Named by its endpoints' vendor names, the other way round, and not percent-encoded.
        var up = await ExpectAsync(await Client.PatchAsync($"/v1/labs/{Lab}/links/r2:ge-0/0/0-r1:Ethernet1", Json(new { state = "up" })), HttpStatusCode.OK);
        Assert.Equal("up", up.GetProperty("state").GetString());
        foreach (var ns in new[] { Ns("r1"), Ns("r2") })
        {
            var flags = Ip.Flags(await Ip.RequireLinkAsync(ns, "eth1"));
            Assert.Contains("UP", flags);
            Assert.Contains("LOWER_UP", flags);
        }

        await Task.Delay(Settle);
        Assert.True(await IsUpAsync(Ns("r1"), "eth1"));

        var unknown = await Requests.ProblemAsync(await Client.PatchAsync(LinkPath("r1:eth9-r2:eth9"), Json(new { state = "down" })), 404);
        Assert.Contains("r1:eth1-r2:eth1", unknown.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var sideways = await Requests.ProblemAsync(await Client.PatchAsync(LinkPath("r1:eth1-r2:eth1"), Json(new { state = "sideways" })), 400);
        Assert.Equal(["state"], Requests.Fields(sideways));
        await Requests.ProblemAsync(await Client.PatchAsync(LinkPath("r1:eth1-r2:eth1"), new StringContent("down")), 415);
        await Requests.ProblemAsync(await Client.PatchAsync($"/v1/labs/{Lab}x/links/r1:eth1-r2:eth1", Json(new { state = "down" })), 404);
        Assert.True(await IsUpAsync(Ns("r1"), "eth1"));
    }

    [Fact]
    public async Task Hot_connect_adds_a_veth_and_hot_disconnect_removes_it()
    {
        await DeployAsync(Yaml());
        var index = Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex");

        using (var response = await Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = new[] { "r1:Ethernet3", "r2:ge-0/0/2" }, mtu = 1500 })))
        {
            var link = await ExpectAsync(response, HttpStatusCode.Created);
            Assert.Equal($"/v1/labs/{Lab}/links/{Uri.EscapeDataString("r1:eth3-r2:eth3")}", response.Headers.Location?.OriginalString);
            Assert.Equal("r1:eth3-r2:eth3", link.GetProperty("id").GetString());
            Assert.Equal(["r1:Ethernet3", "r2:ge-0/0/2"], link.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal("up", link.GetProperty("state").GetString());
            Assert.Equal(1500, link.GetProperty("mtu").GetInt32());
        }

        await AssertVethAsync(Ns("r1"), "eth3", Ns("r2"), "eth3", mtu: 1500);
        Assert.True(await IsUpAsync(Ns("r2"), "eth3"));
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex"));
        var lab = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK);
        Assert.Contains("\"r1:Ethernet3\"", lab.GetProperty("definition").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, lab.GetProperty("links").GetArrayLength());

        // Refused with the request's fields; nothing changes.
        var used = await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = new[] { "r1:Ethernet1", "h1:eth5" } })), 400);
        Assert.Equal(["endpoints[0]"], Requests.Fields(used));
        var noNode = await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = new[] { "r1:Ethernet4", "r9:eth1" } })), 400);
        Assert.Equal(["endpoints[1]"], Requests.Fields(noNode));
        var badMtu = await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = new[] { "r1:Ethernet4", "h1:eth4" }, mtu = 10 })), 400);
        Assert.Equal(["mtu"], Requests.Fields(badMtu));
        var three = await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = new[] { "r1:Ethernet4", "h1:eth4", "r2:eth5" } })), 400);
        Assert.Equal(["endpoints"], Requests.Fields(three));
        await Requests.ProblemAsync(await Client.PostAsync($"/v1/labs/{Lab}x/links", Json(new { endpoints = new[] { "r1:Ethernet4", "h1:eth4" } })), 404);
        Assert.Null(await Ip.LinkAsync(Ns("r1"), "eth4"));
        var links = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), HttpStatusCode.OK);
        Assert.Equal(3, links.GetProperty("links").GetArrayLength());

        // The runtime runs on the lab with the link: it stays.
        await Task.Delay(Settle);
        Assert.NotNull(await Ip.LinkAsync(Ns("r1"), "eth3"));

        await ExpectAsync(await Client.DeleteAsync(LinkPath("r2:ge-0/0/2-r1:Ethernet3")), HttpStatusCode.NoContent);
        Assert.Null(await Ip.LinkAsync(Ns("r1"), "eth3"));
        Assert.Null(await Ip.LinkAsync(Ns("r2"), "eth3"));
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex"));
        links = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), HttpStatusCode.OK);
        Assert.Equal(new Dictionary<string, string> { ["r1:eth1-r2:eth1"] = "up", ["h1:eth1-r1:eth2"] = "up" }, States(links));

        // The runtime runs on the lab without it: it does not come back.
        await Task.Delay(Settle);
        Assert.Null(await Ip.LinkAsync(Ns("r1"), "eth3"));
        await Requests.ProblemAsync(await Client.DeleteAsync(LinkPath("r1:eth3-r2:eth3")), 404);
    }

    [Fact]
    public async Task Concurrent_hot_connects_take_turns_and_none_is_lost()
    {
        await DeployAsync(Yaml());

        // Each reads the lab, adds its link and deploys the result: were they not one at a time, a later one would
        // deploy a lab without an earlier one's link, and the engine would delete its veth.
        string[][] added = [["r1:Ethernet3", "r2:ge-0/0/2"], ["r1:Ethernet4", "h1:eth4"], ["r2:ge-0/0/4", "h1:eth5"], ["r1:Ethernet6", "h1:eth6"]];
        var responses = await Task.WhenAll(added.Select(e => Client.PostAsync($"/v1/labs/{Lab}/links", Json(new { endpoints = e }))));
        foreach (var response in responses)
        {
            Assert.Equal("up", (await ExpectAsync(response, HttpStatusCode.Created)).GetProperty("state").GetString());
        }

        var links = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/links"), HttpStatusCode.OK);
        Assert.Equal(6, links.GetProperty("links").GetArrayLength());
        Assert.All(States(links).Values, s => Assert.Equal("up", s));
        await AssertVethAsync(Ns("r1"), "eth3", Ns("r2"), "eth3");
        await AssertVethAsync(Ns("r1"), "eth4", Ns("h1"), "eth4");
        await AssertVethAsync(Ns("r2"), "eth5", Ns("h1"), "eth5");
        await AssertVethAsync(Ns("r1"), "eth6", Ns("h1"), "eth6");
    }
}
