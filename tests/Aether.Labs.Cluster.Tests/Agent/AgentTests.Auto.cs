using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary><c>host: auto</c>: the controller places the nodes on the hosts alive, the agents build them there.</summary>
public sealed partial class AgentTests
{
    [Fact]
    public async Task Auto_placed_nodes_go_to_live_hosts_stay_there_on_a_redeploy_and_carry_traffic()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(3);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = Store.LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new Agents(db, labs, hosts);
        for (var i = 1; i <= 3; i++)
        {
            agents.Start(i);
        }

        await agents.RegisteredAsync();
        var lab = hosts.Prefix;
        var cluster = new ClusterLabs(db.Store, labs);

        // A chain a-b-c-d-e-f: two nodes a host, neighbours together.
        var definition = $"name: {lab}\nnodes:\n" + string.Concat("abcdef".Select(n => $"  {n}: {{ kind: linux, host: auto }}\n"))
            + "links:\n" + string.Concat("abcde".Select((n, i) => $"  - endpoints: [{n}:eth1, {"bcdef"[i]}:eth2]\n"));
        var deployed = await cluster.DeployAsync(Read(definition), definition, TimeSpan.FromSeconds(60));
        Assert.True(deployed.AllUp, Describe(deployed));
        var placed = (await db.QueryAsync($"SELECT node, host_id FROM cluster_placements WHERE lab = '{lab}' ORDER BY node")).ToDictionary(r => r[0]!, r => r[1]!);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], placed.Keys);
        Assert.All(placed.Values.GroupBy(h => h), g => Assert.Equal(2, g.Count()));
        Assert.Equal(placed["a"], placed["b"]);
        Assert.Equal(placed["c"], placed["d"]);
        Assert.Equal(placed["e"], placed["f"]);
        Assert.Equal(deployed.Placements.ToDictionary(p => p.Key, p => p.Value.Value), placed);

        // The kernel: b-c crosses (a VXLAN), a-b does not (a veth); a frame crosses b-c.
        Assert.Equal("vxlan", (await SimulatedHosts.LinkAsync($"{lab}-b", "eth1"))!.Value.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal("veth", (await SimulatedHosts.LinkAsync($"{lab}-a", "eth1"))!.Value.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        await AddressAsync(lab, ("b", "eth1", "10.64.0.2"), ("c", "eth2", "10.64.0.3"));
        await PingAsync($"{lab}-b", "10.64.0.3");

        // Deployed again with one more node: nothing that ran moves; the new node joins its neighbour's host.
        var grown = definition.Replace("links:\n", "  g: { kind: linux, host: auto }\nlinks:\n", StringComparison.Ordinal) + "  - endpoints: [f:eth1, g:eth1]\n";
        var again = await cluster.DeployAsync(Read(grown), grown, TimeSpan.FromSeconds(60));
        Assert.True(again.AllUp, Describe(again));
        var after = (await db.QueryAsync($"SELECT node, host_id FROM cluster_placements WHERE lab = '{lab}' ORDER BY node")).ToDictionary(r => r[0]!, r => r[1]!);
        Assert.All(placed, p => Assert.Equal(p.Value, after[p.Key]));
        Assert.Equal(7, after.Count);
        Assert.Equal(after["f"], after["g"]);

        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2), hosts.HostNamespace(3) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
    }
}
