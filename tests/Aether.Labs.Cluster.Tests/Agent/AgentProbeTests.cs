using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// <c>verify --deep</c> run by the agents (<see cref="CrossHostFrames"/>, <c>cluster_probes</c>): the asking side
/// writes rows and waits, the agents of the ends' hosts send and answer the frames inside the node namespaces. The
/// agents' kernel monitor is off and their resync five minutes, so a VNI changed by hand stays changed (nothing
/// repairs it) while the probe runs. Oracles: <c>ip -j -d</c>, psql (the probe rows).
/// </summary>
public sealed class AgentProbeTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task The_agents_probe_crosses_good_links_and_fails_a_link_whose_vni_was_changed_on_one_side()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = TimeSpan.FromMinutes(5), KernelDebounce = null });
        agents.Start(1);
        agents.Start(2);
        await agents.RegisteredAsync();
        var (lab, definition) = Lab(hosts);
        var cluster = new ClusterLabs(db.Store, labs);
        var deployed = await cluster.DeployAsync(Read(definition), definition, TimeSpan.FromSeconds(60));
        Assert.True(deployed.AllUp, Describe(deployed));

        var frames = new CrossHostFrames(db.Store, labs);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var good = await frames.ProbeAsync(lab, null, Wait);
        var took = clock.Elapsed;
        Assert.Equal(["r1:eth1-r2:eth1", "r1:eth2-r3:eth1", "r2:eth2-r3:eth2"], good.Select(c => c.LinkId));
        Assert.All(good, c => Assert.True(c.Crossed, $"{c.LinkId}: {c.Problem}"));
        Assert.All(good, c => Assert.InRange(c.Latency!.Value.TotalMilliseconds, 0.001, 1000));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_probes"));

        // One link only, by id.
        var one = await frames.ProbeAsync(lab, ["r2:eth2-r3:eth2"], Wait);
        Assert.True(Assert.Single(one).Crossed, one[0].Problem);

        // r2:eth2's VXLAN given another VNI by hand on h2: its frames go nowhere. Nothing repairs it meanwhile.
        var vni = (await SimulatedHosts.LinkAsync($"{lab}-r2", "eth2"))!.Value.GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32();
        await ChangeVniAsync(hosts, $"{lab}-r2", "eth2", vni + 1);
        var broken = await frames.ProbeAsync(lab, null, Wait);
        Assert.True(broken[0].Crossed, broken[0].Problem);
        Assert.True(broken[1].Crossed, broken[1].Problem);
        Assert.True(broken[2].Probed);
        Assert.False(broken[2].Crossed);
        Assert.Null(broken[2].Latency);
        Assert.Contains("eth2 (host h2)", broken[2].Problem, StringComparison.Ordinal); // r2 sends (end A) from h2
        Assert.Contains("arrive", broken[2].Problem, StringComparison.Ordinal);
        Assert.Contains("on eth2 (host h1) within", broken[2].Problem, StringComparison.Ordinal); // r3 listens on h1
        Assert.Equal(vni + 1, (await SimulatedHosts.LinkAsync($"{lab}-r2", "eth2"))!.Value.GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32());
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_probes"));

        // The control: made again by hand the same way with its own VNI, the link crosses (it was the VNI).
        await ChangeVniAsync(hosts, $"{lab}-r2", "eth2", vni);
        var mended = await frames.ProbeAsync(lab, ["r2:eth2-r3:eth2"], Wait);
        Assert.True(mended[0].Crossed, mended[0].Problem);
        Console.WriteLine($"probe of 3 links in {took.TotalMilliseconds:F0} ms: round trips {string.Join(", ", good.Select(c => $"{c.Latency!.Value.TotalMilliseconds:F2} ms"))}; VNI changed: {broken[2].Problem}");

        agents.AssertRunning();
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_probe_of_a_host_whose_agent_is_down_fails_by_timeout_naming_the_host()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = TimeSpan.FromMinutes(5), KernelDebounce = null });
        agents.Start(1);
        agents.Start(2);
        await agents.RegisteredAsync();
        var (lab, definition) = Lab(hosts);
        var cluster = new ClusterLabs(db.Store, labs);
        Assert.True((await cluster.DeployAsync(Read(definition), definition, TimeSpan.FromSeconds(60))).AllUp);

        // h2's agent stopped: its namespaces and links stay (they would carry the frame), but nobody answers there.
        await agents.StopAsync(2);
        Assert.NotNull(await SimulatedHosts.LinkAsync($"{lab}-r2", "eth1"));
        var frames = new CrossHostFrames(db.Store, labs);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var checks = await frames.ProbeAsync(lab, null, Wait);
        Assert.InRange(clock.Elapsed.TotalSeconds, 2.9, 6);
        Assert.False(checks[0].Crossed);
        Assert.False(checks[0].Probed);
        Assert.Contains("host h2 (end B, eth1) did not answer within 3000 ms", checks[0].Problem, StringComparison.Ordinal);
        Assert.True(checks[1].Crossed, checks[1].Problem); // r1-r3: both ends on h1, whose agent runs
        Assert.Contains("host h2", checks[2].Problem, StringComparison.Ordinal); // r2 sends (end A): h2 again
        Assert.Contains("did not answer", checks[2].Problem, StringComparison.Ordinal);
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_probes"));

        // The agent back: the same probe crosses.
        agents.Start(2);
        await Task.Delay(1000); // listening again
        var back = await frames.ProbeAsync(lab, null, Wait);
        Assert.All(back, c => Assert.True(c.Crossed, $"{c.LinkId}: {c.Problem}"));

        agents.AssertRunning();
        Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Bad_probe_requests_are_refused_naming_the_field_and_write_no_row()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(0);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        _ = await db.RegisterAsync("h1", "h2");
        var (lab, definition) = Lab(hosts);
        await labs.SaveLabAsync(Read(definition), definition);
        var oneHost = hosts.Prefix + "x";
        var oneHostDefinition = $"name: {oneHost}\nnodes:\n  r1: {{ kind: linux }}\n  r2: {{ kind: linux }}\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n";
        await labs.SaveLabAsync(Read(oneHostDefinition), oneHostDefinition);
        var frames = new CrossHostFrames(db.Store, labs);

        var unknownLab = await Assert.ThrowsAsync<ArgumentException>(() => frames.ProbeAsync(hosts.Prefix + "nope", null, Wait));
        Assert.Equal("lab", unknownLab.ParamName);
        Assert.Contains($"lab '{hosts.Prefix}nope': no such lab is deployed", unknownLab.Message, StringComparison.Ordinal);
        var badName = await Assert.ThrowsAsync<ArgumentException>(() => frames.ProbeAsync("Not A Lab", null, Wait));
        Assert.Equal("lab", badName.ParamName);
        var notPlaced = await Assert.ThrowsAsync<ArgumentException>(() => frames.ProbeAsync(oneHost, null, Wait));
        Assert.Contains("places no node on a host", notPlaced.Message, StringComparison.Ordinal);
        var unknownLink = await Assert.ThrowsAsync<ArgumentException>(() => frames.ProbeAsync(lab, ["r1:eth1-r2:eth1", "r1:eth9-r2:eth9"], Wait));
        Assert.Equal("links", unknownLink.ParamName);
        Assert.Contains("link 'r1:eth9-r2:eth9': lab", unknownLink.Message, StringComparison.Ordinal);
        Assert.Contains("its links: r1:eth1-r2:eth1, r1:eth2-r3:eth1, r2:eth2-r3:eth2", unknownLink.Message, StringComparison.Ordinal);
        var badWait = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => frames.ProbeAsync(lab, null, TimeSpan.FromMinutes(5)));
        Assert.Equal("wait", badWait.ParamName);

        // The store refuses what no caller should write: an unregistered host, a bad interface, a bad timeout.
        var good = new FrameProbeRequest(lab, "r1:eth1-r2:eth1", HostId.Parse("h1"), $"{lab}-r1", "eth1", HostId.Parse("h2"), $"{lab}-r2", "eth1");
        var noHost = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.RequestProbesAsync([good, good with { Receiver = HostId.Parse("h9") }], Wait));
        Assert.Contains("host id 'h9': not registered", noHost.Message, StringComparison.Ordinal);
        var badInterface = Assert.Throws<ArgumentException>(() => { _ = db.Store.RequestProbesAsync([good with { SenderInterface = "a-name-too-long-for-linux" }], Wait); });
        Assert.Contains("sender interface 'a-name-too-long-for-linux'", badInterface.Message, StringComparison.Ordinal);
        var slash = Assert.Throws<ArgumentException>(() => { _ = db.Store.RequestProbesAsync([good with { ReceiverNamespace = "../etc" }], Wait); });
        Assert.Contains("receiver namespace '../etc'", slash.Message, StringComparison.Ordinal);
        var badLink = Assert.Throws<ArgumentException>(() => { _ = db.Store.RequestProbesAsync([good with { LinkId = "" }], Wait); });
        Assert.Contains("link id", badLink.Message, StringComparison.Ordinal);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = db.Store.RequestProbesAsync([good], TimeSpan.Zero); });
        Assert.Equal("frameTimeout", zero.ParamName);

        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_probes"));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_placements"));
    }

    private static (string Lab, string Definition) Lab(SimulatedHosts hosts)
    {
        var lab = hosts.Prefix;
        return (lab, $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h1 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r3:eth1]\n  - endpoints: [r2:eth2, r3:eth2]\n");
    }

    /// <summary>Makes the VXLAN <paramref name="name"/> of <paramref name="ns"/> again with VNI <paramref name="vni"/>
    /// (the kernel refuses to change a VXLAN's VNI), as the agent makes it: in host 2's namespace (its tunnel there,
    /// towards host 1), then moved into the node's namespace under the interface's name.</summary>
    private static async Task ChangeVniAsync(SimulatedHosts hosts, string ns, string name, int vni)
    {
        var mtu = (await SimulatedHosts.LinkAsync(ns, name))!.Value.GetProperty("mtu").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SimulatedHosts.IpAsync("-n", ns, "link", "del", name);
        await SimulatedHosts.IpAsync("-n", hosts.HostNamespace(2), "link", "add", "aetvni0", "mtu", mtu, "type", "vxlan", "id", vni.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "local", SimulatedHosts.Address(2).ToString(), "remote", SimulatedHosts.Address(1).ToString(), "dstport", "4789");
        await SimulatedHosts.IpAsync("-n", hosts.HostNamespace(2), "link", "set", "aetvni0", "netns", ns);
        await SimulatedHosts.IpAsync("-n", ns, "link", "set", "aetvni0", "name", name);
        await SimulatedHosts.IpAsync("-n", ns, "link", "set", name, "up");
    }
}
