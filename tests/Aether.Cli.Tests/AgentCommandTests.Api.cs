using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary>A placed lab through the daemon's API (<c>aether serve --db postgres://…</c> as the controller), with
/// real agent processes on two simulated hosts: the oracles are <c>ip -d</c>, ping and the namespaces left.</summary>
public sealed partial class AgentCommandTests
{
    [Fact]
    public async Task A_placed_lab_posted_to_the_controller_comes_up_through_the_agents_and_deletes_whole()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var database = server.Url(await server.CreateDatabaseAsync());
        var (h1, h2) = (Box.Name("h1"), Box.Name("h2"));
        await HostsAsync(h1, h2);
        var lab = Box.Token;
        foreach (var node in new[] { "r1", "r2", "r3" })
        {
            Box.TrackNamespace($"{lab}-{node}");
        }

        StartAgent(database, "h1", "192.168.251.1", h1);
        StartAgent(database, "h2", "192.168.251.2", h2);
        var socket = Path.Combine(_dir, "serve.sock");
        var daemon = Cli.Start("serve", "--socket", socket, "--db", database, "--state-dir", Path.Combine(_dir, "serve"), "--wireguard-prefix", Box.Name("w"));
        _agents.Add(daemon); // stopped (SIGKILL) and disposed with the agents, also when the test fails
        daemon.OutputDataReceived += (_, e) => Keep("serve", e.Data);
        daemon.ErrorDataReceived += (_, e) => Keep("serve", e.Data);
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        using var http = Client(socket);

        // The controller leads (it is alone) and both agents registered.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ready = false;
            if (File.Exists(socket))
            {
                using var response = await http.GetAsync(new Uri("/v1/cluster", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    using var view = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    ready = view.RootElement.GetProperty("role").GetString() == "leader" && view.RootElement.GetProperty("hosts").GetArrayLength() == 2;
                }
            }

            if (ready)
            {
                break;
            }

            Assert.False(daemon.HasExited, "the daemon exited\n" + AgentOutput());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no leader with two hosts within 60 s\n" + AgentOutput());
            await Task.Delay(100);
        }

        var yaml = $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r2:eth2, r3:eth1]\n";
        using (var content = new StringContent(yaml, Encoding.UTF8, "application/yaml"))
        using (var deployed = await http.PostAsync(new Uri("/v1/labs", UriKind.Relative), content))
        {
            var body = await deployed.Content.ReadAsStringAsync();
            Assert.True(deployed.StatusCode == HttpStatusCode.Created, $"{deployed.StatusCode}: {body}\n{AgentOutput()}");
            using var view = JsonDocument.Parse(body);
            Assert.True(view.RootElement.GetProperty("placed").GetBoolean());
            Assert.Equal(2, view.RootElement.GetProperty("up").GetInt32());
            Assert.All(view.RootElement.GetProperty("links").EnumerateArray(), l => Assert.Equal("up", l.GetProperty("state").GetString()));
        }

        // The kernel agrees: r1's end is a VXLAN towards h2's underlay, r2-r3 a veth pair on h2, and a frame crosses.
        var vxlan = await Ip.RequireLinkAsync($"{lab}-r1", "eth1");
        Assert.Equal("vxlan", vxlan.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal("192.168.251.2", vxlan.GetProperty("linkinfo").GetProperty("info_data").GetProperty("remote").GetString());
        Assert.Equal("veth", (await Ip.RequireLinkAsync($"{lab}-r3", "eth1")).GetProperty("linkinfo").GetProperty("info_kind").GetString());
        await Ip.RunAsync("-n", $"{lab}-r1", "addr", "add", "10.63.0.1/24", "dev", "eth1");
        await Ip.RunAsync("-n", $"{lab}-r2", "addr", "add", "10.63.0.2/24", "dev", "eth1");
        var ping = await Ip.RunInAsync($"{lab}-r1", "ping", "-c", "2", "-W", "2", "10.63.0.2");
        Assert.True(ping.Code == 0, ping.Stdout + ping.Stderr);

        // The veth fabric has no shared VTEPs: the tunnels list is empty, and it is there.
        using (var tunnels = await http.GetAsync(new Uri($"/v1/labs/{lab}/tunnels", UriKind.Relative)))
        {
            var body = await tunnels.Content.ReadAsStringAsync();
            Assert.True(tunnels.IsSuccessStatusCode, body);
            using var view = JsonDocument.Parse(body);
            Assert.Equal(0, view.RootElement.GetProperty("tunnels").GetArrayLength());
        }

        using (var deleted = await http.DeleteAsync(new Uri($"/v1/labs/{lab}", UriKind.Relative)))
        {
            Assert.True(deleted.StatusCode == HttpStatusCode.NoContent, $"{deleted.StatusCode}: {await deleted.Content.ReadAsStringAsync()}\n{AgentOutput()}");
        }

        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(lab + "-", StringComparison.Ordinal));
        using (var gone = await http.GetAsync(new Uri($"/v1/labs/{lab}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Cli.Terminate(daemon);
        Assert.True(daemon.WaitForExit(30_000), "the daemon did not stop within 30 s of SIGTERM");
    }

    private static HttpClient Client(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = new Uri("http://aether"),
        Timeout = TimeSpan.FromSeconds(100),
    };
}
