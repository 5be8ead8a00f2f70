using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    /// <summary>
    /// An older store (schema at the first migration: links as written, no identity) holding the reference's
    /// duplicate: <c>r1:Ethernet1-r2:ge-0/0/0</c> (kinds arista_ceos, juniper_vmx), then a day later
    /// <c>r2:eth1-r1:eth1</c>; beside them an unrelated link, a second duplicate pair whose rows share one created_at
    /// (the smaller id is kept), and the same link in another lab (not a duplicate: identities are per lab).
    /// Migrating keeps the oldest of each identity with its state and gives it its identity; the rest stay as they
    /// were.
    /// </summary>
    [Fact]
    public async Task Migration_merges_the_duplicates_of_an_older_store_keeping_the_oldest()
    {
        await using var target = await NewTargetAsync();
        await using var store = target.Open(TestLabs.Juniper);
        Assert.Equal(["Initial"], (await store.MigrateToAsync(LabStore.Migrations.Initial, default)).Applied);
        Assert.False(await target.IsNullableAsync("link_states", "source_interface"));
        Assert.DoesNotContain("link_key", await target.ColumnsAsync("link_states"));

        var day = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string T(int days) => target.Timestamp(day.AddDays(days));
        await SeedAsync(target, $"""
            INSERT INTO labs (id, name, fabric, definition, created_at, updated_at) VALUES
                ('lab-a', 'aetold', 'ovs', 'old', {T(0)}, {T(0)}),
                ('lab-b', 'aetother', 'veth', 'other', {T(0)}, {T(0)});
            INSERT INTO nodes (id, lab_id, name, kind, namespace, created_at, updated_at) VALUES
                ('n-a1', 'lab-a', 'r1', 'arista_ceos', 'aetold-r1', {T(0)}, {T(0)}),
                ('n-a2', 'lab-a', 'r2', 'juniper_vmx', 'aetold-r2', {T(0)}, {T(0)}),
                ('n-a3', 'lab-a', 'r3', 'linux', 'aetold-r3', {T(0)}, {T(0)}),
                ('n-b1', 'lab-b', 'r1', 'arista_ceos', 'aetother-r1', {T(0)}, {T(0)}),
                ('n-b2', 'lab-b', 'r2', 'juniper_vmx', 'aetother-r2', {T(0)}, {T(0)});
            INSERT INTO link_states (id, lab_id, link_name, source_node, source_interface, target_node, target_interface,
                    actual_state, error_message, vlan_tag, created_at, updated_at) VALUES
                ('l-9-oldest', 'lab-a', 'r1:Ethernet1-r2:ge-0/0/0', 'r1', 'Ethernet1', 'r2', 'ge-0/0/0', 'up', NULL, 100, {T(1)}, {T(1)}),
                ('l-1-later', 'lab-a', 'r2:eth1-r1:eth1', 'r2', 'eth1', 'r1', 'eth1', 'error', 'VLAN mismatch', 200, {T(2)}, {T(2)}),
                ('l-5-unrelated', 'lab-a', 'r1:Ethernet2-r3:eth1', 'r1', 'Ethernet2', 'r3', 'eth1', 'pending', NULL, NULL, {T(3)}, {T(3)}),
                ('l-7-tie-kept', 'lab-a', 'r2:ge-0/0/1-r3:eth2', 'r2', 'ge-0/0/1', 'r3', 'eth2', 'down', NULL, NULL, {T(4)}, {T(4)}),
                ('l-8-tie-dropped', 'lab-a', 'r3:eth2-r2:eth2', 'r3', 'eth2', 'r2', 'eth2', 'up', NULL, NULL, {T(4)}, {T(4)}),
                ('l-2-other-lab', 'lab-b', 'r2:eth1-r1:eth1', 'r2', 'eth1', 'r1', 'eth1', 'up', NULL, 300, {T(5)}, {T(5)});
            """);

        var migration = await store.UpgradeAsync();

        Assert.Equal(["AddLinkKey", "UniqueLinkKey"], migration.Applied);
        Assert.Equal(2, migration.DuplicatesRemoved);
        var rows = await target.QueryAsync("""
            SELECT id, lab_id, link_key, source_linux, target_linux, seq, link_name, actual_state, error_message, vlan_tag
            FROM link_states ORDER BY id
            """);
        Assert.Equal(
            [
                ["l-2-other-lab", "lab-b", "r1:eth1-r2:eth1", "eth1", "eth1", "1", "r2:eth1-r1:eth1", "up", null, "300"],
                ["l-5-unrelated", "lab-a", "r1:eth2-r3:eth1", "eth2", "eth1", "2", "r1:Ethernet2-r3:eth1", "pending", null, null],
                ["l-7-tie-kept", "lab-a", "r2:eth2-r3:eth2", "eth2", "eth2", "3", "r2:ge-0/0/1-r3:eth2", "down", null, null],
                ["l-9-oldest", "lab-a", "r1:eth1-r2:eth1", "eth1", "eth1", "1", "r1:Ethernet1-r2:ge-0/0/0", "up", null, "100"],
            ],
            rows);

        // Through the store: the kept rows in the order they were first stored, as written.
        var links = await store.GetLinksAsync("aetold");
        Assert.Equal(["r1:eth1-r2:eth1", "r1:eth2-r3:eth1", "r2:eth2-r3:eth2"], links.Select(l => l.Id.Value));
        Assert.Equal(new LabEndpoint("r1", "eth1", "Ethernet1"), links[0].A);
        Assert.Equal(new LabEndpoint("r2", "eth1", "ge-0/0/0"), links[0].B);
        Assert.Equal((LinkStatus.Up, 100, day.AddDays(1)), (links[0].Status, links[0].Vlan, links[0].Created));

        // Idempotent: nothing further to apply or merge.
        var dump = await target.DumpAsync();
        var again = await store.UpgradeAsync();
        Assert.Empty(again.Applied);
        Assert.Equal(dump, await target.DumpAsync());
    }

    /// <summary>Without a profile the default rule applies: the first run of digits makes ethN (so
    /// <c>ge-0/0/0</c> is eth0, and is not the duplicate it would be under the juniper profile).</summary>
    [Fact]
    public async Task Migration_without_a_profile_normalizes_by_the_first_digits()
    {
        await using var target = await NewTargetAsync();
        await using var store = target.Open();
        await store.MigrateToAsync(LabStore.Migrations.Initial, default);
        var t = target.Timestamp(DateTimeOffset.UtcNow);
        await SeedAsync(target, $"""
            INSERT INTO labs (id, name, fabric, definition, created_at, updated_at) VALUES ('lab-a', 'aetold', 'veth', 'old', {t}, {t});
            INSERT INTO link_states (id, lab_id, link_name, source_node, source_interface, target_node, target_interface,
                    actual_state, created_at, updated_at) VALUES
                ('l-1', 'lab-a', 'r1:Ethernet1-r2:ge-0/0/0', 'r1', 'Ethernet1', 'r2', 'ge-0/0/0', 'up', {t}, {t}),
                ('l-2', 'lab-a', 'r1:eth1-r2:eth1', 'r1', 'eth1', 'r2', 'eth1', 'up', {t}, {t}),
                ('l-3', 'lab-a', 'r1:GigabitEthernet0/2-r2:mgmt', 'r1', 'GigabitEthernet0/2', 'r2', 'mgmt', 'up', {t}, {t});
            """);

        Assert.Equal(0, (await store.UpgradeAsync()).DuplicatesRemoved);

        Assert.Equal(
            [["l-1", "r1:eth1-r2:eth0"], ["l-2", "r1:eth1-r2:eth1"], ["l-3", "r1:eth0-r2:mgmt"]],
            await target.QueryAsync("SELECT id, link_key FROM link_states ORDER BY id"));
    }

    private static async Task SeedAsync(StoreTarget target, string sql)
    {
        var (code, error) = await target.TryExecuteAsync(sql);
        Assert.True(code == 0, "seeding the older store: " + error);
    }
}
