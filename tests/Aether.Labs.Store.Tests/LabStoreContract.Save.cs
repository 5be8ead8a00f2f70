using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    [Fact]
    public async Task Save_writes_the_lab_its_nodes_and_its_links_as_pending()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;

        await store.SaveLabAsync(TestLabs.Small("aetlab"), "name: aetlab\n");

        Assert.Equal([["aetlab", "ovs", "name: aetlab\n", "/srv/labs/aetlab.yaml"]], await target.QueryAsync("SELECT name, fabric, definition, source_path FROM labs"));
        var lab = await LabIdAsync(target, "aetlab");
        Assert.Equal(36, lab.Length);
        Assert.True(Guid.TryParse(lab, out var __1));
        Assert.Equal(
            [["r1", "arista_ceos", "aetlab-r1"], ["r2", "juniper_vmx", "aetlab-r2"], ["r3", "linux", "aetlab-r3"]],
            await target.QueryAsync($"SELECT name, kind, namespace FROM nodes WHERE lab_id = '{lab}' ORDER BY name"));
        Assert.Equal(
            [
                ["r1:eth1-r2:eth1", "1", "r1:Ethernet1-r2:ge-0/0/0", "r1", "Ethernet1", "eth1", "r2", "ge-0/0/0", "eth1", "pending", null, null, "9000", null],
                ["r1:eth2-r3:eth1", "2", "r1:Ethernet2-r3:eth1", "r1", "Ethernet2", "eth2", "r3", "eth1", "eth1", "pending", null, null, null, null],
            ],
            await target.QueryAsync($"""
                SELECT link_key, seq, link_name, source_node, source_interface, source_linux, target_node, target_interface, target_linux,
                       actual_state, error_message, vlan_tag, mtu, checked_at
                FROM link_states WHERE lab_id = '{lab}' ORDER BY seq
                """));

        var stored = await store.GetLabAsync("aetlab");
        Assert.NotNull(stored);
        Assert.Equal(("aetlab", LabFabric.Ovs, "name: aetlab\n", "/srv/labs/aetlab.yaml"), (stored.Name, stored.Fabric, stored.Definition, stored.SourcePath));
        Assert.InRange(stored.Created, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        var links = await store.GetLinksAsync("aetlab");
        Assert.Equal([LinkStatus.Pending, LinkStatus.Pending], links.Select(l => l.Status));
        Assert.Equal(TestLabs.Small("aetlab").Links.Select(l => (l.Id, l.A, l.B, l.Mtu)), links.Select(l => (l.Id, l.A, l.B, l.Mtu)));
    }

    [Fact]
    public async Task Saving_the_same_lab_twice_changes_no_row()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        await store.SetLinkStatesAsync("aetlab", [(await store.GetLinksAsync("aetlab"))[0] with { Status = LinkStatus.Up, Vlan = 7 }]);
        await store.SetMappingsAsync("aetlab", [new InterfaceMapping("r1", "eth1", "Ethernet1", "arista_ceos") { OvsPort = "vh1", VlanTag = 7 }]);
        var before = await target.DumpAsync();

        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        await store.SetMappingsAsync("aetlab", [new InterfaceMapping("r1", "eth1", "Ethernet1", "arista_ceos") { OvsPort = "vh1", VlanTag = 7 }]);

        Assert.Equal(before, await target.DumpAsync()); // updated_at included: not even touched
    }

    [Fact]
    public async Task Save_keeps_the_state_of_stored_links_adds_new_ones_pending_and_removes_the_rest()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var lab = TestLabs.Small("aetlab");
        await store.SaveLabAsync(lab, "v1");
        var checkedAt = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);
        await store.SetLinkStatesAsync("aetlab", [.. (await store.GetLinksAsync("aetlab")).Select(l => l with { Status = LinkStatus.Up, Vlan = 10, Checked = checkedAt })]);
        var labId = await LabIdAsync(target, "aetlab");
        var keptId = await target.ScalarAsync($"SELECT id FROM link_states WHERE link_key = 'r1:eth1-r2:eth1'");

        // v2: the first link written the other way round with Linux names (the same identity), the second gone, r3
        // gone, r4 and a link to it new.
        var v2 = lab with
        {
            Nodes = [lab.Nodes[0], lab.Nodes[1], new LabNode("r4", "linux", "aetlab-r4")],
            Links = [TestLabs.Link(TestLabs.End("r2", "eth1"), TestLabs.End("r1", "eth1")), TestLabs.Link(TestLabs.End("r4", "eth1"), TestLabs.End("r1", "eth3", "Ethernet3"))],
        };
        await store.SaveLabAsync(v2, "v2");

        Assert.Equal(
            [
                [keptId, "r1:eth1-r2:eth1", "r2:eth1-r1:eth1", "r2", "eth1", "up", "10", "1"],
                [null, "r1:eth3-r4:eth1", "r4:eth1-r1:Ethernet3", "r4", "eth1", "pending", null, "3"],
            ],
            (await target.QueryAsync($"SELECT id, link_key, link_name, source_node, source_interface, actual_state, vlan_tag, seq FROM link_states WHERE lab_id = '{labId}' ORDER BY seq"))
                .Select(r => r[0] == keptId ? r : [null, .. r[1..]]));
        Assert.Empty(await target.QueryAsync("SELECT id FROM link_states WHERE link_key = 'r1:eth2-r3:eth1'"));
        Assert.Equal([["r1"], ["r2"], ["r4"]], await target.QueryAsync($"SELECT name FROM nodes WHERE lab_id = '{labId}' ORDER BY name"));
        Assert.Equal("v2", await target.ScalarAsync("SELECT definition FROM labs"));

        var links = await store.GetLinksAsync("aetlab");
        Assert.Equal((LinkStatus.Up, 10, checkedAt), (links[0].Status, links[0].Vlan, links[0].Checked));
        Assert.Equal((LinkStatus.Pending, null, null), (links[1].Status, links[1].Vlan, links[1].Checked));
    }

    [Fact]
    public async Task Links_come_back_in_the_order_they_were_first_stored()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var chain = TestLabs.Chain("aetlab", 5);
        await store.SaveLabAsync(chain with { Links = [chain.Links[3], chain.Links[1]] }, "x");
        await store.SaveLabAsync(chain with { Links = [chain.Links[0], chain.Links[1], chain.Links[2], chain.Links[3], chain.Links[4]] }, "x");

        Assert.Equal(
            new[] { 3, 1, 0, 2, 4 }.Select(i => chain.Links[i].Id),
            (await store.GetLinksAsync("aetlab")).Select(l => l.Id));
    }

    [Fact]
    public async Task Labs_are_listed_by_name_and_an_unknown_one_reads_as_null_or_empty()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab-b"), "b");
        await store.SaveLabAsync(TestLabs.Chain("aetlab-a", 2), "a");
        await store.SaveLabAsync(TestLabs.Small("aetlab-C"), "c");

        Assert.Equal(["aetlab-C", "aetlab-a", "aetlab-b"], (await store.ListLabsAsync()).Select(l => l.Name));
        Assert.Equal(LabFabric.Veth, (await store.GetLabAsync("aetlab-a"))!.Fabric);
        Assert.Null(await store.GetLabAsync("aetnone"));
        Assert.Empty(await store.GetLinksAsync("aetnone"));
        Assert.Empty(await store.GetMappingsAsync("aetnone"));
        Assert.Equal("3", await target.ScalarAsync("SELECT count(*) FROM labs"));
    }

    [Fact]
    public async Task A_lab_with_two_links_of_one_identity_is_refused_before_the_database_is_touched()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var lab = TestLabs.Small("aetlab");
        var twice = lab with { Links = [.. lab.Links, TestLabs.Link(TestLabs.End("r2", "eth1", "ge-0/0/0"), TestLabs.End("r1", "eth1"))] };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveLabAsync(twice, "x"));

        Assert.Contains("link 'r1:eth1-r2:eth1' appears twice", error.Message, StringComparison.Ordinal);
        Assert.Equal("0", await target.ScalarAsync("SELECT count(*) FROM labs"));
    }
}
