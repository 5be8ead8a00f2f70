using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aether.Cni.Tests;

/// <summary>
/// The plugin driven as the spec drives it, without a daemon: VERSION, the environment and the configuration
/// checked (every bad field named in the error object, exit non-zero), and the daemon not running (code 11). A socket
/// that does not exist proves nothing was asked of a daemon: none could have answered, and a refusal before the
/// request names the field rather than the socket.
/// </summary>
public sealed class PluginTests : IDisposable
{
    private const string Key = "YFBU3CgdFPjqLMBqMRDyqCQmTLsT36MhAnKyVPSh9WI=";
    private const string PeerKey = "aA0ng8jmGhWzf9tJuvqa06ykWGuAQ0b7tEczl6+Akkw=";
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-cni-unit-").FullName;

    private string Socket => Path.Combine(_dir, "none.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A valid configuration with <paramref name="change"/> applied.</summary>
    private string Config(Action<JsonObject>? change = null)
    {
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = "aetnet", ["type"] = "aether-cni", ["socket"] = Socket, ["index"] = 7, ["privateKey"] = Key,
            ["listenPort"] = 51900, ["networkCidr"] = "10.77.0.0/24", ["gateway"] = "10.77.0.1",
            ["peers"] = new JsonArray(new JsonObject { ["publicKey"] = PeerKey, ["endpoint"] = "192.0.2.1:51820" }),
        };
        change?.Invoke(config);
        return config.ToJsonString();
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"cniVersion\":\"1.0.0\"}")]
    [InlineData("{\"cniVersion\":\"0.3.1\"}")]
    public async Task Version_answers_the_supported_versions(string stdin)
    {
        var r = await CniPlugin.RunAsync(new Dictionary<string, string?> { ["CNI_COMMAND"] = "VERSION" }, stdin);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal("1.0.0", r.Json.GetProperty("cniVersion").GetString());
        Assert.Equal(["1.0.0"], r.Json.GetProperty("supportedVersions").EnumerateArray().Select(v => v.GetString()));
    }

    [Theory]
    [InlineData(null, "CNI_COMMAND", "is not set")]
    [InlineData("ATTACH", "CNI_COMMAND", "ADD, DEL, CHECK or VERSION")]
    [InlineData("add", "CNI_COMMAND", "'add' is not a command")]
    public async Task A_bad_command_is_code_4(string? command, string field, string text)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env(command!), Config());
        Assert.True(r.Code != 0, r.ToString());
        Assert.Equal(4, r.ErrorCode);
        Assert.Contains(field, r.Msg, StringComparison.Ordinal);
        Assert.Contains(text, r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_bad_variable_is_named_at_once()
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD", containerId: "-bad id", netns: "relative/ns", ifName: "this-name-is-too-long", args: "FOO=1;IP=10.77.0.300;junk"), Config());
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(4, r.ErrorCode);
        foreach (var text in (string[])["CNI_CONTAINERID: '-bad id' is not allowed", "CNI_NETNS: 'relative/ns' is not an absolute path", "CNI_IFNAME", "'FOO' is not a known key", "IP='10.77.0.300' is not an IP address", "'junk' is not KEY=VALUE"])
        {
            Assert.Contains(text, r.Msg, StringComparison.Ordinal);
            Assert.Contains(text, r.Json.GetProperty("details").GetString()!, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("ADD", "CNI_NETNS")]
    [InlineData("CHECK", "CNI_NETNS")]
    [InlineData("ADD", "CNI_CONTAINERID")]
    [InlineData("DEL", "CNI_IFNAME")]
    public async Task A_missing_variable_is_named(string command, string missing)
    {
        var env = CniPlugin.Env(command);
        env[missing] = null;
        var r = await CniPlugin.RunAsync(env, Config());
        Assert.Equal(4, r.ErrorCode);
        Assert.Contains(missing + ": is not set", r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Del_needs_no_netns_and_ignore_unknown_lets_runtime_args_pass()
    {
        // Passes the environment and the configuration, then finds no daemon: code 11, not 4.
        var r = await CniPlugin.RunAsync(CniPlugin.Env("DEL", netns: null, args: "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.77.0.9"), Config());
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(11, r.ErrorCode);
        Assert.Contains("the aether daemon is not running: " + Socket + " does not exist", r.Msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("CHECK")]
    public async Task No_daemon_is_try_again_later(string command)
    {
        var prev = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["interfaces"] = new JsonArray(new JsonObject { ["name"] = "eth0", ["sandbox"] = "/run/netns/aetnone" }),
            ["ips"] = new JsonArray(new JsonObject { ["address"] = "10.77.0.2/24", ["interface"] = 0 }),
        };
        var r = await CniPlugin.RunAsync(CniPlugin.Env(command), Config(c => c["prevResult"] = prev));
        Assert.Equal(11, r.ErrorCode);
        Assert.Equal("1.0.0", r.Json.GetProperty("cniVersion").GetString());
    }

    [Fact]
    public async Task Every_bad_field_of_the_configuration_is_named_at_once()
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c =>
        {
            c["name"] = "bad name!";
            c["index"] = 10000;
            c["listenPort"] = "51900";
            c["networkCidr"] = "10.77.0.1/24";
            c["gateway"] = "10.78.0.1";
            c["socket"] = "relative.sock";
            c["privateKey"] = "not-a-key";
            c["peers"] = new JsonArray(new JsonObject { ["publicKey"] = "short", ["endpoint"] = "192.0.2.1", ["allowedIps"] = new JsonArray("10.0.0.0/33"), ["persistentKeepalive"] = -1 }, "x");
            c["dns"] = new JsonObject { ["nameservers"] = new JsonArray("not-ip") };
            c["disableCheck"] = "yes";
        }));
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(7, r.ErrorCode);
        var details = r.Json.GetProperty("details").GetString()!;
        foreach (var field in (string[])["name:", "index: 10000 is not allowed", "listenPort: \"51900\"", "networkCidr: 10.77.0.1/24 has host bits set", "socket:", "privateKey: is not a WireGuard key",
            "peers[0].publicKey", "peers[0].endpoint", "peers[0].allowedIps", "peers[0].persistentKeepalive", "peers[1]: must be an object", "dns.nameservers: 'not-ip'", "disableCheck: must be true or false"])
        {
            Assert.Contains(field, details, StringComparison.Ordinal);
            Assert.Contains(field, r.Msg, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\"masquerade\"", "'masquerade' is not a policy: it must be warn")]
    [InlineData("\"Require\"", "'Require' is not a policy: it must be warn")]
    [InlineData("\"\"", "'' is not a policy: it must be warn")]
    [InlineData("1", "must be a JSON string")]
    [InlineData("[\"require\"]", "must be a JSON string")]
    public async Task A_bad_nat_policy_is_code_7_naming_the_field(string value, string text)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => c["natPolicy"] = JsonNode.Parse(value)));
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains("natPolicy: " + text, r.Msg, StringComparison.Ordinal);
        Assert.Contains("natPolicy: " + text, r.Json.GetProperty("details").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Socket, r.Msg, StringComparison.Ordinal);
        Assert.False(File.Exists(Socket));
    }

    [Theory]
    [InlineData("index", "is missing")]
    [InlineData("listenPort", "is missing")]
    [InlineData("networkCidr", "is missing")]
    [InlineData("gateway", "is missing")]
    [InlineData("privateKey", "is missing: give privateKey")]
    [InlineData("name", "is missing")]
    [InlineData("type", "is missing")]
    public async Task A_missing_field_is_named(string field, string text)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => c.Remove(field)));
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains(field + ": " + text, r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gateway_outside_the_network_and_both_keys_are_refused()
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c =>
        {
            c["gateway"] = "10.78.0.1";
            c["privateKeyFile"] = "/nonexistent";
            c["ipam"] = new JsonObject { ["address"] = "10.79.0.5" };
        }));
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains("gateway: 10.78.0.1 is not a host address of networkCidr 10.77.0.0/24", r.Msg, StringComparison.Ordinal);
        Assert.Contains("privateKey: give privateKey or privateKeyFile, not both", r.Msg, StringComparison.Ordinal);
        Assert.Contains("ipam.address: 10.79.0.5 is not inside networkCidr", r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_file_is_read_and_a_bad_one_named()
    {
        var good = Path.Combine(_dir, "good.key");
        var bad = Path.Combine(_dir, "bad.key");
        await File.WriteAllTextAsync(good, Key + "\n");
        await File.WriteAllTextAsync(bad, "nonsense\n");
        var ok = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => { c.Remove("privateKey"); c["privateKeyFile"] = good; }));
        Assert.Equal(11, ok.ErrorCode);
        var wrong = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => { c.Remove("privateKey"); c["privateKeyFile"] = bad; }));
        Assert.Equal(7, wrong.ErrorCode);
        Assert.Contains($"privateKeyFile: {bad} does not hold a WireGuard key", wrong.Msg, StringComparison.Ordinal);
        var missing = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => { c.Remove("privateKey"); c["privateKeyFile"] = _dir + "/missing.key"; }));
        Assert.Equal(7, missing.ErrorCode);
        Assert.Contains("privateKeyFile: cannot read " + _dir + "/missing.key", missing.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Del_reads_no_key_so_a_removed_key_file_does_not_block_it()
    {
        var gone = _dir + "/removed.key";
        var del = await CniPlugin.RunAsync(CniPlugin.Env("DEL"), Config(c => { c.Remove("privateKey"); c["privateKeyFile"] = gone; }));
        Assert.Equal(11, del.ErrorCode); // past the configuration, to the (missing) daemon
        var add = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c => { c.Remove("privateKey"); c["privateKeyFile"] = gone; }));
        Assert.Equal(7, add.ErrorCode);
        Assert.Contains("privateKeyFile: cannot read " + gone, add.Msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ipMasq", "ipMasq: is not a field")]
    [InlineData("networkCIDR", "networkCIDR: is not a field")]
    [InlineData("ipamType", "ipam.type: delegating to an IPAM plugin is not supported")]
    public async Task An_unsupported_field_is_code_2(string field, string text)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), Config(c =>
        {
            if (field == "ipamType")
            {
                c["ipam"] = new JsonObject { ["type"] = "host-local" };
            }
            else
            {
                c[field] = true;
            }
        }));
        Assert.Equal(2, r.ErrorCode);
        Assert.Contains(text, r.Msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", 6)]
    [InlineData("[1,2]", 6)]
    [InlineData("{\"cniVersion\":\"0.4.0\",\"name\":\"x\",\"type\":\"aether-cni\"}", 1)]
    [InlineData("{\"cniVersion\":\"2.0.0\"}", 1)]
    public async Task Undecodable_or_unspoken_configuration(string stdin, int code)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD"), stdin);
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(code, r.ErrorCode);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"interfaces\":[{\"name\":\"eth0\"}]}")]
    [InlineData("{\"interfaces\":[{\"name\":\"eth1\",\"sandbox\":\"/run/netns/aetnone\"}]}")]
    public async Task Check_of_a_prev_result_without_the_interface_fails_before_the_daemon(string prev)
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("CHECK"), Config(c => c["prevResult"] = JsonNode.Parse(prev)));
        Assert.True(r.Code == 1, r.ToString());
        Assert.Equal(102, r.ErrorCode);
        Assert.Contains("prevResult has no interface eth0 in sandbox /run/netns/aetnone", r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_without_prev_result_is_refused()
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("CHECK"), Config());
        Assert.Equal(7, r.ErrorCode);
        Assert.Contains("prevResult: is missing", r.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_outside_the_network_in_cni_args_is_refused_before_the_daemon()
    {
        var r = await CniPlugin.RunAsync(CniPlugin.Env("ADD", args: "IP=10.99.0.5"), Config());
        Assert.Equal(4, r.ErrorCode);
        Assert.Contains("CNI_ARGS: IP=10.99.0.5 is not inside networkCidr 10.77.0.0/24", r.Msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "eth0")]
    [InlineData("a", "eth1")]
    [InlineData("podman-x.y_z", "net-1")]
    public void Attachment_ids_fit_the_hubs_rule_and_differ(string containerId, string ifName)
    {
        var id = AttachmentId.For(containerId, ifName);
        Assert.InRange(id.Length, 1, 64);
        Assert.True(id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'), id);
        Assert.Equal(id, AttachmentId.For(containerId, ifName));
        Assert.NotEqual(id, AttachmentId.For(containerId, ifName + "x"));
        Assert.NotEqual(AttachmentId.For("a-b", "eth0"), AttachmentId.For("a", "b-eth0"));
        Assert.StartsWith(containerId[..Math.Min(23, containerId.Length)] + "-", id, StringComparison.Ordinal);
    }

    [Fact]
    public void The_network_body_sends_one_plain_peer_as_the_single_peer_fields_and_others_as_peers()
    {
        var config = NetworkConfig.Parse(System.Text.Encoding.UTF8.GetBytes(Config()), CniCommand.Add);
        var one = JsonDocument.Parse(Plugin.NetworkBody(config)).RootElement;
        Assert.Equal("aetnet", one.GetProperty("networkId").GetString());
        Assert.Equal(PeerKey, one.GetProperty("peerPublicKey").GetString());
        Assert.False(one.TryGetProperty("peers", out _));
        var two = NetworkConfig.Parse(System.Text.Encoding.UTF8.GetBytes(Config(c => c["peers"] = new JsonArray(
            new JsonObject { ["publicKey"] = PeerKey, ["allowedIps"] = new JsonArray("10.77.0.0/25") }, new JsonObject { ["publicKey"] = Key }))), CniCommand.Add);
        var body = JsonDocument.Parse(Plugin.NetworkBody(two)).RootElement;
        Assert.Equal(2, body.GetProperty("peers").GetArrayLength());
        Assert.False(body.TryGetProperty("peerPublicKey", out _));
    }
}
