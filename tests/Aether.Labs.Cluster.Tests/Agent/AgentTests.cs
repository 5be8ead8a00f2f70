using System.Globalization;
using System.Net;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// Labs across three simulated hosts (namespaces joined by an underlay bridge), an agent per host, PostgreSQL
/// between them: the oracles are <c>ip -j -d</c>, ping across the tunnels, and psql.
/// </summary>
public sealed partial class AgentTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_lab_across_three_hosts_comes_up_carries_traffic_shrinks_heals_and_goes()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(3);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new Agents(db, labs, hosts);
        for (var i = 1; i <= 3; i++)
        {
            agents.Start(i);
        }

        await agents.RegisteredAsync();
        var lab = hosts.Prefix;
        var cluster = new ClusterLabs(db.Store, labs);
        var full = Definition(lab, withR2R3: true);
        var deployed = await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60));
        Assert.True(deployed.AllUp, Describe(deployed));
        Assert.Equal(4, deployed.Links.Count);

        // The kernel: each cross-host end a VXLAN with the stored VNI, towards the other host, its tunnel in the
        // host's namespace; the local link a veth pair.
        var vnis = (await db.QueryAsync($"SELECT key, vni FROM cluster_vnis WHERE lab = '{lab}' AND scope = 'link' ORDER BY key")).ToDictionary(r => r[0]!, r => r[1]!);
        Assert.Equal(3, vnis.Count);
        var r1eth1 = await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1");
        Assert.NotNull(r1eth1);
        var info = r1eth1.Value.GetProperty("linkinfo");
        Assert.Equal("vxlan", info.GetProperty("info_kind").GetString());
        Assert.Equal("192.168.250.2", info.GetProperty("info_data").GetProperty("remote").GetString());
        Assert.Equal(vnis[LinkId.Of(new LabEndpoint("r1", "eth1", "eth1"), new LabEndpoint("r2", "eth1", "eth1")).Value], info.GetProperty("info_data").GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture));
        Assert.True(r1eth1.Value.TryGetProperty("link_netnsid", out _));
        Assert.Equal(1450, r1eth1.Value.GetProperty("mtu").GetInt32()); // cross_host mtu: lower (1500 - 50)
        Assert.Equal("veth", (await SimulatedHosts.LinkAsync($"{lab}-r1", "eth3"))!.Value.GetProperty("linkinfo").GetProperty("info_kind").GetString());

        // Traffic over every link, cross-host ones through the underlay bridge.
        await AddressAsync(lab, ("r1", "eth1", "10.61.12.1"), ("r2", "eth1", "10.61.12.2"), ("r2", "eth2", "10.61.23.2"), ("r3", "eth1", "10.61.23.3"),
            ("r3", "eth2", "10.61.31.3"), ("r1", "eth2", "10.61.31.1"), ("r1", "eth3", "10.61.14.1"), ("r4", "eth1", "10.61.14.4"));
        foreach (var (from, to) in new[] { ("r1", "10.61.12.2"), ("r2", "10.61.23.3"), ("r3", "10.61.31.1"), ("r1", "10.61.14.4") })
        {
            await PingAsync($"{lab}-{from}", to);
        }

        // Drift no notification tells of: the timer's pass repairs it.
        await SimulatedHosts.IpAsync("-n", $"{lab}-r2", "link", "del", "eth2");
        await UntilAsync(async () => await SimulatedHosts.LinkAsync($"{lab}-r2", "eth2") is not null, "r2:eth2 back by the resync");

        // An agent restarted: it converges on what it made, without duplicates.
        await agents.StopAsync(2);
        agents.Start(2);
        var again = await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60));
        Assert.True(again.AllUp, Describe(again));
        Assert.Equal(vnis, (await db.QueryAsync($"SELECT key, vni FROM cluster_vnis WHERE lab = '{lab}' AND scope = 'link' ORDER BY key")).ToDictionary(r => r[0]!, r => r[1]!));
        Assert.Single((await SimulatedHosts.IpAsync("-n", $"{lab}-r2", "-o", "link", "show")).Split('\n'), l => l.Contains(" eth1:", StringComparison.Ordinal) || l.Contains(" eth1@", StringComparison.Ordinal));

        // The lab without the r2-r3 link: its ends go on both hosts, its VNI is released, the others stay.
        var shrunk = Definition(lab, withR2R3: false);
        var smaller = await cluster.DeployAsync(Read(shrunk), shrunk, TimeSpan.FromSeconds(60));
        Assert.True(smaller.AllUp, Describe(smaller));
        await UntilAsync(async () => await SimulatedHosts.LinkAsync($"{lab}-r2", "eth2") is null && await SimulatedHosts.LinkAsync($"{lab}-r3", "eth1") is null, "r2:eth2 and r3:eth1 gone");
        Assert.Equal("2", await db.ScalarAsync($"SELECT count(*) FROM cluster_vnis WHERE lab = '{lab}' AND scope = 'link'"));
        Assert.NotNull(await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1"));

        // A host that stops: its links are errors that say since when.
        await agents.StopAsync(3);
        await db.QueryAsync("UPDATE cluster_hosts SET last_seen = now() - interval '1 minute' WHERE id = 'h3'");
        var status = await cluster.StatusAsync(Read(shrunk));
        var r3r1 = status.Links.Single(l => l.LinkId.Contains("r3", StringComparison.Ordinal));
        Assert.Equal(LinkEndState.Error, r3r1.State);
        Assert.Contains("host h3 unreachable since", r3r1.Message, StringComparison.Ordinal);
        agents.Start(3);

        // Destroy: every agent removes its part; nothing of the lab is left on any host.
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2), hosts.HostNamespace(3) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
        Assert.Equal("0", await db.ScalarAsync($"SELECT count(*) FROM cluster_link_ends WHERE lab = '{lab}'"));
        Assert.Null(await labs.GetLabAsync(lab));
    }

    private static string Definition(string lab, bool withR2R3) =>
        $"name: {lab}\n"
        + "nodes:\n"
        + "  r1: { kind: linux, host: h1 }\n"
        + "  r2: { kind: linux, host: h2 }\n"
        + "  r3: { kind: linux, host: h3 }\n"
        + "  r4: { kind: linux, host: h1 }\n"
        + "links:\n"
        + "  - endpoints: [r1:eth1, r2:eth1]\n"
        + (withR2R3 ? "  - endpoints: [r2:eth2, r3:eth1]\n" : "")
        + "  - endpoints: [r3:eth2, r1:eth2]\n"
        + "  - endpoints: [r1:eth3, r4:eth1]\n";

    /// <summary>The three agents, each running in the background until stopped or disposed.</summary>
    private sealed class Agents(ClusterDb db, ILabStore labs, SimulatedHosts hosts) : IAsyncDisposable
    {
        private readonly Dictionary<int, (CancellationTokenSource Stop, Task Run, ClusterStore Store)> _running = [];

        public void Start(int i)
        {
            var store = db.OpenAnother();
            var agent = new LabAgent(store, labs, new LabAgentOptions(HostId.Parse("h" + i.ToString(CultureInfo.InvariantCulture)), SimulatedHosts.Address(i))
            {
                HostNamespace = hosts.HostNamespace(i),
                StateDirectory = Path.Combine(hosts.StateDirectory, "h" + i.ToString(CultureInfo.InvariantCulture)),
                Resync = TimeSpan.FromSeconds(2),
                Heartbeat = TimeSpan.FromMilliseconds(500),
            });
            var stop = new CancellationTokenSource();
            _running[i] = (stop, Task.Run(() => agent.RunAsync(stop.Token)), store);
        }

        public async Task RegisteredAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await db.Store.ListHostsAsync(TimeSpan.FromSeconds(10))).Count < _running.Count)
            {
                Assert.True(DateTime.UtcNow < deadline, "agents not registered within 20 s");
                await Task.Delay(50);
            }
        }

        public async Task StopAsync(int i)
        {
            var (stop, run, store) = _running[i];
            _running.Remove(i);
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
            await store.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var i in _running.Keys.ToList())
            {
                await StopAsync(i);
            }
        }
    }
}
