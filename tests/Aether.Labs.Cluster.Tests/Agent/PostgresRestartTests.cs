using System.Globalization;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// PostgreSQL restarted (<c>pg_ctl stop -m fast</c>, 3 s down, started again on the same data directory and port)
/// under three agents running a lab: they reconnect (their LISTEN included: psql sees it again), repair what broke
/// while the server was away, and apply a change made after the restart by its hint (the resync is a minute).
/// A class of its own: the restart must not cut other classes' tests off their server.
/// </summary>
public sealed class PostgresRestartTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Agents_reconnect_after_a_server_restart_and_converge_on_changes_made_before_and_after()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(3);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = TimeSpan.FromSeconds(60) });
        for (var i = 1; i <= 3; i++)
        {
            agents.Start(i);
        }

        await agents.RegisteredAsync();
        var lab = hosts.Prefix;
        string Definition(bool withR2R3) =>
            $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h3 }}\n  r4: {{ kind: linux, host: h1 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n" + (withR2R3 ? "  - endpoints: [r2:eth2, r3:eth1]\n" : "")
            + "  - endpoints: [r3:eth2, r1:eth2]\n  - endpoints: [r1:eth3, r4:eth1]\n";
        var cluster = new ClusterLabs(db.Store, labs);
        var before = Definition(withR2R3: false);
        var deployed = await cluster.DeployAsync(Read(before), before, TimeSpan.FromSeconds(60));
        Assert.True(deployed.AllUp, Describe(deployed));
        Assert.Equal("3", await ListenersAsync(db));

        // The server goes away for 3 s; meanwhile a cross-host end is deleted (the pass it wakes cannot read the
        // database, and is tried again).
        await fixture.Server.RestartAsync(TimeSpan.FromSeconds(3), async () =>
        {
            await SimulatedHosts.IpAsync("-n", $"{lab}-r3", "link", "del", "eth2");
            await Task.Delay(1000);
            Assert.Null(await SimulatedHosts.LinkAsync($"{lab}-r3", "eth2")); // the pass it woke could not read the database
        });
        var restarted = System.Diagnostics.Stopwatch.StartNew();

        // Every agent listens again (a new backend each), and what broke while the server was away is repaired.
        _ = await UntilAsync(async () => await IsUpAsync($"{lab}-r3", "eth2"), "r3:eth2 made again", 20);
        var repaired = restarted.Elapsed;
        _ = await UntilAsync(async () => await ListenersAsync(db) == "3", "three LISTEN backends again", 20);

        // A change after the restart: the lab with one more cross-host link, applied by its hint, every link up.
        var after = Definition(withR2R3: true);
        var applied = await cluster.DeployAsync(Read(after), after, TimeSpan.FromSeconds(20));
        Assert.True(applied.AllUp, Describe(applied));
        Assert.Equal(4, applied.Links.Count);
        Assert.NotNull(await SimulatedHosts.LinkAsync($"{lab}-r2", "eth2"));
        Assert.Equal("vxlan", (await SimulatedHosts.LinkAsync($"{lab}-r3", "eth1"))!.Value.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal("4", await db.ScalarAsync($"SELECT count(*) FROM (SELECT link_id FROM cluster_link_ends WHERE lab = '{lab}' GROUP BY link_id HAVING count(*) = 2 AND bool_and(state = 'up')) AS l"));
        var heartbeats = await db.QueryAsync("SELECT id, extract(epoch FROM now() - last_seen) FROM cluster_hosts ORDER BY id");
        Assert.All(heartbeats, h => Assert.True(double.Parse(h[1]!, CultureInfo.InvariantCulture) < 5, $"host {h[0]} last seen {h[1]} s ago"));
        Console.WriteLine($"after the restart: broken end repaired {repaired.TotalMilliseconds:F0} ms after the server was back");

        agents.AssertRunning();
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2), hosts.HostNamespace(3) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
    }

    private static async Task<string?> ListenersAsync(ClusterDb db) =>
        await db.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.Name}' AND query ILIKE 'LISTEN%'");
}
