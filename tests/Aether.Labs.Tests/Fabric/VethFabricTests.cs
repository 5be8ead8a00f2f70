using Aether.Labs;

namespace Aether.Labs.Tests.Fabric;

/// <summary>The veth fabric against the real kernel: deploy, verification, repair of every kind of breakage, a link that
/// cannot be made, administrative down, destroy; checked with <c>ip -j -d</c>.</summary>
public sealed class VethFabricTests : LabTest
{
    private LabSpec Triangle() => Lab(3, (1, "eth1", 2, "eth1"), (2, "eth2", 3, "eth1"), (1, "eth2", 3, "eth2"));

    [Fact]
    public async Task A_three_node_lab_deploys_with_every_link_verified_up_and_passing_traffic()
    {
        var lab = Triangle();
        var result = await Controller(lab).DeployAsync("definition");

        Assert.Null(result.Error);
        Assert.All(result.Links, l => Assert.Equal(LinkStatus.Up, l.Status));
        Assert.All(result.Links, l => Assert.NotNull(l.Checked));
        foreach (var link in lab.Links)
        {
            await AssertWholeAsync(lab, link);
        }

        await PingEveryLinkAsync(lab, 203);
        Assert.All(await Store.GetLinksAsync(lab.Name), l => Assert.Equal(LinkStatus.Up, l.Status));
        Assert.Equal(6, (await Store.GetMappingsAsync(lab.Name)).Count);

        var again = await Controller(lab).DeployAsync("definition");
        Assert.All(again.Lines, l => Assert.Equal(Aether.Topology.ChangeKind.InSync, l.Kind));
        Assert.True(again.AllUp);
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("moved")]
    [InlineData("renamed")]
    [InlineData("down")]
    public async Task A_broken_link_is_found_repaired_and_counted(string how)
    {
        var lab = Triangle();
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        var broken = lab.Links[0];
        var ns = Ns(lab, "r1");
        switch (how)
        {
            case "deleted":
                await Ip.RunAsync("-n", ns, "link", "del", "eth1");
                break;
            case "moved":
                await Ip.RunAsync("-n", ns, "link", "set", "eth1", "netns", Ns(lab, "r3"), "name", "stray1"); // r3 has an eth1

                break;
            case "renamed":
                await Ip.RunAsync("-n", ns, "link", "set", "eth1", "name", "other1");
                break;
            default:
                await Ip.RunAsync("-n", ns, "link", "set", "eth1", "down");
                break;
        }

        var verified = await Controller(lab).VerifyAsync();
        var state = verified.Links.Single(l => l.Id == broken.Id);
        Assert.Equal(LinkStatus.Error, state.Status);
        Assert.NotNull(state.Error);
        Assert.Equal(2, verified.Links.Count(l => l.Status == LinkStatus.Up));

        var reconciled = await Controller(lab).ReconcileAsync();
        Assert.Equal(new ReconcileCounts(3, 2, 1, 0), reconciled.Counts);
        Assert.True(reconciled.AllUp, string.Join("; ", reconciled.Links.Select(l => $"{l.Id}: {l.Status} {l.Error}")));
        foreach (var link in lab.Links)
        {
            await AssertWholeAsync(lab, link);
        }

        Assert.DoesNotContain("other1", await Ip.LinkNamesAsync(ns));
        Assert.DoesNotContain("stray1", await Ip.LinkNamesAsync(Ns(lab, "r3")));
        Assert.Equal(new ReconcileCounts(3, 3, 0, 0), (await Controller(lab).ReconcileAsync()).Counts);
    }

    [Fact]
    public async Task A_link_whose_name_someone_else_holds_is_an_error_with_nothing_of_it_left_and_the_rest_is_up()
    {
        var lab = Triangle();
        var r1 = Ns(lab, "r1");
        await Ip.RunAsync("netns", "add", r1); // the lab uses it; someone's veth holds eth1 there
        await Ip.RunAsync("-n", r1, "link", "add", "eth1", "type", "veth", "peer", "name", "theirs");

        var result = await Controller(lab).DeployAsync("definition");

        var failed = result.Links.Single(l => l.Id == lab.Links[0].Id);
        Assert.Equal(LinkStatus.Error, failed.Status);
        Assert.Contains("not this lab's", failed.Error, StringComparison.Ordinal);
        Assert.Equal(2, result.Links.Count(l => l.Status == LinkStatus.Up));
        Assert.Null(await Ip.LinkAsync(Ns(lab, "r2"), "eth1")); // nothing of the failed link was made
        Assert.Equal("veth", Ip.InfoKind(await Ip.RequireLinkAsync(r1, "eth1"))); // theirs, untouched
        Assert.NotNull(await Ip.LinkAsync(r1, "theirs"));

        await Ip.RunAsync("-n", r1, "link", "del", "eth1"); // they let it go: the next reconciliation makes the link
        var reconciled = await Controller(lab).ReconcileAsync();
        Assert.Equal(new ReconcileCounts(3, 2, 1, 0), reconciled.Counts);
        await AssertWholeAsync(lab, lab.Links[0]);
    }

    [Fact]
    public async Task A_link_set_administratively_down_stays_down_through_reconciliation_and_comes_back_up()
    {
        var lab = Triangle();
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        var id = lab.Links[1].Id;

        var down = await Controller(lab).SetAdminStateAsync(id, up: false);
        Assert.Equal(LinkStatus.Down, down!.Status);
        await AssertWholeAsync(lab, lab.Links[1], up: false);
        Assert.Equal(new ReconcileCounts(3, 3, 0, 0), (await Controller(lab).ReconcileAsync()).Counts);
        await AssertWholeAsync(lab, lab.Links[1], up: false);

        var up = await Controller(lab).SetAdminStateAsync(id, up: true);
        Assert.Equal(LinkStatus.Up, up!.Status);
        await AssertWholeAsync(lab, lab.Links[1]);
        Assert.Null(await Controller(lab).SetAdminStateAsync(LinkId.Parse("x:eth1-y:eth1"), up: false));
    }

    [Fact]
    public async Task Both_ends_of_a_link_get_its_mtu_and_a_changed_one_is_repaired()
    {
        var lab = Lab(2, (1, "eth1", 2, "eth1"));
        lab = lab with { Links = [lab.Links[0] with { Mtu = 9000 }] };
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        Assert.Equal(9000, Ip.Int(await Ip.RequireLinkAsync(Ns(lab, "r1"), "eth1"), "mtu"));
        Assert.Equal(9000, Ip.Int(await Ip.RequireLinkAsync(Ns(lab, "r2"), "eth1"), "mtu"));

        await Ip.RunAsync("-n", Ns(lab, "r2"), "link", "set", "eth1", "mtu", "1500");
        var verified = await Controller(lab).VerifyAsync();
        Assert.Contains("MTU 9000/1500", verified.Links[0].Error, StringComparison.Ordinal);
        Assert.Equal(new ReconcileCounts(1, 0, 1, 0), (await Controller(lab).ReconcileAsync()).Counts);
        Assert.Equal(9000, Ip.Int(await Ip.RequireLinkAsync(Ns(lab, "r2"), "eth1"), "mtu"));
    }

    [Fact]
    public async Task Destroy_removes_the_nodes_and_forgets_the_lab()
    {
        var lab = Triangle();
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);

        var destroyed = await Controller(lab).DestroyAsync();

        Assert.Null(destroyed.Error);
        var left = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(lab.Nodes, n => left.Contains(n.Namespace));
        Assert.Null(await Store.GetLabAsync(lab.Name));
    }

    [Fact]
    public async Task A_twenty_node_ring_deploys_up_and_passes_traffic_over_every_link()
    {
        var links = Enumerable.Range(1, 20).Select(i => (i, "eth1", i % 20 + 1, "eth2")).ToArray();
        var lab = Lab(20, links);

        var result = await Controller(lab).DeployAsync("definition");

        Assert.Null(result.Error);
        Assert.Equal(20, result.Links.Count(l => l.Status == LinkStatus.Up));
        foreach (var link in lab.Links)
        {
            await AssertWholeAsync(lab, link);
        }

        await PingEveryLinkAsync(lab, 204);
    }
}
