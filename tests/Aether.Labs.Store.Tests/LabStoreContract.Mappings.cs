using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    [Fact]
    public async Task Interface_mappings_round_trip_and_are_replaced_as_a_whole()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        InterfaceMapping[] first =
        [
            new("r2", "eth1", "ge-0/0/0", "juniper_vmx") { OvsPort = "vh614ed63ed40", OvsBridge = "ovs-aetlab", VlanTag = 100 },
            new("r1", "eth2", "Ethernet2", "arista_ceos") { OvsPort = "vh0000000002", OvsBridge = "ovs-aetlab", VlanTag = 101 },
            new("r1", "eth1", "Ethernet1", "arista_ceos") { OvsPort = "vh0000000001", OvsBridge = "ovs-aetlab", VlanTag = 100 },
        ];
        await store.SetMappingsAsync("aetlab", first);
        var lab = await LabIdAsync(target, "aetlab");

        Assert.Equal(
            [
                ["r1", "eth1", "Ethernet1", "arista_ceos", "vh0000000001", "ovs-aetlab", "100"],
                ["r1", "eth2", "Ethernet2", "arista_ceos", "vh0000000002", "ovs-aetlab", "101"],
                ["r2", "eth1", "ge-0/0/0", "juniper_vmx", "vh614ed63ed40", "ovs-aetlab", "100"],
            ],
            await target.QueryAsync($"""
                SELECT n.name, m.linux_interface, m.vendor_interface, m.device_type, m.ovs_port, m.ovs_bridge, m.vlan_tag
                FROM interface_mappings m JOIN nodes n ON n.id = m.node_id WHERE m.lab_id = '{lab}' ORDER BY n.name, m.linux_interface
                """));
        Assert.Equal([first[2], first[1], first[0]], await store.GetMappingsAsync("aetlab"));
        var r2Row = await target.ScalarAsync("SELECT id FROM interface_mappings WHERE ovs_port = 'vh614ed63ed40'");

        // Replace: r2's changes its tag (same row), r1:eth2 goes, r3:eth1 comes; no ovs fields this time.
        InterfaceMapping[] second = [first[0] with { VlanTag = 300 }, first[2], new("r3", "eth1", "eth1", "linux")];
        await store.SetMappingsAsync("aetlab", second);

        Assert.Equal(
            [["r1", "eth1", "100"], ["r2", "eth1", "300"], ["r3", "eth1", null]],
            await target.QueryAsync("SELECT n.name, m.linux_interface, m.vlan_tag FROM interface_mappings m JOIN nodes n ON n.id = m.node_id ORDER BY n.name"));
        Assert.Equal(r2Row, await target.ScalarAsync("SELECT id FROM interface_mappings WHERE vlan_tag = 300"));
        Assert.Equal([second[1], second[0], second[2]], await store.GetMappingsAsync("aetlab"));
    }

    [Fact]
    public async Task Mappings_of_an_unknown_node_or_lab_or_given_twice_are_refused()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        var r1 = new InterfaceMapping("r1", "eth1", "Ethernet1", "arista_ceos");

        var node = await Assert.ThrowsAsync<ArgumentException>(() => store.SetMappingsAsync("aetlab", [r1, new InterfaceMapping("r9", "eth1", "eth1", "linux")]));
        Assert.Contains("lab 'aetlab' has no node 'r9'", node.Message, StringComparison.Ordinal);
        var twice = await Assert.ThrowsAsync<ArgumentException>(() => store.SetMappingsAsync("aetlab", [r1, r1 with { Vendor = "Et1" }]));
        Assert.Contains("'r1:eth1' appears twice", twice.Message, StringComparison.Ordinal);
        var lab = await Assert.ThrowsAsync<InvalidOperationException>(() => store.SetMappingsAsync("aetnone", [r1]));
        Assert.Contains("lab 'aetnone' is not stored", lab.Message, StringComparison.Ordinal);

        Assert.Equal("0", await target.ScalarAsync("SELECT count(*) FROM interface_mappings"));
    }
}
