using System.Net.Sockets;
using Aether.Docker.Tests.Infrastructure;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Docker.Tests;

/// <summary>The plugin's socket on the real daemon: where dockerd looks, mode 0600, the protocol's answers, refusals
/// that name the option and change nothing, a stale file replaced, a live one refused, removed at exit.</summary>
public sealed class PluginSocketTests : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aetplug-").FullName;
    private string _host = null!;

    [Fact]
    public async Task The_daemon_answers_the_protocol_on_its_plugin_socket_only()
    {
        var name = Box.Token + "p";
        await using var daemon = await Daemon.StartAsync(_dir, _host, Box.Name("w"), name);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(daemon.PluginSocket));

        using var plugin = new PluginClient(daemon.PluginSocket);
        var (status, body) = await plugin.CallAsync("Plugin.Activate", "{}");
        Assert.Equal(200, status);
        Assert.Equal("NetworkDriver", body.GetProperty("Implements")[0].GetString());
        (status, body) = await plugin.CallAsync("NetworkDriver.GetCapabilities", "");
        Assert.Equal(200, status);
        Assert.Equal("local", body.GetProperty("Scope").GetString());

        using var api = new PluginClient(daemon.Socket);
        Assert.Equal(404, (await api.CallAsync("Plugin.Activate", "{}")).Status);

        var bad = Messages.GoodOptions("99999");
        bad["colour"] = "blue";
        bad["cidr"] = "10.80.0.0/16";
        (status, body) = await plugin.CallAsync("NetworkDriver.CreateNetwork", Messages.CreateNetworkJson(Messages.NetworkId('a'), bad));
        Assert.Equal(400, status);
        var err = body.GetProperty("Err").GetString()!;
        Assert.Contains("-o port: '99999'", err, StringComparison.Ordinal);
        Assert.Contains("-o colour: unknown option", err, StringComparison.Ordinal);
        Assert.Contains("-o cidr: 10.80.0.0/16 differs from docker's pool 10.71.0.0/24", err, StringComparison.Ordinal);

        (status, body) = await plugin.CallAsync("NetworkDriver.CreateNetwork", "{not json");
        Assert.Equal(400, status);
        Assert.StartsWith("body:", body.GetProperty("Err").GetString(), StringComparison.Ordinal);
        (status, body) = await plugin.CallAsync("NetworkDriver.Join", """{"NetworkID":"x","EndpointID":"y","SandboxKey":"/proc/1/ns/net"}""");
        Assert.Equal(404, status);
        Assert.Contains("network x is not one of this driver's", body.GetProperty("Err").GetString(), StringComparison.Ordinal);

        // Nothing changed: no hub network, no link in the host namespace.
        var list = await CliProcess.RunAsync("hub", "list", "--socket", daemon.Socket, "-o", "json");
        Assert.Equal("[]", list.Stdout.Trim());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(_host));

        // A second daemon with the same name finds the live socket and refuses.
        var other = Directory.CreateTempSubdirectory("aetplug-").FullName;
        try
        {
            var second = await CliProcess.RunAsync("serve", "--socket", Path.Combine(other, "a.sock"), "--db", Path.Combine(other, "a.db"), "--namespace", _host, "--wireguard-prefix", Box.Name("v"), "--docker-plugin", name);
            Assert.True(second.Code == 1, second.ToString());
            Assert.Contains("another daemon is listening on " + daemon.PluginSocket, second.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }

        Assert.Equal(0, await daemon.StopAsync());
        Assert.False(File.Exists(daemon.PluginSocket), "the plugin socket outlived the daemon");
    }

    [Fact]
    public async Task A_stale_plugin_socket_is_replaced_and_a_bad_name_refused()
    {
        var name = Box.Token + "s";
        var path = $"/run/docker/plugins/{name}.sock";
        Directory.CreateDirectory("/run/docker/plugins");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path)); // bound, never listening, closed: what a crash leaves
        }

        try
        {
            await using var daemon = await Daemon.StartAsync(_dir, _host, Box.Name("w"), name);
            using var plugin = new PluginClient(daemon.PluginSocket);
            Assert.Equal(200, (await plugin.CallAsync("Plugin.Activate", "{}")).Status);
        }
        finally
        {
            File.Delete(path);
        }

        foreach (var bad in (string[])["", ".hidden", "a/b", new string('x', 65)])
        {
            var result = await CliProcess.RunAsync("serve", "--socket", Path.Combine(_dir, "b.sock"), "--db", Path.Combine(_dir, "b.db"), "--docker-plugin", bad);
            Assert.True(result.Code == 2, bad + ": " + result);
            Assert.Contains("--docker-plugin", result.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "b.db")), "a refused daemon made its database");
        }
    }

    protected override async Task SetUpAsync() => _host = (await Box.CreateNamespaceWithIpAsync("h"));

    protected override Task TearDownAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}
