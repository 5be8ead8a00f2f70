using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aether.Cni.Tests;

/// <summary>
/// The plugin against a real daemon: test namespaces stand for containers (<c>CNI_NETNS=/run/netns/NAME</c>), the
/// daemon's hub runs in a test namespace standing for the host. Checked with <c>ip -j</c> inside the containers.
/// </summary>
public sealed class AttachTests : SandboxTest
{
    private const string Key = "YFBU3CgdFPjqLMBqMRDyqCQmTLsT36MhAnKyVPSh9WI=";
    private const string PeerKey = "aA0ng8jmGhWzf9tJuvqa06ykWGuAQ0b7tEczl6+Akkw=";
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-cni-attach-").FullName;
    private Daemon _daemon = null!;
    private string _c1 = null!;
    private string _c2 = null!;

    protected override async Task SetUpAsync()
    {
        var host = Box.CreateNamespace("h");
        _c1 = await Box.CreateNamespaceWithIpAsync("c1");
        _c2 = await Box.CreateNamespaceWithIpAsync("c2");
        try
        {
            _daemon = await Daemon.StartAsync(_dir, host.Name!, Box.Name("w"));
        }
        catch
        {
            // xunit runs no teardown after a failed setup.
            Directory.Delete(_dir, recursive: true);
            throw;
        }
    }

    protected override async Task TearDownAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private string Config(Action<JsonObject>? change = null, JsonNode? prev = null)
    {
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = Box.Token + "net", ["type"] = "aether-cni", ["socket"] = _daemon.Socket, ["index"] = 3, ["privateKey"] = Key,
            ["listenPort"] = 51903, ["networkCidr"] = "10.213.0.0/24", ["gateway"] = "10.213.0.1",
            ["peers"] = new JsonArray(new JsonObject { ["publicKey"] = PeerKey, ["endpoint"] = "192.0.2.1:51820" }),
            ["dns"] = new JsonObject { ["nameservers"] = new JsonArray("10.213.0.1") },
        };
        if (prev is not null)
        {
            config["prevResult"] = prev;
        }

        change?.Invoke(config);
        return config.ToJsonString();
    }

    private static Dictionary<string, string?> Env(string command, string container, string? args = null) =>
        CniPlugin.Env(command, containerId: "aetcid-" + container, netns: "/run/netns/" + container, ifName: "eth0", args: args);

    /// <summary>The IPv4 addresses of <c>eth0</c> in <paramref name="ns"/> (<c>ip -j -n NS addr</c>), ADDRESS/LEN.</summary>
    private static async Task<List<string>> AddressesAsync(string ns)
    {
        var links = await Ip.JsonAsync(ns, "addr", "show");
        return [.. links.Where(l => Ip.Str(l, "ifname") == "eth0")
            .SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
            .Where(a => Ip.Str(a, "family") == "inet")
            .Select(a => Ip.Str(a, "local") + "/" + Ip.Int(a, "prefixlen"))];
    }

    [Fact]
    public async Task Add_check_del_and_two_containers_ping_each_other()
    {
        var add = await CniPlugin.RunAsync(Env("ADD", _c1), Config());
        Assert.True(add.Code == 0, add.ToString());
        var result = add.Json;
        Assert.Equal("1.0.0", result.GetProperty("cniVersion").GetString());
        var inside = result.GetProperty("interfaces")[1];
        Assert.Equal("eth0", inside.GetProperty("name").GetString());
        Assert.Equal("/run/netns/" + _c1, inside.GetProperty("sandbox").GetString());
        Assert.Equal(Ip.Str((await Ip.RequireLinkAsync(_c1, "eth0")), "address"), inside.GetProperty("mac").GetString());
        var ip = result.GetProperty("ips")[0];
        Assert.Equal(1, ip.GetProperty("interface").GetInt32());
        Assert.Equal("10.213.0.1", ip.GetProperty("gateway").GetString());
        var address1 = ip.GetProperty("address").GetString()!;
        Assert.Equal("10.213.0.2/32", address1); // the lowest free host address that is not the gateway, /32 as the hub gives it
        Assert.Equal([address1], await AddressesAsync(_c1));
        Assert.Equal(["10.213.0.0/24 via 10.213.0.1", "0.0.0.0/0 via 10.213.0.1"],
            result.GetProperty("routes").EnumerateArray().Select(x => x.GetProperty("dst").GetString() + " via " + x.GetProperty("gw").GetString()));
        Assert.Equal("10.213.0.1", result.GetProperty("dns").GetProperty("nameservers")[0].GetString());

        // ADD again: the same attachment, the same answer.
        var again = await CniPlugin.RunAsync(Env("ADD", _c1), Config());
        Assert.True(again.Code == 0, again.ToString());
        Assert.Equal(address1, again.Json.GetProperty("ips")[0].GetProperty("address").GetString());

        var check = await CniPlugin.RunAsync(Env("CHECK", _c1), Config(prev: JsonNode.Parse(add.Stdout)));
        Assert.True(check.Code == 0 && check.Stdout.Length == 0, check.ToString());

        // The second container asks for its address in CNI_ARGS; the two reach each other through the host.
        var add2 = await CniPlugin.RunAsync(Env("ADD", _c2, "IgnoreUnknown=1;IP=10.213.0.9;K8S_POD_NAME=x"), Config());
        Assert.True(add2.Code == 0, add2.ToString());
        Assert.Equal(["10.213.0.9/32"], await AddressesAsync(_c2));
        await PingAsync(_c1, "10.213.0.9");
        await PingAsync(_c2, "10.213.0.2");

        // The kernel drifts: CHECK says so with a code (eth0 missing, or recreated by the daemon with another MAC).
        await Ip.RunAsync("-n", _c1, "link", "del", "eth0");
        var drift = await CniPlugin.RunAsync(Env("CHECK", _c1), Config(prev: JsonNode.Parse(add.Stdout)));
        Assert.True(drift.Code == 1, drift.ToString());
        Assert.Equal(102, drift.ErrorCode);
        Assert.Contains("eth0", drift.Msg, StringComparison.Ordinal);

        var del = await CniPlugin.RunAsync(Env("DEL", _c1), Config());
        Assert.True(del.Code == 0 && del.Stdout.Length == 0, del.ToString());
        Assert.Null(await Ip.LinkAsync(_c1, "eth0"));
        var delAgain = await CniPlugin.RunAsync(Env("DEL", _c1), Config());
        Assert.True(delAgain.Code == 0, delAgain.ToString());
        var gone = await CniPlugin.RunAsync(Env("CHECK", _c1), Config(prev: JsonNode.Parse(add.Stdout)));
        Assert.Equal(102, gone.ErrorCode);
        Assert.Contains("has no attachment", gone.Msg, StringComparison.Ordinal);

        // The other container keeps its attachment; DEL without CNI_NETNS (the runtime lost it) still detaches.
        Assert.Equal(["10.213.0.9/32"], await AddressesAsync(_c2));
        var env = Env("DEL", _c2);
        env["CNI_NETNS"] = null;
        var del2 = await CniPlugin.RunAsync(env, Config());
        Assert.True(del2.Code == 0, del2.ToString());
        Assert.Null(await Ip.LinkAsync(_c2, "eth0"));
    }

    [Fact]
    public async Task Refusals_of_the_daemon_are_cni_errors_and_change_nothing()
    {
        var add = await CniPlugin.RunAsync(Env("ADD", _c1), Config());
        Assert.True(add.Code == 0, add.ToString());

        // The same network id with another port: the daemon's 409, code 100; the container gets nothing.
        var conflict = await CniPlugin.RunAsync(Env("ADD", _c2), Config(c => c["listenPort"] = 51999));
        Assert.True(conflict.Code == 1, conflict.ToString());
        Assert.Equal(100, conflict.ErrorCode);
        Assert.Contains("409", conflict.Msg, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(_c2, "eth0"));

        // The gateway's address asked for the container: the daemon's 400 naming the field, code 7.
        var taken = await CniPlugin.RunAsync(Env("ADD", _c2, "IP=10.213.0.1"), Config());
        Assert.True(taken.Code == 1, taken.ToString());
        Assert.Equal(7, taken.ErrorCode);
        Assert.Contains("address", taken.Msg, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(_c2, "eth0"));

        // The address of another container: refused (409 or 400), nothing made.
        var twice = await CniPlugin.RunAsync(Env("ADD", _c2, "IP=10.213.0.2"), Config());
        Assert.True(twice.Code == 1, twice.ToString());
        Assert.Contains(twice.ErrorCode, (int[])[7, 100]);
        Assert.Null(await Ip.LinkAsync(_c2, "eth0"));
        Assert.Equal(["10.213.0.2/32"], await AddressesAsync(_c1));

        // A container that does not exist.
        var env = Env("ADD", _c2);
        env["CNI_NETNS"] = "/run/netns/" + Box.Token + "nope";
        var missing = await CniPlugin.RunAsync(env, Config());
        Assert.True(missing.Code == 1, missing.ToString());
        Assert.Contains(missing.ErrorCode, (int[])[3, 7]);
        Assert.False(File.Exists("/run/netns/" + Box.Token + "nope"));
    }

    [Fact]
    public async Task Two_peers_as_a_list_and_a_required_nat_reach_the_daemon_and_the_device()
    {
        const string SecondKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
        var add = await CniPlugin.RunAsync(Env("ADD", _c1), Config(c =>
        {
            c["natPolicy"] = "require";
            c["peers"] = new JsonArray(
                new JsonObject { ["publicKey"] = PeerKey, ["endpoint"] = "192.0.2.1:51820", ["allowedIps"] = new JsonArray("10.50.0.0/24"), ["persistentKeepalive"] = 25 },
                new JsonObject { ["publicKey"] = SecondKey, ["allowedIps"] = new JsonArray("10.51.0.0/24", "10.52.0.0/24") });
        }));
        Assert.True(add.Code == 0, add.ToString());
        Assert.Equal(["10.213.0.2/32"], await AddressesAsync(_c1));

        // The daemon's REST status: the policy as configured, both peers configured and on the device.
        var network = (await StatusAsync()).GetProperty("networks").EnumerateArray().Single(n => n.GetProperty("network").GetProperty("networkId").GetString() == Box.Token + "net");
        Assert.Equal("require", network.GetProperty("nat").GetProperty("policy").GetString());
        Assert.Equal("ok", network.GetProperty("nat").GetProperty("state").GetString());
        Assert.Equal("require", network.GetProperty("network").GetProperty("natPolicy").GetString());
        var peers = network.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("publicKey").GetString()!);
        Assert.Equal(new[] { PeerKey, SecondKey }.Order(StringComparer.Ordinal), peers.Keys.Order(StringComparer.Ordinal));
        Assert.All(peers.Values, p => Assert.True(p.GetProperty("configured").GetBoolean() && p.GetProperty("onDevice").GetBoolean(), p.ToString()));
        Assert.Equal(["10.51.0.0/24", "10.52.0.0/24"], peers[SecondKey].GetProperty("allowedIps").EnumerateArray().Select(a => a.GetString()));

        // The device itself (wg(8)), not the daemon's view.
        var device = Box.Name("w") + "3";
        var (code, stdout, stderr) = await Ip.ExecAsync("wg", "show", device, "allowed-ips");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(PeerKey + "\t10.50.0.0/24", lines);
        Assert.Contains(lines, l => l.StartsWith(SecondKey + "\t", StringComparison.Ordinal) && l.Contains("10.51.0.0/24", StringComparison.Ordinal) && l.Contains("10.52.0.0/24", StringComparison.Ordinal));
        Assert.Equal(2, lines.Length);

        // The same network asked with another policy is the daemon's conflict; nothing is made for the container.
        var other = await CniPlugin.RunAsync(Env("ADD", _c2), Config(c =>
        {
            c["natPolicy"] = "warn";
            c["peers"] = new JsonArray(
                new JsonObject { ["publicKey"] = PeerKey, ["endpoint"] = "192.0.2.1:51820", ["allowedIps"] = new JsonArray("10.50.0.0/24"), ["persistentKeepalive"] = 25 },
                new JsonObject { ["publicKey"] = SecondKey, ["allowedIps"] = new JsonArray("10.51.0.0/24", "10.52.0.0/24") });
        }));
        Assert.True(other.Code == 1, other.ToString());
        Assert.Equal(100, other.ErrorCode);
        Assert.Null(await Ip.LinkAsync(_c2, "eth0"));

        var del = await CniPlugin.RunAsync(Env("DEL", _c1), Config());
        Assert.True(del.Code == 0, del.ToString());
        Assert.Null(await Ip.LinkAsync(_c1, "eth0"));
    }

    /// <summary><c>GET /v1/hub/status</c> of the daemon over its socket.</summary>
    private async Task<JsonElement> StatusAsync()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(_daemon.Socket), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri("http://aether/") };
        var body = await http.GetStringAsync(new Uri("/v1/hub/status", UriKind.Relative));
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task PingAsync(string ns, string address)
    {
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < 10; attempt++)
        {
            (code, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "1", address);
            if (code == 0)
            {
                return;
            }
        }

        Assert.Fail($"ping {address} from {ns} failed (exit {code}): {stdout} {stderr}");
    }
}
