using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aether.Cni.Tests;

/// <summary>
/// The plugin against a stand-in daemon (<see cref="FakeDaemon"/>) and a real test namespace as the container: what
/// it asks the daemon (the bodies, the attachment id), how each answer becomes a result or a CNI error, and CHECK's
/// comparison with the kernel (a veth made by hand with <c>ip</c>; this kernel has no dummy links).
/// </summary>
public sealed class FakeDaemonTests : SandboxTest
{
    private const string Key = "YFBU3CgdFPjqLMBqMRDyqCQmTLsT36MhAnKyVPSh9WI=";
    private string _dir = null!;
    private string _ns = null!;

    protected override async Task SetUpAsync()
    {
        _ns = await Box.CreateNamespaceWithIpAsync("c");
        await Ip.RunAsync("-n", _ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p");
        await Ip.RunAsync("-n", _ns, "link", "set", "eth0p", "up");
        await Ip.RunAsync("-n", _ns, "addr", "add", "10.77.0.5/24", "dev", "eth0");
        await Ip.RunAsync("-n", _ns, "link", "set", "eth0", "up");
        _dir = Directory.CreateTempSubdirectory("aet-cni-fake-").FullName; // last: a setup that fails leaves no directory
    }

    protected override Task TearDownAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private string Socket => Path.Combine(_dir, "fake.sock");

    private string Config(JsonNode? prev = null)
    {
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = "aetnet", ["type"] = "aether-cni", ["socket"] = Socket, ["index"] = 7, ["privateKey"] = Key,
            ["listenPort"] = 51900, ["networkCidr"] = "10.77.0.0/24", ["gateway"] = "10.77.0.1",
        };
        if (prev is not null)
        {
            config["prevResult"] = prev;
        }

        return config.ToJsonString();
    }

    private Dictionary<string, string?> Env(string command, string? args = null) =>
        CniPlugin.Env(command, containerId: "aetcid", netns: "/run/netns/" + _ns, ifName: "eth0", args: args);

    private string AttachmentJson(string address = "10.77.0.5") => new JsonObject
    {
        ["attachmentId"] = AttachmentId.For("aetcid", "eth0"), ["networkId"] = "aetnet", ["container"] = "/run/netns/" + _ns, ["hostInterface"] = "aetveth7",
        ["interface"] = "eth0", ["address"] = address, ["gateway"] = "10.77.0.1", ["defaultRoute"] = true,
    }.ToJsonString();

    private static string Problem(int status, string detail, string? field = null) => new JsonObject
    {
        ["status"] = status, ["title"] = "x", ["detail"] = detail, ["step"] = field is null ? "create veth" : null,
        ["errors"] = field is null ? null : new JsonArray(new JsonObject { ["field"] = field, ["message"] = "is required" }),
    }.ToJsonString();

    [Fact]
    public async Task Add_sends_the_network_without_container_then_the_attachment_and_writes_the_result()
    {
        await using var daemon = new FakeDaemon(Socket, r => r.Path.EndsWith("/attachments", StringComparison.Ordinal) ? (201, AttachmentJson()) : (201, "{}"));
        var r = await CniPlugin.RunAsync(Env("ADD", "IP=10.77.0.5"), Config());
        Assert.True(r.Code == 0, r.ToString());

        var requests = daemon.Requests;
        Assert.Equal(["POST /v1/hub/networks", "POST /v1/hub/networks/aetnet/attachments"], requests.Select(q => q.Method + " " + q.Path));
        var network = JsonDocument.Parse(requests[0].Body).RootElement;
        Assert.False(network.TryGetProperty("container", out _));
        Assert.Equal(7, network.GetProperty("index").GetInt32());
        Assert.Equal("10.77.0.0/24", network.GetProperty("networkCidr").GetString());
        var attach = JsonDocument.Parse(requests[1].Body).RootElement;
        Assert.Equal(AttachmentId.For("aetcid", "eth0"), attach.GetProperty("attachmentId").GetString());
        Assert.Equal("/run/netns/" + _ns, attach.GetProperty("container").GetString());
        Assert.Equal("eth0", attach.GetProperty("interface").GetString());
        Assert.Equal("10.77.0.5", attach.GetProperty("address").GetString());

        var result = r.Json;
        Assert.Equal("aetveth7", result.GetProperty("interfaces")[0].GetProperty("name").GetString());
        Assert.False(result.GetProperty("interfaces")[0].TryGetProperty("sandbox", out _));
        Assert.Equal(Ip.Str(await Ip.RequireLinkAsync(_ns, "eth0"), "address"), result.GetProperty("interfaces")[1].GetProperty("mac").GetString());
        Assert.Equal("10.77.0.5/24", result.GetProperty("ips")[0].GetProperty("address").GetString());
        Assert.Equal(1, result.GetProperty("ips")[0].GetProperty("interface").GetInt32());
        Assert.Equal(["10.77.0.0/24 via 10.77.0.1", "0.0.0.0/0 via 10.77.0.1"],
            result.GetProperty("routes").EnumerateArray().Select(x => x.GetProperty("dst").GetString() + " via " + x.GetProperty("gw").GetString()));
    }

    [Fact]
    public async Task Add_chained_after_a_prev_result_appends_and_shifts_the_indices()
    {
        await using var daemon = new FakeDaemon(Socket, r => r.Path.EndsWith("/attachments", StringComparison.Ordinal) ? (200, AttachmentJson()) : (200, "{}"));
        var prev = JsonNode.Parse("""{"cniVersion":"1.0.0","interfaces":[{"name":"a"},{"name":"b"}],"ips":[{"address":"192.0.2.2/24","interface":1}],"routes":[{"dst":"192.0.2.0/24"}]}""");
        var r = await CniPlugin.RunAsync(Env("ADD"), Config(prev));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(["a", "b", "aetveth7", "eth0"], r.Json.GetProperty("interfaces").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal([1, 3], r.Json.GetProperty("ips").EnumerateArray().Select(i => i.GetProperty("interface").GetInt32()));
        Assert.Equal(3, r.Json.GetProperty("routes").GetArrayLength());
    }

    [Theory]
    [InlineData("require")]
    [InlineData("warn")]
    [InlineData(null)]
    public async Task Nat_policy_goes_with_the_network_only_when_given(string? policy)
    {
        await using var daemon = new FakeDaemon(Socket, r => r.Path.EndsWith("/attachments", StringComparison.Ordinal) ? (201, AttachmentJson()) : (201, "{}"));
        var config = JsonNode.Parse(Config())!.AsObject();
        if (policy is not null)
        {
            config["natPolicy"] = policy;
        }

        var r = await CniPlugin.RunAsync(Env("ADD", "IP=10.77.0.5"), config.ToJsonString());
        Assert.True(r.Code == 0, r.ToString());
        var network = JsonDocument.Parse(daemon.Requests[0].Body).RootElement;
        Assert.Equal(policy, network.TryGetProperty("natPolicy", out var sent) ? sent.GetString() : null);
        Assert.False(JsonDocument.Parse(daemon.Requests[1].Body).RootElement.TryGetProperty("natPolicy", out _));
    }

    [Fact]
    public async Task A_bad_nat_policy_asks_the_daemon_nothing()
    {
        await using var daemon = new FakeDaemon(Socket, _ => (201, "{}"));
        var links = await Ip.LinkNamesAsync(_ns);
        var config = JsonNode.Parse(Config())!.AsObject();
        config["natPolicy"] = "always";
        var r = await CniPlugin.RunAsync(Env("ADD"), config.ToJsonString());
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains("natPolicy: 'always' is not a policy", r.Msg, StringComparison.Ordinal);
        Assert.Empty(daemon.Requests);
        Assert.Equal(links, await Ip.LinkNamesAsync(_ns));
    }

    [Theory]
    [InlineData(409, 100, "the daemon answered 409: network aetnet exists with another listenPort")]
    [InlineData(500, 101, "the daemon answered 500: network aetnet exists with another listenPort (step: create veth)")]
    public async Task A_refused_network_is_never_followed_by_the_attachment(int status, int code, string text)
    {
        await using var daemon = new FakeDaemon(Socket, _ => (status, Problem(status, "network aetnet exists with another listenPort")));
        var r = await CniPlugin.RunAsync(Env("ADD"), Config());
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(code, r.ErrorCode);
        Assert.Contains(text, r.Msg, StringComparison.Ordinal);
        Assert.Single(daemon.Requests);
    }

    [Fact]
    public async Task The_daemons_400_names_its_fields()
    {
        await using var daemon = new FakeDaemon(Socket, r => r.Path.EndsWith("/attachments", StringComparison.Ordinal) ? (400, Problem(400, "invalid", "address")) : (201, "{}"));
        var r = await CniPlugin.RunAsync(Env("ADD"), Config());
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains("address: is required", r.Msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(204, 0)]
    [InlineData(404, 0)]
    [InlineData(500, 101)]
    [InlineData(409, 100)]
    public async Task Del_succeeds_when_gone_and_reports_failures(int status, int code)
    {
        await using var daemon = new FakeDaemon(Socket, _ => (status, status == 204 ? "" : Problem(status, "no attachment")));
        var r = await CniPlugin.RunAsync(Env("DEL"), Config());
        Assert.Equal("DELETE /v1/hub/networks/aetnet/attachments/" + AttachmentId.For("aetcid", "eth0"), daemon.Requests.Single().Method + " " + daemon.Requests.Single().Path);
        if (code == 0)
        {
            Assert.True(r.Code == 0 && r.Stdout.Length == 0, r.ToString());
        }
        else
        {
            Assert.True(r.Code == 1, r.ToString());
            Assert.Equal(code, r.ErrorCode);
        }
    }

    private JsonNode PrevResult(string? mac, string address = "10.77.0.5/24") => JsonNode.Parse(new JsonObject
    {
        ["cniVersion"] = "1.0.0",
        ["interfaces"] = new JsonArray(new JsonObject { ["name"] = "aetveth7" }, new JsonObject { ["name"] = "eth0", ["mac"] = mac, ["sandbox"] = "/run/netns/" + _ns }),
        ["ips"] = new JsonArray(new JsonObject { ["address"] = address, ["gateway"] = "10.77.0.1", ["interface"] = 1 }),
    }.ToJsonString())!;

    [Fact]
    public async Task Check_compares_prev_result_the_daemon_and_the_kernel()
    {
        var attachments = "[" + AttachmentJson() + "]";
        await using var daemon = new FakeDaemon(Socket, _ => (200, "{\"networkId\":\"aetnet\",\"attachments\":" + attachments + "}"));
        var mac = Ip.Str(await Ip.RequireLinkAsync(_ns, "eth0"), "address");

        var ok = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.True(ok.Code == 0 && ok.Stdout.Length == 0, ok.ToString());

        var otherMac = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult("02:00:00:00:00:01")));
        Assert.Equal(102, otherMac.ErrorCode);
        Assert.Contains("has MAC " + mac + ", but prevResult says 02:00:00:00:00:01", otherMac.Msg, StringComparison.Ordinal);

        var otherAddress = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac, "10.77.0.6/24")));
        Assert.Equal(102, otherAddress.ErrorCode);
        Assert.Contains("prevResult says eth0 10.77.0.6/24", otherAddress.Msg, StringComparison.Ordinal);

        await Ip.RunAsync("-n", _ns, "link", "set", "eth0", "down");
        var down = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.Equal(102, down.ErrorCode);
        Assert.Contains("is down", down.Msg, StringComparison.Ordinal);

        await Ip.RunAsync("-n", _ns, "addr", "flush", "dev", "eth0");
        var noAddress = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.Equal(102, noAddress.ErrorCode);
        Assert.Contains("does not have 10.77.0.5/24 (it has none)", noAddress.Msg, StringComparison.Ordinal);

        await Ip.RunAsync("-n", _ns, "link", "del", "eth0");
        var gone = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.Equal(102, gone.ErrorCode);
        Assert.Contains("eth0 is not in /run/netns/" + _ns, gone.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_fails_when_the_daemon_lacks_the_network_or_the_attachment()
    {
        var missingNetwork = true;
        await using var daemon = new FakeDaemon(Socket, _ => missingNetwork ? (404, Problem(404, "no network")) : (200, "{\"attachments\":[]}"));
        var mac = Ip.Str(await Ip.RequireLinkAsync(_ns, "eth0"), "address");
        var r = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.Equal(102, r.ErrorCode);
        Assert.Contains("network aetnet is not in the daemon", r.Msg, StringComparison.Ordinal);
        missingNetwork = false;
        r = await CniPlugin.RunAsync(Env("CHECK"), Config(PrevResult(mac)));
        Assert.Equal(102, r.ErrorCode);
        Assert.Contains("has no attachment " + AttachmentId.For("aetcid", "eth0"), r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_container_namespace_that_is_not_there_is_code_3()
    {
        await using var daemon = new FakeDaemon(Socket, r => r.Path.EndsWith("/attachments", StringComparison.Ordinal) ? (201, AttachmentJson()) : (201, "{}"));
        var env = Env("ADD");
        env["CNI_NETNS"] = "/run/netns/" + Box.Token + "nope";
        var r = await CniPlugin.RunAsync(env, Config());
        Assert.Equal(3, r.ErrorCode);
        Assert.Contains("cannot open the container's network namespace", r.Msg, StringComparison.Ordinal);
    }
}
