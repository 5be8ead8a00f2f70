using System.Diagnostics;
using System.Runtime.InteropServices;
using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether agent</c> as people run it: one process per host (hosts simulated by namespaces on an underlay bridge),
/// a private PostgreSQL between them and <c>aether lab</c>; the oracles are <c>ip -d</c>, ping and psql.
/// </summary>
public sealed partial class AgentCommandTests : SandboxTest
{
    private readonly List<Process> _agents = [];
    private readonly List<string> _agentOutput = [];
    private string _dir = null!;

    [Fact]
    public async Task A_lab_across_two_hosts_comes_up_through_agent_processes_and_survives_one_killed()
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

        var agent1 = StartAgent(database, "h1", "192.168.251.1", h1);
        var agent2 = StartAgent(database, "h2", "192.168.251.2", h2);
        var file = Path.Combine(_dir, "lab.yaml");
        await File.WriteAllTextAsync(file, $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r2:eth2, r3:eth1]\n");
        string[] db = ["--db", database, "--state-dir", Path.Combine(_dir, "ctl")];

        var deployed = await DeployWhenRegisteredAsync(file, db);
        Assert.True(deployed.Code == 0, deployed + "\n--- agents\n" + AgentOutput());
        Assert.Contains("2 of 2 links up across 2 hosts", deployed.Stdout, StringComparison.Ordinal);
        var vxlan = await Ip.RequireLinkAsync($"{lab}-r1", "eth1");
        Assert.Equal("vxlan", vxlan.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal("192.168.251.2", vxlan.GetProperty("linkinfo").GetProperty("info_data").GetProperty("remote").GetString());
        await Ip.RunAsync("-n", $"{lab}-r1", "addr", "add", "10.62.0.1/24", "dev", "eth1");
        await Ip.RunAsync("-n", $"{lab}-r2", "addr", "add", "10.62.0.2/24", "dev", "eth1");
        var ping = await Ip.RunInAsync($"{lab}-r1", "ping", "-c", "3", "-W", "2", "10.62.0.2");
        Assert.True(ping.Code == 0, ping.Stdout + ping.Stderr);

        // h2's agent killed outright; its end deleted while it is away; a new agent puts it back, once.
        Assert.Equal(0, Kill(agent2.Id, 9));
        await agent2.WaitForExitAsync();
        await Ip.RunAsync("-n", $"{lab}-r2", "link", "del", "eth1");
        StartAgent(database, "h2", "192.168.251.2", h2);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await Ip.LinkAsync($"{lab}-r2", "eth1") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "r2:eth1 not back within 30 s of the agent's restart");
            await Task.Delay(100);
        }

        var verified = await VerifyWhenUpAsync(lab, db);
        Assert.True(verified.Code == 0, verified.ToString());
        Assert.Single((await Ip.LinksAsync($"{lab}-r2")).Select(l => l.GetProperty("ifname").GetString()), n => n == "eth1");
        Assert.Equal([["h1", "t"], ["h2", "t"]], await server.QueryAsync(database.Split('/')[^1], "SELECT id, now() - last_seen < interval '10 seconds' FROM cluster_hosts ORDER BY id"));

        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", file, .. db]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.DoesNotContain((await Ip.NetnsNamesAsync()), n => n.StartsWith(lab + "-", StringComparison.Ordinal));

        // SIGTERM: the agent stops at once, exit 0.
        Cli.Terminate(agent1);
        Assert.True(agent1.WaitForExit(10_000), "agent h1 did not stop within 10 s of SIGTERM");
        Assert.Equal(0, agent1.ExitCode);
    }

    [Fact]
    public async Task Bad_agent_options_and_a_placed_lab_on_SQLite_are_refused_and_change_nothing()
    {
        foreach (var (args, says) in new[]
        {
            (new[] { "--host-id", "H1", "--underlay", "192.0.2.1" }, "--host-id"),
            (["--host-id", "-h1", "--underlay", "192.0.2.1"], "--host-id"),
            (["--host-id", "auto", "--underlay", "192.0.2.1"], "--host-id"),
            (["--host-id", "h1", "--underlay", "224.0.0.5"], "--underlay"),
            (["--host-id", "h1", "--underlay", "0.0.0.0"], "--underlay"),
            (["--host-id", "h1", "--underlay", "not-an-address"], "--underlay"),
            (["--host-id", "h1", "--underlay", "192.0.2.1", "--resync", "soon"], "--resync"),
        })
        {
            var result = await Cli.RunAsync(["agent", "--db", "postgres://nobody@127.0.0.1:1/none", .. args]);
            Assert.True(result.Code == 2, result.ToString());
            Assert.Contains(says, result.Stderr, StringComparison.Ordinal);
        }

        var lab = Box.Token;
        var file = Path.Combine(_dir, "lab.yaml");
        await File.WriteAllTextAsync(file, $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        var state = Path.Combine(_dir, "state");
        var refused = await Cli.RunAsync(["lab", "deploy", "-f", file, "--state-dir", state]);
        Assert.True(refused.Code == 2, refused.ToString());
        Assert.Contains("PostgreSQL", refused.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(state) && Directory.EnumerateFileSystemEntries(state).Any(), "the refused deploy wrote into the state directory");
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(lab, StringComparison.Ordinal));
    }

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    protected override async Task TearDownAsync()
    {
        foreach (var agent in _agents.Where(a => !a.HasExited))
        {
            _ = Kill(agent.Id, 9);
            await agent.WaitForExitAsync();
        }

        foreach (var agent in _agents)
        {
            agent.Dispose();
        }
    }

    private Process StartAgent(string database, string host, string underlay, string ns)
    {
        var agent = Cli.Start(["agent", "--db", database, "--host-id", host, "--underlay", underlay, "--namespace", ns, "--state-dir", Path.Combine(_dir, host), "--resync", "2s"]);
        agent.OutputDataReceived += (_, e) => Keep(host, e.Data);
        agent.ErrorDataReceived += (_, e) => Keep(host, e.Data);
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        _agents.Add(agent);
        return agent;
    }

    private void Keep(string host, string? line)
    {
        if (line is not null)
        {
            lock (_agentOutput)
            {
                _agentOutput.Add(host + ": " + line);
            }
        }
    }

    private string AgentOutput()
    {
        lock (_agentOutput)
        {
            return string.Join('\n', _agentOutput.TakeLast(40));
        }
    }

    /// <summary>Deploys once both agents registered (a deploy naming an unregistered host is refused, exit 2).</summary>
    private static async Task<Cli.Result> DeployWhenRegisteredAsync(string file, string[] db)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var result = await Cli.RunAsync(["lab", "deploy", "-f", file, .. db]);
            if (result.Code != 2 || !result.Stderr.Contains("no agent registered", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<Cli.Result> VerifyWhenUpAsync(string lab, string[] db)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var result = await Cli.RunAsync(["lab", "verify", lab, .. db]);
            if (result.Code == 0 || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(200);
        }
    }

    private async Task HostsAsync(string h1, string h2)
    {
        var underlay = Box.Name("u");
        foreach (var ns in new[] { underlay, h1, h2 })
        {
            Box.TrackNamespace(ns);
            await Ip.RunAsync("netns", "add", ns);
        }

        await Ip.RunAsync("-n", underlay, "link", "add", "br0", "type", "bridge");
        await Ip.RunAsync("-n", underlay, "link", "set", "br0", "up");
        foreach (var (ns, i) in new[] { (h1, 1), (h2, 2) })
        {
            var port = "p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
            await Ip.RunAsync("-n", ns, "link", "add", "u0", "type", "veth", "peer", "name", port, "netns", underlay);
            await Ip.RunAsync("-n", underlay, "link", "set", port, "master", "br0", "up");
            await Ip.RunAsync("-n", ns, "addr", "add", $"192.168.251.{i}/24", "dev", "u0");
            await Ip.RunAsync("-n", ns, "link", "set", "u0", "up");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
