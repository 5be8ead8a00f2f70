using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary>PostgreSQL restarted under <c>aether agent</c> processes: they keep running, repair what broke while the
/// server was away, and apply a deploy made after it.</summary>
public sealed partial class AgentCommandTests
{
    [Fact]
    public async Task Agent_processes_outlive_a_server_restart_and_converge_after_it()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var name = await server.CreateDatabaseAsync();
        var database = server.Url(name);
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
        var nodes = $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n";
        await File.WriteAllTextAsync(file, nodes);
        string[] db = ["--db", database, "--state-dir", Path.Combine(_dir, "ctl")];
        var deployed = await DeployWhenRegisteredAsync(file, db);
        Assert.True(deployed.Code == 0, deployed + "\n--- agents\n" + AgentOutput());

        // 3 s without a server; r2's VXLAN end deleted meanwhile (the pass it wakes cannot read the database).
        await server.RestartAsync(TimeSpan.FromSeconds(3), async () =>
        {
            await Ip.RunAsync("-n", $"{lab}-r2", "link", "del", "eth1");
            await Task.Delay(1000);
            Assert.Null(await Ip.LinkAsync($"{lab}-r2", "eth1"));
        });

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await Ip.LinkAsync($"{lab}-r2", "eth1") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "r2:eth1 not back within 20 s of the server's return\n--- agents\n" + AgentOutput());
            await Task.Delay(100);
        }

        Assert.False(agent1.HasExited, "agent h1 exited\n" + AgentOutput());
        Assert.False(agent2.HasExited, "agent h2 exited\n" + AgentOutput());
        Assert.True(AgentSaid("agent pass failed"), "no agent saw the server gone\n" + AgentOutput());

        // A deploy after the restart: one more cross-host link, up on both ends.
        await File.WriteAllTextAsync(file, nodes + "  - endpoints: [r3:eth1, r1:eth2]\n");
        var again = await Cli.RunAsync(["lab", "deploy", "-f", file, .. db]);
        Assert.True(again.Code == 0, again + "\n--- agents\n" + AgentOutput());
        Assert.Contains("2 of 2 links up across 2 hosts", again.Stdout, StringComparison.Ordinal);
        Assert.Equal("vxlan", (await Ip.RequireLinkAsync($"{lab}-r3", "eth1")).GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal([["2"]], await server.QueryAsync(name, "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'"));

        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", file, .. db]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
    }

    private bool AgentSaid(string text)
    {
        lock (_agentOutput)
        {
            return _agentOutput.Exists(l => l.Contains(text, StringComparison.Ordinal));
        }
    }
}
