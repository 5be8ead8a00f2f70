using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    private const string RowsOfLab = """
        SELECT 'link', link_key, actual_state, coalesce(error_message, ''), coalesce(cast(vlan_tag AS text), '') FROM link_states
        UNION ALL SELECT 'node', name, kind, namespace, '' FROM nodes
        UNION ALL SELECT 'map', n.name || ':' || m.linux_interface, m.vendor_interface, m.device_type, coalesce(cast(m.vlan_tag AS text), '')
            FROM interface_mappings m JOIN nodes n ON n.id = m.node_id
        UNION ALL SELECT 'lab', name, fabric, definition, '' FROM labs
        ORDER BY 1, 2
        """;

    /// <summary>What deploy wants before it touches the kernel: mappings from the links as stored (with a tag), and
    /// every link not up or down as creating.</summary>
    private static DeployIntent Intent(IReadOnlyList<LinkState> links, List<IReadOnlyList<LinkState>>? seen = null)
    {
        seen?.Add(links);
        return new DeployIntent(
            [.. links.SelectMany(l => new[] { l.A, l.B }).Select(e => new InterfaceMapping(e.Node, e.Linux, e.Vendor, "linux") { VlanTag = 100 })],
            [.. links.Where(l => l.Status is not (LinkStatus.Up or LinkStatus.Down)).Select(l => l with { Status = LinkStatus.Creating })]);
    }

    [Fact]
    public async Task Save_for_deploy_writes_what_the_four_calls_write_and_returns_it()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var (other, separate) = await MigratedAsync();
        await using var ___ = other;
        await using var ____ = separate;
        var lab = TestLabs.Small("aetlab");
        var seen = new List<IReadOnlyList<LinkState>>();

        var returned = await store.SaveForDeployAsync(lab, "x", links => Intent(links, seen));

        // The same through the four calls, on a database of its own: the rows are the same.
        await separate.SaveLabAsync(lab, "x");
        var wanted = Intent(await separate.GetLinksAsync("aetlab"));
        await separate.SetMappingsAsync("aetlab", wanted.Mappings);
        await separate.SetLinkStatesAsync("aetlab", wanted.States);
        var rows = await target.QueryAsync(RowsOfLab);
        Assert.Equal(await other.QueryAsync(RowsOfLab), rows);
        Assert.Contains(["link", "r1:eth1-r2:eth1", "creating", "", ""], rows);
        Assert.Contains(["map", "r2:eth1", "ge-0/0/0", "linux", "100"], rows);

        // The intent saw the links as stored (new: pending), in the order they were stored; the result is as written.
        Assert.Equal(lab.Links.Select(l => (l.Id, LinkStatus.Pending)), Assert.Single(seen).Select(l => (l.Id, l.Status)));
        Assert.Equal(lab.Links.Select(l => (l.Id, LinkStatus.Creating)), returned.Select(l => (l.Id, l.Status)));
        Assert.Equal(await store.GetLinksAsync("aetlab"), returned);
    }

    [Fact]
    public async Task Save_for_deploy_keeps_links_up_or_down_and_refuses_a_bad_intent_whole()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var lab = TestLabs.Small("aetlab");
        var first = await store.SaveForDeployAsync(lab, "x", links => Intent(links));
        await store.SetLinkStatesAsync("aetlab", [first[0] with { Status = LinkStatus.Up }, first[1] with { Status = LinkStatus.Down }]);

        var again = await store.SaveForDeployAsync(lab, "y", links => Intent(links));

        Assert.Equal([LinkStatus.Up, LinkStatus.Down], again.Select(l => l.Status));
        Assert.Equal("y", await target.ScalarAsync("SELECT definition FROM labs"));

        // A mapping on a node the lab does not have: refused, and nothing of this save is kept (the definition neither).
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveForDeployAsync(lab, "z", links =>
            Intent(links) with { Mappings = [new InterfaceMapping("r9", "eth1", "eth1", "linux")] }));
        Assert.Contains("no node 'r9'", bad.Message, StringComparison.Ordinal);
        Assert.Equal("y", await target.ScalarAsync("SELECT definition FROM labs"));
        Assert.Equal([LinkStatus.Up, LinkStatus.Down], (await store.GetLinksAsync("aetlab")).Select(l => l.Status));

        // And a new lab refused so leaves no row at all.
        await Assert.ThrowsAsync<ArgumentException>(() => store.SaveForDeployAsync(TestLabs.Small("aetnew"), "z", links =>
            Intent(links) with { Mappings = [new InterfaceMapping("r9", "eth1", "eth1", "linux")] }));
        Assert.Equal("0", await target.ScalarAsync("SELECT count(*) FROM labs WHERE name = 'aetnew'"));
    }
}
