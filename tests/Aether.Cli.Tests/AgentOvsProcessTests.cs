using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Aether.TestInfrastructure;
using Aether.TestSupport;
using Xunit.Abstractions;

namespace Aether.Cli.Tests;

/// <summary>
/// A lab on the ovs fabric across three simulated hosts (namespaces on an underlay bridge), each with its own
/// ovsdb-server and ovs-vswitchd started inside the host's namespace and an <c>aether agent --ovsdb</c> process bound to
/// it; the lab goes through <c>aether lab deploy|tunnels|verify|destroy --db</c>. Oracles: <c>ovs-vsctl</c> on each
/// host's socket (ports, tags, trunks), <c>ip -j -d link</c> in the host namespaces (the VTEPs: VNI, remote), ping,
/// and psql (<c>cluster_vteps</c>, <c>cluster_vtep_links</c>, <c>cluster_vlan_tags</c>).
/// </summary>
public sealed partial class AgentOvsProcessTests(ITestOutputHelper output) : SandboxTest
{
    private const int Hosts = 3;
    private readonly List<Process> _agents = [];
    private readonly List<string> _agentOutput = [];
    private readonly PrivateOvs?[] _switches = new PrivateOvs?[Hosts];
    private string _dir = null!;
    private PrivatePostgres _server = null!;
    private string _database = null!;
    private string _lab = null!;
    private string[] _db = null!;

    [Fact]
    public async Task An_ovs_lab_across_three_hosts_survives_an_agent_killed_mid_pass_and_counts_its_vteps()
    {
        _server = await PrivatePostgres.StartAsync();
        await using var server = _server;
        _database = await server.CreateDatabaseAsync();
        var url = server.Url(_database);
        await HostsAsync();
        for (var i = 1; i <= Hosts; i++)
        {
            _switches[i - 1] = await PrivateOvs.StartAsync(Box.Name("s" + N(i)), HostNs(i));
        }

        _lab = Box.Token;
        foreach (var node in new[] { "r1", "r2", "r3", "r4" })
        {
            Box.TrackNamespace($"{_lab}-{node}");
        }

        var agents = new Process[Hosts];
        for (var i = 1; i <= Hosts; i++)
        {
            agents[i - 1] = StartAgent(url, i);
        }

        _db = ["--db", url, "--state-dir", Path.Combine(_dir, "ctl")];
        var file = Path.Combine(_dir, "lab.yaml");

        // 1. From empty: two links h1-h2, one h2-h3, one h3-h1, one inside h1.
        await File.WriteAllTextAsync(file, Yaml(withH2H3: true, added: false));
        var deployed = await DeployWhenRegisteredAsync(file);
        Assert.True(deployed.Code == 0, deployed + "\n--- agents\n" + AgentOutput());
        Assert.Contains("5 of 5 links up across 3 hosts", deployed.Stdout, StringComparison.Ordinal);
        await AssertVtepsAsync(["h1>h2:2", "h1>h3:1", "h2>h1:2", "h2>h3:1", "h3>h1:1", "h3>h2:1"], ends: [5, 3, 2]);
        await AssertTunnelsAgreeAsync();
        await AddressAsync(("r1", "eth1", "10.64.12.1"), ("r2", "eth1", "10.64.12.2"), ("r4", "eth1", "10.64.42.4"), ("r2", "eth2", "10.64.42.2"),
            ("r2", "eth3", "10.64.23.2"), ("r3", "eth1", "10.64.23.3"), ("r3", "eth2", "10.64.31.3"), ("r1", "eth2", "10.64.31.1"), ("r1", "eth3", "10.64.14.1"), ("r4", "eth2", "10.64.14.4"));
        foreach (var (from, to) in new[] { ("r1", "10.64.12.2"), ("r4", "10.64.42.2"), ("r2", "10.64.23.3"), ("r3", "10.64.31.1"), ("r1", "10.64.14.4") })
        {
            await PingAsync(from, to);
        }

        // 2. A redeploy adds a link h3-h1 and a link h3-h2; h3's agent is killed (SIGKILL) as soon as it says it
        // attached one of them (its pass under way), and while it is down its VTEP device towards h1 is deleted in
        // the kernel and its VTEP port towards h2 taken off the switch. A new agent finishes what the killed one
        // began: the deploy returns with every link up, one VTEP per remote host on each side, the counts right.
        var before = await VtepRowsAsync();
        await File.WriteAllTextAsync(file, Yaml(withH2H3: true, added: true));
        var toH1 = before.Single(v => v.Host == "h3" && v.Remote == "h1").Port;
        var toH2 = before.Single(v => v.Host == "h3" && v.Remote == "h2").Port;
        var (again, caught) = await RedeployKillingAsync(file, agents, 3, "attached link", async () =>
        {
            await Ip.RunAsync("-n", HostNs(3), "link", "del", toH1);
            await Switch(3).VsctlAsync("del-port", await BridgeAsync(3), toH2);
            Assert.Null(await Ip.LinkAsync(HostNs(3), toH1));
        });
        Assert.True(again.Code == 0, again + "\n--- agents\n" + AgentOutput());
        Assert.Contains("7 of 7 links up across 3 hosts", again.Stdout, StringComparison.Ordinal);
        var verified = await VerifyWhenUpAsync();
        Assert.True(verified.Code == 0, verified + "\n--- agents\n" + AgentOutput());
        await AssertVtepsAsync(["h1>h2:2", "h1>h3:2", "h2>h1:2", "h2>h3:2", "h3>h1:2", "h3>h2:2"], ends: [6, 4, 4]);
        Assert.Equal(Show(before, links: false), Show(await VtepRowsAsync(), links: false)); // the same six rows: none made twice
        await AssertTunnelsAgreeAsync();
        await AddressAsync(("r3", "eth3", "10.64.33.3"), ("r1", "eth4", "10.64.33.1"), ("r3", "eth4", "10.64.34.3"), ("r2", "eth4", "10.64.34.2"));
        foreach (var (from, to) in new[] { ("r3", "10.64.33.1"), ("r3", "10.64.34.2"), ("r2", "10.64.23.3"), ("r3", "10.64.31.1"), ("r1", "10.64.12.2") })
        {
            await PingAsync(from, to);
        }

        output.WriteLine(caught ? "the kill caught h3's pass between the store's attach and its end" : "the kill came after h3's pass had ended");

        // 3. Both h2-h3 links removed by a redeploy, h2's agent killed right after it says it detached one (its pass
        // under way) and started again: the VTEPs between h2 and h3 go on both sides (device, port, row, its links);
        // the others keep theirs.
        await File.WriteAllTextAsync(file, Yaml(withH2H3: false, added: false) + "  - endpoints: [r3:eth3, r1:eth4]\n");
        var (shrunk, caughtDetach) = await RedeployKillingAsync(file, agents, 2, "detached link", () => Task.CompletedTask);
        output.WriteLine(caughtDetach ? "the kill caught h2's pass between the store's detach and its end" : "the kill came after h2's pass had ended");
        Assert.True(shrunk.Code == 0, shrunk + "\n--- agents\n" + AgentOutput());
        Assert.Contains("5 of 5 links up across 3 hosts", shrunk.Stdout, StringComparison.Ordinal);
        await AssertVtepsAsync(["h1>h2:2", "h1>h3:2", "h2>h1:2", "h3>h1:2"], ends: [6, 2, 2]);
        foreach (var gone in before.Where(v => v.Host is "h2" or "h3" && v.Remote is "h2" or "h3"))
        {
            var host = int.Parse(gone.Host[1..], CultureInfo.InvariantCulture);
            Assert.Null(await Ip.LinkAsync(HostNs(host), gone.Port));
            Assert.DoesNotContain(gone.Port, await PortsAsync(host));
            Assert.Equal([["0"]], await QueryAsync($"SELECT count(*) FROM cluster_vtep_links WHERE vtep_id = {gone.Id}"));
        }

        await AssertTunnelsAgreeAsync();
        await PingAsync("r3", "10.64.33.1");
        await PingAsync("r4", "10.64.42.2");

        // 4. Destroy: no node namespace, no bridge on any host's switch, no VTEP device, no row.
        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", file, .. _db]);
        Assert.True(destroyed.Code == 0, destroyed + "\n--- agents\n" + AgentOutput());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(_lab + "-", StringComparison.Ordinal));
        for (var i = 1; i <= Hosts; i++)
        {
            Assert.Equal(string.Empty, (await Switch(i).VsctlAsync("list-br")).Trim());
            Assert.Empty(await VxlansAsync(i));
        }

        Assert.Equal([["0", "0", "0", "0"]], await QueryAsync(
            $"SELECT (SELECT count(*) FROM cluster_vteps), (SELECT count(*) FROM cluster_vtep_links), (SELECT count(*) FROM cluster_vlan_tags), (SELECT count(*) FROM cluster_link_ends)"));
        Assert.All(agents, a => Assert.False(a.HasExited, "an agent exited\n" + AgentOutput()));
    }

    /// <summary>Runs <c>aether lab deploy</c> as a process; as soon as host <paramref name="i"/>'s agent logs
    /// <paramref name="text"/> (its pass under way), SIGKILLs it, runs <paramref name="whileDown"/>, starts a new
    /// agent for the host, and waits for the deploy. Whether the kill came before that agent's pass ended.</summary>
    private async Task<(Cli.Result Result, bool Caught)> RedeployKillingAsync(string file, Process[] agents, int i, string text, Func<Task> whileDown)
    {
        var host = "h" + N(i) + ": ";
        int mark;
        lock (_agentOutput)
        {
            mark = _agentOutput.Count;
        }

        using var deploy = Cli.Start(["lab", "deploy", "-f", file, .. _db]);
        var stdout = deploy.StandardOutput.ReadToEndAsync();
        var stderr = deploy.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!AgentSaidSince(mark, host, text) && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(1);
        }

        Assert.Equal(0, Kill(agents[i - 1].Id, 9));
        await agents[i - 1].WaitForExitAsync();
        var (said, ended) = (AgentSaidSince(mark, host, text), AgentSaidSince(mark, host, " changes, error:"));
        output.WriteLine($"{host}agent killed {clock.ElapsedMilliseconds} ms after the deploy began; it had said '{text}': {said}, finished its pass: {ended}");
        await whileDown();
        agents[i - 1] = StartAgent(_server.Url(_database), i);
        Assert.True(await WaitExitAsync(deploy, TimeSpan.FromSeconds(90)), "the deploy did not return within 90 s\n" + AgentOutput());
        return (new Cli.Result(deploy.ExitCode, await stdout, await stderr), said && !ended);
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

        // The switches after the agents (nothing writes to them any more), before the host namespaces go.
        var errors = new List<Exception>();
        foreach (var ovs in _switches.OfType<PrivateOvs>())
        {
            try
            {
                await ovs.DisposeAsync();
            }
            catch (AggregateException ex)
            {
                errors.Add(ex);
            }
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("stopping the private switches", errors);
        }
    }

    private static string N(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static string Underlay(int i) => "192.168.253." + N(i);

    private string HostNs(int i) => Box.Name("h" + N(i));

    private PrivateOvs Switch(int i) => _switches[i - 1] ?? throw new InvalidOperationException($"switch {i} not started");

    private string Yaml(bool withH2H3, bool added) =>
        $"name: {_lab}\nfabric: ovs\nnodes:\n"
        + "  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\n  r3: { kind: linux, host: h3 }\n  r4: { kind: linux, host: h1 }\n"
        + "links:\n"
        + "  - endpoints: [r1:eth1, r2:eth1]\n"
        + "  - endpoints: [r4:eth1, r2:eth2]\n"
        + (withH2H3 ? "  - endpoints: [r2:eth3, r3:eth1]\n" : "")
        + "  - endpoints: [r3:eth2, r1:eth2]\n"
        + "  - endpoints: [r1:eth3, r4:eth2]\n"
        + (added ? "  - endpoints: [r3:eth3, r1:eth4]\n  - endpoints: [r3:eth4, r2:eth4]\n" : "");

    private Task<IReadOnlyList<string?[]>> QueryAsync(string sql) => _server.QueryAsync(_database, sql);

    private Process StartAgent(string url, int i)
    {
        var host = "h" + N(i);
        var agent = Cli.Start(["agent", "--db", url, "--host-id", host, "--underlay", Underlay(i), "--namespace", HostNs(i), "--ovsdb", Switch(i).Remote,
            "--state-dir", Path.Combine(_dir, host), "--resync", "2s"]);
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

    private bool AgentSaidSince(int mark, string prefix, string text)
    {
        lock (_agentOutput)
        {
            return _agentOutput.Skip(mark).Any(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal));
        }
    }

    private string AgentOutput()
    {
        lock (_agentOutput)
        {
            return string.Join('\n', _agentOutput.TakeLast(60));
        }
    }

    private static async Task<bool> WaitExitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            return false;
        }
    }

    private async Task<Cli.Result> DeployWhenRegisteredAsync(string file)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var result = await Cli.RunAsync(["lab", "deploy", "-f", file, .. _db]);
            if (result.Code != 2 || !result.Stderr.Contains("no agent registered", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(200);
        }
    }

    private async Task<Cli.Result> VerifyWhenUpAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var result = await Cli.RunAsync(["lab", "verify", _lab, .. _db]);
            if (result.Code == 0 || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(200);
        }
    }

    private async Task HostsAsync()
    {
        var underlay = Box.Name("u");
        foreach (var ns in new[] { underlay }.Concat(Enumerable.Range(1, Hosts).Select(HostNs)))
        {
            Box.TrackNamespace(ns);
            await Ip.RunAsync("netns", "add", ns);
        }

        await Ip.RunAsync("-n", underlay, "link", "add", "br0", "type", "bridge");
        await Ip.RunAsync("-n", underlay, "link", "set", "br0", "up");
        for (var i = 1; i <= Hosts; i++)
        {
            var ns = HostNs(i);
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
            await Ip.RunAsync("-n", ns, "link", "add", "u0", "type", "veth", "peer", "name", "p" + N(i), "netns", underlay);
            await Ip.RunAsync("-n", underlay, "link", "set", "p" + N(i), "master", "br0", "up");
            await Ip.RunAsync("-n", ns, "addr", "add", Underlay(i) + "/24", "dev", "u0");
            await Ip.RunAsync("-n", ns, "link", "set", "u0", "up");
        }
    }

    private async Task AddressAsync(params (string Node, string Dev, string Address)[] addresses)
    {
        foreach (var (node, dev, address) in addresses)
        {
            await Ip.RunAsync("-n", $"{_lab}-{node}", "addr", "add", address + "/24", "dev", dev);
        }
    }

    private async Task PingAsync(string from, string to)
    {
        var ns = $"{_lab}-{from}";
        var ping = await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "2", to);
        if (ping.Code != 0)
        {
            ping = await Ip.RunInAsync(ns, "ping", "-c", "3", "-W", "2", to); // the first ARP can be lost
        }

        Assert.True(ping.Code == 0, $"ping {to} from {from}: {ping.Stdout}{ping.Stderr}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
