using System.Net;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.WireGuard;

namespace Aether.Labs.Cluster.Tests;

/// <summary>The WireGuard tunnels of labs (<c>cluster_wireguard_tunnels</c>): one per lab and pair of hosts, its slot
/// unique in the cluster and the smallest free; and the hosts' public keys.</summary>
public sealed class WireGuardTunnelTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_pair_gets_the_smallest_free_slot_of_the_cluster_and_keeps_it()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var (h1, h2, h3) = (await db.RegisterAsync("h1", "h2", "h3")) is var h ? (h[0], h[1], h[2]) : default;

        // Either order names the same pair; one pair asked twice is one tunnel.
        Assert.Equal(["h1-h2=0", "h1-h3=1"], Show(await db.Store.AssignWireGuardTunnelsAsync("aetlab", [(h2, h1), (h1, h3), (h1, h2)])));
        // Another lab's tunnels take other slots: a host's ports and inner addresses never collide across labs.
        Assert.Equal(["h1-h2=2"], Show(await db.Store.AssignWireGuardTunnelsAsync("aetother", [(h1, h2)])));

        // A pair gone frees its slot for the next new pair; the kept pair keeps its own, also from another store.
        Assert.Equal(1, await db.Store.ReleaseWireGuardTunnelsAsync("aetlab", [(h3, h1)]));
        await using var again = db.OpenAnother();
        Assert.Equal(["h1-h2=0", "h2-h3=1"], Show(await again.AssignWireGuardTunnelsAsync("aetlab", [(h1, h2), (h3, h2)])));
        Assert.Equal(["h1-h2=0", "h2-h3=1"], Show(await db.Store.ListWireGuardTunnelsAsync("aetlab")));
        Assert.Equal("aetlab h1 h2 0,aetlab h2 h3 1,aetother h1 h2 2", await db.ScalarAsync("SELECT string_agg(lab || ' ' || host_a || ' ' || host_b || ' ' || slot, ',' ORDER BY slot) FROM cluster_wireguard_tunnels"));

        // The whole lab's given back.
        Assert.Equal(2, await db.Store.ReleaseWireGuardTunnelsAsync("aetlab"));
        Assert.Empty(await db.Store.ListWireGuardTunnelsAsync("aetlab"));

        // A host with itself is no pair; the database refuses an unordered pair written by hand.
        Assert.Throws<ArgumentException>(() => db.Store.AssignWireGuardTunnelsAsync("aetlab", [(h1, h1)]).GetAwaiter().GetResult());
        var (code, _, error) = await db.Server.TryQueryAsync(db.Name, "INSERT INTO cluster_wireguard_tunnels (lab, host_a, host_b, slot) VALUES ('aetlab', 'h2', 'h1', 9)");
        Assert.NotEqual(0, code);
        Assert.Contains("ck_cluster_wireguard_tunnels_hosts", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_assigners_never_give_a_slot_twice()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var hosts = await db.RegisterAsync("h1", "h2", "h3", "h4");
        var pairs = (from a in hosts from b in hosts where string.CompareOrdinal(a.Value, b.Value) < 0 select (a, b)).ToList();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => db.Store.AssignWireGuardTunnelsAsync("aetlab" + (i % 3), pairs)));
        Assert.Equal(18, await db.ScalarAsync("SELECT count(DISTINCT slot) FROM cluster_wireguard_tunnels") is { } n ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 0);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Show(results[i]), Show(results[i + 3]));
        }
    }

    [Fact]
    public async Task A_host_registers_its_public_key_and_keeps_it_when_registered_without()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var key = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
        var host = HostId.Parse("h1");
        var status = await db.Store.RegisterHostAsync(new HostRegistration(host, IPAddress.Parse("10.200.0.1")) { WireGuardKey = key });
        Assert.Equal(key, status.WireGuardKey);
        Assert.Equal(key.ToString(), await db.ScalarAsync("SELECT wireguard_key FROM cluster_hosts WHERE id = 'h1'"));

        // An older agent registering without a key leaves the one there.
        Assert.Equal(key, (await db.Store.RegisterHostAsync(new HostRegistration(host, IPAddress.Parse("10.200.0.1")))).WireGuardKey);
        Assert.Equal(key, Assert.Single(await db.Store.ListHostsAsync(TimeSpan.FromSeconds(10))).WireGuardKey);
    }

    [Fact]
    public async Task A_deploy_over_wireguard_needs_every_hosts_key_and_writes_nothing_without()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = Aether.Labs.Store.LabStore.Open(db.Server.Url(db.Name), Path.GetTempPath());
        await labs.MigrateAsync();
        _ = await db.RegisterAsync("h1", "h2"); // registered without keys, as an older agent does
        var definition = "name: aetwgkeys\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n    transport: wireguard\n";
        var lab = LabLoader.Parse(definition, "lab.yaml").Lab!;
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => new Aether.Labs.Cluster.Agent.ClusterLabs(db.Store, labs).DeployAsync(lab, definition, TimeSpan.FromSeconds(1)));
        Assert.Contains("need the WireGuard public key of host h1, h2", refused.Message, StringComparison.Ordinal);
        Assert.Null(await labs.GetLabAsync("aetwgkeys"));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_wireguard_tunnels"));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_placements"));
    }

    [Fact]
    public async Task An_agents_host_key_is_made_0600_kept_and_refused_when_others_may_read_it()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = Aether.Labs.Store.LabStore.Open(db.Server.Url(db.Name), Path.GetTempPath());
        var state = Directory.CreateTempSubdirectory("aetwgkey");
        try
        {
            var options = new Aether.Labs.Cluster.Agent.LabAgentOptions(HostId.Parse("h1"), IPAddress.Parse("10.200.0.1")) { StateDirectory = state.FullName };
            var agent = new Aether.Labs.Cluster.Agent.LabAgent(db.Store, labs, options);
            var made = agent.HostPublicKey();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(agent.HostKeyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(agent.HostKeyFile)!));
            Assert.Equal(made, new Aether.Labs.Cluster.Agent.LabAgent(db.Store, labs, options).HostPublicKey()); // another agent (a restart): the same key

            File.SetUnixFileMode(agent.HostKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            var refused = Assert.Throws<InvalidOperationException>(() => new Aether.Labs.Cluster.Agent.LabAgent(db.Store, labs, options).HostPublicKey());
            Assert.Contains("readable by others than its owner (mode 604); chmod 600 it", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static string[] Show(IEnumerable<WireGuardTunnel> tunnels) =>
        [.. tunnels.Select(t => $"{t.HostA}-{t.HostB}={t.Slot}").Order(StringComparer.Ordinal)];
}
