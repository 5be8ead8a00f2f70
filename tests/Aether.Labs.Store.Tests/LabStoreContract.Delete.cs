using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    [Fact]
    public async Task Deleting_a_lab_removes_its_nodes_links_and_mappings_and_nothing_else()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        foreach (var name in new[] { "aetlab", "aetkeep" })
        {
            await store.SaveLabAsync(TestLabs.Small(name), "x");
            await store.SetMappingsAsync(name, [new InterfaceMapping("r1", "eth1", "Ethernet1", "arista_ceos"), new InterfaceMapping("r2", "eth1", "ge-0/0/0", "juniper_vmx")]);
        }

        var gone = await LabIdAsync(target, "aetlab");
        var kept = await LabIdAsync(target, "aetkeep");
        var keptRows = (await target.DumpAsync()).Where(r => r.Contains(kept, StringComparison.Ordinal)).ToList();

        Assert.True(await store.DeleteLabAsync("aetlab"));

        foreach (var table in new[] { "nodes", "link_states", "interface_mappings" })
        {
            Assert.Equal("0", await target.ScalarAsync($"SELECT count(*) FROM {table} WHERE lab_id = '{gone}'"));
        }

        Assert.Equal([["aetkeep"]], await target.QueryAsync("SELECT name FROM labs"));
        Assert.Equal(keptRows, await target.DumpAsync());
        Assert.False(await store.DeleteLabAsync("aetlab"));
        Assert.Null(await store.GetLabAsync("aetlab"));
    }

    [Fact]
    public async Task A_node_removed_from_the_lab_takes_its_mappings_with_it()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var lab = TestLabs.Small("aetlab");
        await store.SaveLabAsync(lab, "x");
        await store.SetMappingsAsync("aetlab", [new InterfaceMapping("r1", "eth2", "Ethernet2", "arista_ceos"), new InterfaceMapping("r3", "eth1", "eth1", "linux")]);

        await store.SaveLabAsync(lab with { Nodes = lab.Nodes.Take(2).ToList(), Links = lab.Links.Take(1).ToList() }, "x");

        Assert.Equal([["eth2"]], await target.QueryAsync("SELECT linux_interface FROM interface_mappings"));
        Assert.Equal(["r1"], (await store.GetMappingsAsync("aetlab")).Select(m => m.Node));
    }
}
