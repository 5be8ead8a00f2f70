using System.Globalization;
using System.Text.Json;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using Aether.Ovsdb;
using Aether.TestSupport;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// A lab on the ovs fabric across three simulated hosts, each with its own ovsdb-server and ovs-vswitchd running in
/// the host's namespace, an in-process agent per host whose passes the test runs. Oracles: <c>ovs-vsctl</c> on each
/// host's socket (tags, trunks, ports), <c>ip -j -d link</c> in the host namespaces (the VTEPs' VNI and remote), ping
/// across the tunnels, and psql (VTEP rows and their links, tags).
/// </summary>
public sealed class OvsAgentTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_lab_across_three_hosts_on_the_ovs_fabric_shares_one_vtep_per_host_pair_repairs_and_goes()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(3);
        var switches = new List<PrivateOvs>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                switches.Add(await PrivateOvs.StartAsync(hosts.Prefix + "s" + i.ToString(CultureInfo.InvariantCulture), hosts.HostNamespace(i)));
            }

            await RunAsync(hosts, switches);
        }
        finally
        {
            foreach (var ovs in switches)
            {
                await ovs.DisposeAsync();
            }
        }
    }

    private async Task RunAsync(SimulatedHosts hosts, List<PrivateOvs> switches)
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        for (var i = 1; i <= 3; i++)
        {
            await db.Store.RegisterHostAsync(new HostRegistration(Host(i), SimulatedHosts.Address(i)));
        }

        var agents = Enumerable.Range(1, 3).Select(i => NewAgent(db, labs, hosts, switches, i)).ToArray();
        var lab = hosts.Prefix;
        var cluster = new ClusterLabs(db.Store, labs);
        var full = Definition(lab, withR2R3: true);
        _ = await cluster.DeployAsync(Read(full), full, TimeSpan.Zero);
        await ConvergeAsync(db, agents);
        var status = await cluster.StatusAsync(Read(full));
        Assert.True(status.AllUp, Describe(status));

        // Tags: lab-wide, once per link, the same for both ends (both hosts read them from the store).
        var spec = Read(full);
        var tags = (await db.QueryAsync($"SELECT link_id, tag FROM cluster_vlan_tags WHERE lab = '{lab}'")).ToDictionary(r => r[0]!, r => int.Parse(r[1]!, CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(100, 5), tags.Values.Order());
        foreach (var link in spec.Links)
        {
            foreach (var end in new[] { link.A, link.B })
            {
                var host = Index(spec.HostOf(end)!.Value);
                Assert.Equal(tags[link.Id.Value].ToString(CultureInfo.InvariantCulture), await Vsctl(switches[host - 1], "get", "port", OvsFabric.PortOf(lab, end), "tag"));
            }
        }

        // One VTEP per (host, remote): six rows, h1's towards h2 carrying both h1-h2 links; each a VXLAN in the host's
        // namespace with the pair's VNI towards the remote's underlay, and a bridge port trunking exactly its tags.
        var vteps = await VtepsAsync(db, lab);
        Assert.Equal(["h1>h2:2", "h1>h3:1", "h2>h1:2", "h2>h3:1", "h3>h1:1", "h3>h2:1"], vteps.Select(v => $"{v.Host}>{v.Remote}:{v.Links}"));
        foreach (var v in vteps)
        {
            var (host, remote) = (Index(v.Host), Index(v.Remote));
            var device = await SimulatedHosts.LinkAsync(hosts.HostNamespace(host), v.Port);
            Assert.NotNull(device);
            var data = device.Value.GetProperty("linkinfo").GetProperty("info_data");
            Assert.Equal(("vxlan", v.Vni, SimulatedHosts.Address(remote).ToString()), (device.Value.GetProperty("linkinfo").GetProperty("info_kind").GetString(), data.GetProperty("id").GetInt32(), data.GetProperty("remote").GetString()));
            Assert.Equal(1450, device.Value.GetProperty("mtu").GetInt32());
            Assert.Equal(Trunks(spec, tags, host, remote), await Vsctl(switches[host - 1], "get", "port", v.Port, "trunks"));
            Assert.Equal("[]", await Vsctl(switches[host - 1], "get", "port", v.Port, "tag"));
        }

        Assert.Equal(vteps.Single(v => v.Host == "h1" && v.Remote == "h2").Vni, vteps.Single(v => v.Host == "h2" && v.Remote == "h1").Vni);
        Assert.Equal("2,2,2", await VxlanCountsAsync(hosts));

        // Traffic over every link: the cross-host ones through two bridges and a VTEP pair, VLAN-tagged in between.
        await AddressAsync(lab, ("r1", "eth1", "10.62.12.1"), ("r2", "eth1", "10.62.12.2"), ("r4", "eth1", "10.62.42.4"), ("r2", "eth2", "10.62.42.2"),
            ("r2", "eth3", "10.62.23.2"), ("r3", "eth1", "10.62.23.3"), ("r3", "eth2", "10.62.31.3"), ("r1", "eth2", "10.62.31.1"), ("r1", "eth3", "10.62.14.1"), ("r4", "eth2", "10.62.14.4"));
        foreach (var (from, to) in new[] { ("r1", "10.62.12.2"), ("r4", "10.62.42.2"), ("r2", "10.62.23.3"), ("r3", "10.62.31.1"), ("r1", "10.62.14.4") })
        {
            await PingAsync($"{lab}-{from}", to);
        }

        // A pass repeated, and agents made anew (as after a restart): nothing changes, no VTEP twice, counts right.
        Assert.All((await PassAllAsync(agents)).SelectMany(r => r), r => Assert.Equal((0, (string?)null), (r.Changes, r.Error)));
        agents = [.. Enumerable.Range(1, 3).Select(i => NewAgent(db, labs, hosts, switches, i))];
        Assert.All((await PassAllAsync(agents)).SelectMany(r => r), r => Assert.Equal((0, (string?)null), (r.Changes, r.Error)));
        Assert.Equal(Show(vteps), Show(await VtepsAsync(db, lab)));
        Assert.Equal("8", await db.ScalarAsync($"SELECT count(*) FROM cluster_vtep_links l JOIN cluster_vteps v ON v.id = l.vtep_id WHERE v.lab = '{lab}'"));
        Assert.Equal("2,2,2", await VxlanCountsAsync(hosts));

        // Drift: a VTEP's trunk narrowed on h1, the VTEP device deleted on h2, an end's tag changed on h3; the next
        // pass repairs each, and traffic flows again.
        var v12 = vteps.Single(v => v.Host == "h1" && v.Remote == "h2");
        var v21 = vteps.Single(v => v.Host == "h2" && v.Remote == "h1");
        var r3eth2 = OvsFabric.PortOf(lab, spec.Links.SelectMany(l => new[] { l.A, l.B }).Single(e => e is { Node: "r3", Linux: "eth2" }));
        await Vsctl(switches[0], "set", "port", v12.Port, "trunks=" + tags.Values.Min().ToString(CultureInfo.InvariantCulture));
        await SimulatedHosts.IpAsync("-n", hosts.HostNamespace(2), "link", "del", v21.Port);
        await Vsctl(switches[2], "set", "port", r3eth2, "tag=4000");
        var repaired = (await PassAllAsync(agents)).SelectMany(r => r).ToList();
        Assert.All(repaired, r => Assert.Null(r.Error));
        Assert.All(repaired, r => Assert.True(r.Changes > 0, $"{r.Lab}: nothing repaired"));
        Assert.Equal(Trunks(spec, tags, 1, 2), await Vsctl(switches[0], "get", "port", v12.Port, "trunks"));
        Assert.Contains(",", Trunks(spec, tags, 1, 2), StringComparison.Ordinal); // two links share the VTEP
        Assert.NotNull(await SimulatedHosts.LinkAsync(hosts.HostNamespace(2), v21.Port));
        Assert.NotEqual("4000", await Vsctl(switches[2], "get", "port", r3eth2, "tag"));
        await ConvergeAsync(db, agents);
        await PingAsync($"{lab}-r1", "10.62.12.2");
        await PingAsync($"{lab}-r3", "10.62.31.1");
        await PingAsync($"{lab}-r4", "10.62.42.2");
        Assert.Equal(Show(vteps), Show(await VtepsAsync(db, lab)));

        // The last link between h2 and h3 gone: their VTEPs go on both sides (device, port, row, its links); the
        // others stay, with their counts.
        var shrunk = Definition(lab, withR2R3: false);
        _ = await cluster.DeployAsync(Read(shrunk), shrunk, TimeSpan.Zero);
        await ConvergeAsync(db, agents);
        status = await cluster.StatusAsync(Read(shrunk));
        Assert.True(status.AllUp, Describe(status));
        var after = await VtepsAsync(db, lab);
        Assert.Equal(["h1>h2:2", "h1>h3:1", "h2>h1:2", "h3>h1:1"], after.Select(v => $"{v.Host}>{v.Remote}:{v.Links}"));
        foreach (var gone in vteps.Where(v => (v.Host is "h2" && v.Remote is "h3") || (v.Host is "h3" && v.Remote is "h2")))
        {
            var host = Index(gone.Host);
            Assert.Null(await SimulatedHosts.LinkAsync(hosts.HostNamespace(host), gone.Port));
            Assert.DoesNotContain(gone.Port, await PortsAsync(switches[host - 1], OvsFabric.BridgeOf(lab)));
        }

        Assert.Equal("0", await db.ScalarAsync($"SELECT count(*) FROM cluster_vtep_links WHERE vtep_id IN ({string.Join(",", vteps.Where(v => !after.Any(a => a.Id == v.Id)).Select(v => v.Id))})"));
        Assert.Equal("4", await db.ScalarAsync($"SELECT count(*) FROM cluster_vlan_tags WHERE lab = '{lab}'"));
        Assert.Equal("2,1,1", await VxlanCountsAsync(hosts));
        await PingAsync($"{lab}-r4", "10.62.42.2");

        // The only h1-h3 link replaced by another in one deploy: both VTEPs keep their rows (the new link attached
        // before the old one is detached), now with the new link only, and its tag is trunked.
        var replaced = Definition(lab, withR2R3: false, r3r1Replaced: true);
        _ = await cluster.DeployAsync(Read(replaced), replaced, TimeSpan.Zero);
        await ConvergeAsync(db, agents);
        var swapped = await VtepsAsync(db, lab);
        Assert.Equal(Show(after), Show(swapped));
        var newLink = Read(replaced).Links.Single(l => l.A.Node == "r3" && l.A.Linux == "eth3").Id.Value;
        Assert.Equal(newLink, await db.ScalarAsync($"SELECT string_agg(l.link_id, ',') FROM cluster_vtep_links l JOIN cluster_vteps v ON v.id = l.vtep_id WHERE v.lab = '{lab}' AND v.host_id = 'h1' AND v.remote_host_id = 'h3'"));
        var newTag = await db.ScalarAsync($"SELECT tag FROM cluster_vlan_tags WHERE lab = '{lab}' AND link_id = '{newLink}'");
        Assert.Equal($"[{newTag}]", await Vsctl(switches[0], "get", "port", after.Single(v => v.Host == "h1" && v.Remote == "h3").Port, "trunks"));
        await AddressAsync(lab, ("r3", "eth3", "10.62.33.3"), ("r1", "eth4", "10.62.33.1"));
        await PingAsync($"{lab}-r3", "10.62.33.1");

        // Destroy: every agent removes its part: bridge, ports, VTEP devices, references, tags.
        var destroy = cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60));
        while (!destroy.IsCompleted)
        {
            _ = await PassAllAsync(agents);
            await Task.Delay(50);
        }

        Assert.True(await destroy);
        foreach (var (ovs, i) in switches.Select((s, i) => (s, i + 1)))
        {
            Assert.Equal(string.Empty, await Vsctl(ovs, "list-br"));
            Assert.Equal(0, await VxlanCountAsync(hosts.HostNamespace(i)));
        }

        Assert.Equal("0|0|0", await db.ScalarAsync($"SELECT (SELECT count(*) FROM cluster_vteps WHERE lab = '{lab}') || '|' || (SELECT count(*) FROM cluster_vtep_links) || '|' || (SELECT count(*) FROM cluster_vlan_tags WHERE lab = '{lab}')"));
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2), hosts.HostNamespace(3) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
    }

    [Fact]
    public async Task An_agent_without_a_switch_reports_each_end_and_makes_nothing()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        for (var i = 1; i <= 2; i++)
        {
            await db.Store.RegisterHostAsync(new HostRegistration(Host(i), SimulatedHosts.Address(i)));
        }

        var lab = hosts.Prefix;
        var definition = $"name: {lab}\nfabric: ovs\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n";
        var cluster = new ClusterLabs(db.Store, labs);
        _ = await cluster.DeployAsync(Read(definition), definition, TimeSpan.Zero);
        var agent = new LabAgent(db.Store, labs, new LabAgentOptions(Host(1), SimulatedHosts.Address(1)) { HostNamespace = hosts.HostNamespace(1), StateDirectory = Path.Combine(hosts.StateDirectory, "h1") });
        var result = Assert.Single(await agent.PassAsync(CancellationToken.None));
        Assert.Contains("is on the ovs fabric and this agent has no Open vSwitch (aether agent --ovsdb unix:PATH)", result.Error, StringComparison.Ordinal);
        var end = (await cluster.StatusAsync(Read(definition))).Links.Single().A!;
        Assert.Equal(LinkEndState.Error, end.State);
        Assert.Contains("--ovsdb", end.Message, StringComparison.Ordinal);

        // Nothing made: no node namespace, no VTEP row.
        Assert.Equal(new[] { hosts.Underlay, hosts.HostNamespace(1), hosts.HostNamespace(2) }.Order(StringComparer.Ordinal), await hosts.NamespacesAsync());
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_vteps"));
    }

    /// <summary>The tags of the links between two hosts, as ovs-vsctl prints a port's trunks.</summary>
    private static string Trunks(LabSpec spec, Dictionary<string, int> tags, int host, int remote) =>
        "[" + string.Join(", ", spec.CrossHostLinks
            .Where(l => new[] { spec.HostOf(l.A)!.Value, spec.HostOf(l.B)!.Value }.ToHashSet().SetEquals([Host(host), Host(remote)]))
            .Select(l => tags[l.Id.Value]).Order()) + "]";

    private static HostId Host(int i) => HostId.Parse("h" + i.ToString(CultureInfo.InvariantCulture));

    private static int Index(HostId host) => int.Parse(host.Value[1..], CultureInfo.InvariantCulture);

    private static int Index(string host) => int.Parse(host[1..], CultureInfo.InvariantCulture);

    private static LabAgent NewAgent(ClusterDb db, ILabStore labs, SimulatedHosts hosts, List<PrivateOvs> switches, int i) =>
        new(db.Store, labs, new LabAgentOptions(Host(i), SimulatedHosts.Address(i))
        {
            HostNamespace = hosts.HostNamespace(i),
            Ovsdb = OvsdbEndpoint.Unix(switches[i - 1].SocketPath),
            StateDirectory = Path.Combine(hosts.StateDirectory, "h" + i.ToString(CultureInfo.InvariantCulture)),
        });

    private static async Task<IReadOnlyList<AgentLabResult>[]> PassAllAsync(LabAgent[] agents)
    {
        var results = new IReadOnlyList<AgentLabResult>[agents.Length];
        for (var i = 0; i < agents.Length; i++)
        {
            results[i] = await agents[i].PassAsync(CancellationToken.None);
        }

        return results;
    }

    /// <summary>Passes of every agent until a round changes nothing and reports no error (at most five rounds).</summary>
    private static async Task ConvergeAsync(ClusterDb db, LabAgent[] agents)
    {
        var last = string.Empty;
        for (var round = 0; round < 5; round++)
        {
            var results = (await PassAllAsync(agents)).SelectMany(r => r).ToList();
            if (results.All(r => r.Changes == 0 && r.Error is null && r.Up == r.Ends))
            {
                return;
            }

            last = string.Join("; ", results.Select(r => $"{r.Lab}: changes {r.Changes}, up {r.Up}/{r.Ends}, error {r.Error}"));
            await Task.Delay(200);
        }

        var reports = (await db.QueryAsync("SELECT host_id || ' ' || link_id || ' ' || link_end || ': ' || coalesce(message, '') FROM cluster_link_ends WHERE state <> 'up'")).Select(r => r[0]);
        Assert.Fail("agents did not converge in 5 rounds: " + last + " / ends: " + string.Join("; ", reports));
    }

    private sealed record VtepRow(long Id, string Host, string Remote, string Port, int Vni, int Links);

    private static string Show(IEnumerable<VtepRow> rows) => string.Join(",", rows);

    private static async Task<List<VtepRow>> VtepsAsync(ClusterDb db, string lab) =>
        [.. (await db.QueryAsync($"SELECT v.id, v.host_id, v.remote_host_id, v.port_name, v.vni, (SELECT count(*) FROM cluster_vtep_links l WHERE l.vtep_id = v.id) FROM cluster_vteps v WHERE v.lab = '{lab}' ORDER BY v.host_id, v.remote_host_id"))
            .Select(r => new VtepRow(long.Parse(r[0]!, CultureInfo.InvariantCulture), r[1]!, r[2]!, r[3]!, int.Parse(r[4]!, CultureInfo.InvariantCulture), int.Parse(r[5]!, CultureInfo.InvariantCulture)))];

    private static async Task<string> Vsctl(PrivateOvs ovs, params string[] args) => (await ovs.VsctlAsync(args)).Trim();

    private static async Task<string[]> PortsAsync(PrivateOvs ovs, string bridge) =>
        (await Vsctl(ovs, "list-ports", bridge)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<string> VxlanCountsAsync(SimulatedHosts hosts) =>
        string.Join(",", await Task.WhenAll(Enumerable.Range(1, 3).Select(i => VxlanCountAsync(hosts.HostNamespace(i)))));

    private static async Task<int> VxlanCountAsync(string ns)
    {
        using var doc = JsonDocument.Parse(await SimulatedHosts.IpAsync("-n", ns, "-j", "-d", "link", "show", "type", "vxlan"));
        return doc.RootElement.GetArrayLength();
    }

    private static string Definition(string lab, bool withR2R3, bool r3r1Replaced = false) =>
        $"name: {lab}\n"
        + "fabric: ovs\n"
        + "nodes:\n"
        + "  r1: { kind: linux, host: h1 }\n"
        + "  r2: { kind: linux, host: h2 }\n"
        + "  r3: { kind: linux, host: h3 }\n"
        + "  r4: { kind: linux, host: h1 }\n"
        + "links:\n"
        + "  - endpoints: [r1:eth1, r2:eth1]\n"
        + "  - endpoints: [r4:eth1, r2:eth2]\n"
        + (withR2R3 ? "  - endpoints: [r2:eth3, r3:eth1]\n" : "")
        + (r3r1Replaced ? "  - endpoints: [r3:eth3, r1:eth4]\n" : "  - endpoints: [r3:eth2, r1:eth2]\n")
        + "  - endpoints: [r1:eth3, r4:eth2]\n";
}
