using Aether.Labs;
using Aether.Ovsdb;
using Aether.TestSupport;

namespace Aether.Labs.Tests.Fabric;

/// <summary>The ovs fabric against a private ovsdb-server and ovs-vswitchd (userspace datapath): every link a VLAN
/// tag on the lab's bridge, verified from the kernel and OVSDB, repaired when a tag is changed, a port moved to another
/// bridge or an end deleted; traffic over every link; a clear failure when ovsdb-server is not running. Checked with
/// <c>ovs-vsctl</c> and <c>ip -j</c>.</summary>
public sealed class OvsFabricTests : LabTest
{
    private PrivateOvs _ovs = null!;

    protected override async Task SetUpAsync()
    {
        await base.SetUpAsync();
        _ovs = await PrivateOvs.StartAsync(Box.Token);
        Options = Options with { Ovsdb = OvsdbEndpoint.Unix(_ovs.SocketPath), SwitchNamespace = _ovs.Namespace };
    }

    protected override async Task TearDownAsync()
    {
        await base.TearDownAsync();
        if (_ovs is not null)
        {
            await _ovs.DisposeAsync();
        }
    }

    private LabSpec Triangle() => Lab(LabFabric.Ovs, 3, (1, "eth1", 2, "eth1"), (2, "eth2", 3, "eth1"), (1, "eth2", 3, "eth2"));

    private async Task<int?> TagAsync(string port)
    {
        var text = (await _ovs.VsctlAsync("get", "port", port, "tag")).Trim();
        return text == "[]" ? null : int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task AssertOnBridgeAsync(LabSpec lab, IReadOnlyList<LinkState> states)
    {
        var bridge = OvsFabric.BridgeOf(lab.Name);
        var ports = (await _ovs.VsctlAsync("list-ports", bridge)).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        foreach (var link in lab.Links)
        {
            var vlan = states.Single(s => s.Id == link.Id).Vlan;
            Assert.NotNull(vlan);
            foreach (var end in new[] { link.A, link.B })
            {
                var port = OvsFabric.PortOf(lab.Name, end);
                Assert.Contains(port, ports);
                Assert.Equal(vlan, await TagAsync(port));
                var inner = await Ip.RequireLinkAsync(Ns(lab, end.Node), end.Linux);
                Assert.Contains("LOWER_UP", Ip.Flags(inner));
            }
        }

        Assert.Equal(lab.Links.Count, states.Select(s => s.Vlan).Distinct().Count());
    }

    [Fact]
    public async Task A_three_node_lab_on_the_ovs_fabric_is_up_with_a_tag_per_link_and_passes_traffic()
    {
        var lab = Triangle();
        var result = await Controller(lab).DeployAsync("definition");

        Assert.True(result.AllUp, string.Join("; ", result.Links.Select(l => $"{l.Id}: {l.Status} {l.Error}")) + result.Error);
        await AssertOnBridgeAsync(lab, result.Links);
        await PingEveryLinkAsync(lab, 205);

        var mappings = await Store.GetMappingsAsync(lab.Name);
        Assert.All(mappings, m => Assert.Equal(OvsFabric.BridgeOf(lab.Name), m.OvsBridge));
        Assert.All(mappings, m => Assert.NotNull(m.VlanTag));

        var again = await Controller(lab).DeployAsync("definition");
        Assert.True(again.AllUp);
        Assert.Equal(result.Links.Select(l => l.Vlan), again.Links.Select(l => l.Vlan)); // tags are kept
    }

    [Theory]
    [InlineData("wrong tag")]
    [InlineData("other bridge")]
    [InlineData("end deleted")]
    public async Task A_broken_link_on_the_ovs_fabric_is_found_and_repaired(string how)
    {
        var lab = Triangle();
        var deployed = await Controller(lab).DeployAsync("definition");
        Assert.True(deployed.AllUp, deployed.Error);
        var link = lab.Links[0];
        var port = OvsFabric.PortOf(lab.Name, link.A);
        var tag = deployed.Links.Single(l => l.Id == link.Id).Vlan;
        switch (how)
        {
            case "wrong tag":
                await _ovs.VsctlAsync("set", "port", port, "tag=999");
                break;
            case "other bridge":
                var other = Box.Name("br");
                await _ovs.VsctlAsync("add-br", other, "--", "set", "bridge", other, "datapath_type=netdev");
                await _ovs.VsctlAsync("del-port", port, "--", "add-port", other, port);
                break;
            default:
                await Ip.RunAsync("-n", Ns(lab, "r1"), "link", "del", link.A.Linux);
                break;
        }

        var verified = await Controller(lab).VerifyAsync();
        Assert.Equal(LinkStatus.Error, verified.Links.Single(l => l.Id == link.Id).Status);

        var reconciled = await Controller(lab).ReconcileAsync();
        Assert.Equal(new ReconcileCounts(3, 2, 1, 0), reconciled.Counts);
        Assert.True(reconciled.AllUp, string.Join("; ", reconciled.Links.Select(l => $"{l.Id}: {l.Status} {l.Error}")));
        await AssertOnBridgeAsync(lab, reconciled.Links);
        Assert.Equal(tag, await TagAsync(port));
    }

    [Fact]
    public async Task Under_the_runtime_a_tag_changed_by_hand_is_put_back_from_the_monitor_and_stored_up()
    {
        var lab = Triangle();
        var deployed = await Controller(lab).DeployAsync("definition");
        Assert.True(deployed.AllUp, deployed.Error);
        var port = OvsFabric.PortOf(lab.Name, lab.Links[1].B);
        var tag = deployed.Links.Single(l => l.Id == lab.Links[1].Id).Vlan;
        var reports = new System.Collections.Concurrent.ConcurrentQueue<LabRuntimeReport>();
        using var cts = new CancellationTokenSource();
        var options = new LabRuntimeOptions { ReconcileEvery = TimeSpan.FromMinutes(10), Resync = TimeSpan.FromMinutes(10) };
        var run = Task.Run(() => LabRuntime.RunAsync(Controller(lab), options, reports.Enqueue, cancellationToken: cts.Token));
        try
        {
            await Task.Delay(500); // the loops made their first passes and subscribed
            await _ovs.VsctlAsync("set", "port", port, "tag=999");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (await TagAsync(port) != tag || !reports.Any(r => r.Trigger == "repair" && r.Result.AllUp))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"tag {await TagAsync(port)}, want {tag}; reports: {reports.Count}");
                await Task.Delay(20);
            }

            Assert.All(await Store.GetLinksAsync(lab.Name), l => Assert.Equal(LinkStatus.Up, l.Status));
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Destroy_removes_the_bridge_its_ports_and_the_nodes()
    {
        var lab = Triangle();
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);

        var destroyed = await Controller(lab).DestroyAsync();

        Assert.Null(destroyed.Error);
        Assert.DoesNotContain(OvsFabric.BridgeOf(lab.Name), (await _ovs.VsctlAsync("list-br")).Split('\n'));
        var left = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(lab.Nodes, n => left.Contains(n.Namespace));
        Assert.Contains(_ovs.Namespace, left); // the switch's namespace is not the lab's
    }

    [Fact]
    public async Task Without_ovsdb_server_deploy_says_how_to_start_it_and_touches_nothing()
    {
        var lab = Triangle();
        Options = Options with { Ovsdb = OvsdbEndpoint.Unix(Path.Combine(StateDirectory, "no-such.sock")) };

        var result = await Controller(lab).DeployAsync("definition");

        Assert.NotNull(result.Error);
        Assert.Contains("ovs fabric", result.Error, StringComparison.Ordinal);
        Assert.Contains("start", result.Error, StringComparison.Ordinal);
        var left = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(lab.Nodes, n => left.Contains(n.Namespace));
        Assert.Null(await Store.GetLabAsync(lab.Name));
    }

    [Fact]
    public async Task A_twenty_node_ring_on_the_ovs_fabric_is_up_and_passes_traffic()
    {
        var lab = Lab(LabFabric.Ovs, 20, [.. Enumerable.Range(1, 20).Select(i => (i, "eth1", i % 20 + 1, "eth2"))]);

        var result = await Controller(lab).DeployAsync("definition");

        Assert.True(result.AllUp, string.Join("; ", result.Links.Where(l => l.Error is not null).Select(l => $"{l.Id}: {l.Error}")) + result.Error);
        await AssertOnBridgeAsync(lab, result.Links);
        await PingEveryLinkAsync(lab, 206);
    }
}
