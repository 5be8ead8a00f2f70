using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    [Fact]
    public async Task Schema_has_the_reference_tables_with_their_unique_constraints_indexes_and_cascades()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;

        Assert.Equal(
            [
                "ix_interface_mappings_lab index lab_id",
                "ix_interface_mappings_node index node_id",
                "ix_interface_mappings_ovs_port index ovs_port",
                "ux_interface_mappings_lab_node_linux unique lab_id,node_id,linux_interface",
            ],
            await target.IndexesAsync("interface_mappings"));
        Assert.Equal(["ix_link_states_lab index lab_id", "ux_link_states_lab_link_key unique lab_id,link_key"], await target.IndexesAsync("link_states"));
        Assert.Equal(["ux_nodes_lab_name unique lab_id,name"], await target.IndexesAsync("nodes"));
        Assert.Equal(["ux_labs_name unique name"], await target.IndexesAsync("labs"));

        Assert.Equal(["lab_id → labs ON DELETE CASCADE", "node_id → nodes ON DELETE CASCADE"], await target.ForeignKeysAsync("interface_mappings"));
        Assert.Equal(["lab_id → labs ON DELETE CASCADE"], await target.ForeignKeysAsync("link_states"));
        Assert.Equal(["lab_id → labs ON DELETE CASCADE"], await target.ForeignKeysAsync("nodes"));

        foreach (var column in new[] { "link_key", "source_linux", "target_linux", "actual_state", "created_at" })
        {
            Assert.False(await target.IsNullableAsync("link_states", column), column);
        }

        foreach (var column in new[] { "error_message", "vlan_tag", "checked_at" })
        {
            Assert.True(await target.IsNullableAsync("link_states", column), column);
        }

        foreach (var column in new[] { "ovs_port", "ovs_bridge", "vlan_tag", "vendor_interface", "device_type" })
        {
            Assert.True(await target.IsNullableAsync("interface_mappings", column), column);
        }
    }

    [Fact]
    public async Task The_database_refuses_a_second_row_of_one_link_identity_or_one_interface_mapping()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        await store.SetMappingsAsync("aetlab", [new InterfaceMapping("r1", "eth1", "Ethernet1", "arista_ceos")]);
        var lab = await LabIdAsync(target, "aetlab");
        var node = await target.ScalarAsync($"SELECT id FROM nodes WHERE lab_id = '{lab}' AND name = 'r1'");
        var now = target.Timestamp(DateTimeOffset.UtcNow);

        // The same identity written the other way round, straight into the table: the unique index says no.
        var (code, error) = await target.TryExecuteAsync($"""
            INSERT INTO link_states (id, lab_id, link_name, link_key, seq, source_node, source_interface, source_linux,
                target_node, target_interface, target_linux, actual_state, created_at, updated_at)
            VALUES ('aetdup-link', '{lab}', 'r2:eth1-r1:eth1', 'r1:eth1-r2:eth1', 9, 'r2', 'eth1', 'eth1', 'r1', 'eth1', 'eth1', 'pending', {now}, {now})
            """);
        Assert.NotEqual(0, code);
        Assert.Contains(target.Provider == LabStoreProvider.Sqlite ? "UNIQUE constraint failed: link_states.lab_id, link_states.link_key" : "ux_link_states_lab_link_key", error, StringComparison.Ordinal);

        (code, error) = await target.TryExecuteAsync($"""
            INSERT INTO interface_mappings (id, lab_id, node_id, linux_interface, created_at, updated_at)
            VALUES ('aetdup-mapping', '{lab}', '{node}', 'eth1', {now}, {now})
            """);
        Assert.NotEqual(0, code);
        Assert.Contains(target.Provider == LabStoreProvider.Sqlite ? "UNIQUE constraint failed: interface_mappings.lab_id" : "ux_interface_mappings_lab_node_linux", error, StringComparison.Ordinal);
        Assert.Equal("2", await target.ScalarAsync("SELECT count(*) FROM link_states"));
        Assert.Equal("1", await target.ScalarAsync("SELECT count(*) FROM interface_mappings"));
    }

    [Fact]
    public async Task Migrating_again_applies_nothing_and_changes_nothing()
    {
        await using var target = await NewTargetAsync();
        await using var store = target.Open();
        var first = await store.UpgradeAsync();
        Assert.Equal(["Initial", "AddLinkKey", "UniqueLinkKey"], first.Applied);
        Assert.Equal(0, first.DuplicatesRemoved);
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        var before = await target.DumpAsync();

        var second = await store.UpgradeAsync();

        Assert.Empty(second.Applied);
        Assert.Equal(0, second.DuplicatesRemoved);
        Assert.Equal(before, await target.DumpAsync());
        Assert.Equal("3", await target.ScalarAsync("SELECT count(*) FROM \"__EFMigrationsHistory\""));
    }
}
