using Aether.Labs.Tests.Files;

namespace Aether.Labs.Tests.Placement;

/// <summary><c>host: auto</c>: the file lets the controller choose a node's host (<see cref="LabPlacer"/>), and the
/// lab is compiled once it has the choices (<see cref="LabSpec.WithPlacements"/>).</summary>
public sealed class AutoPlacementTests
{
    private static readonly HostId H1 = HostId.Parse("h1"), H2 = HostId.Parse("h2"), H3 = HostId.Parse("h3");
    private static readonly Dictionary<string, HostId> None = new(StringComparer.Ordinal);

    [Fact]
    public void Auto_nodes_read_as_placed_and_awaiting_their_hosts()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: auto }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        Assert.True(lab.IsPlaced);
        Assert.True(lab.AwaitsPlacement);
        Assert.True(lab.Nodes[1].AutoHost);
        Assert.Null(lab.Nodes[1].Host);
        Assert.False(lab.Nodes[0].AutoHost);
        Assert.Equal([H1], lab.Hosts);
        Assert.Contains("host: auto", LabWriter.Write(lab), StringComparison.Ordinal);
        Assert.True(LabFile.Valid(LabWriter.Write(lab)).Nodes[1].AutoHost);
    }

    [Fact]
    public void A_lab_given_its_placements_compiles_like_one_placed_by_hand()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, host: auto }\n  r2: { kind: linux, host: auto }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        var placed = lab.WithPlacements(new Dictionary<string, HostId>(StringComparer.Ordinal) { ["r1"] = H1, ["r2"] = H2 });
        Assert.False(placed.AwaitsPlacement);
        Assert.Equal([H1, H2], placed.Hosts);
        Assert.Single(placed.CrossHostLinks);
        Assert.All(placed.Nodes, n => Assert.True(n.AutoHost));
        var early = Assert.Throws<ArgumentException>(() => LabTopology.CompileForHost(lab, H1, new Dictionary<HostId, System.Net.IPAddress>(), new Dictionary<LinkId, uint>(), null));
        Assert.Contains("some host: auto node has no host yet", early.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentException>(() => lab.WithPlacements(new Dictionary<string, HostId>(StringComparer.Ordinal) { ["r1"] = H1 }));
        Assert.Contains("no host chosen yet for r2", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_is_not_a_host_id_and_mixes_with_ids_but_not_with_unplaced_nodes()
    {
        Assert.False(HostId.TryParse("auto", out _));
        Assert.Contains("'auto' is reserved", Assert.Throws<ArgumentException>(() => HostId.Parse("auto")).Message, StringComparison.Ordinal);
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: auto }\n  r2: { kind: linux }\n", 4, 3, "nodes.r2", "unplaced: r2");
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: Auto }\n", 3, 28, "nodes.r1.host", "invalid host id 'Auto'");
    }

    [Fact]
    public void A_link_with_an_auto_end_must_fit_across_hosts()
    {
        var error = LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: auto }\n  r2: { kind: linux, host: auto }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n    mtu: 100\n",
            7, 10, "links[0].mtu", "100 does not fit a cross-host link");
        Assert.Contains("allowed here: 118..", error.Message, StringComparison.Ordinal);
        Assert.NotNull(LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h1 }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n    mtu: 100\n"));
    }

    [Fact]
    public void The_placer_spreads_nodes_fairly_and_keeps_neighbours_together()
    {
        // Two triangles joined by one link: each triangle on a host, one link across.
        var lab = LabFile.Valid("name: x\nnodes:\n" + string.Concat(new[] { "a1", "a2", "a3", "b1", "b2", "b3" }.Select(n => $"  {n}: {{ kind: linux, host: auto }}\n"))
            + "links:\n  - endpoints: [a1:eth1, a2:eth1]\n  - endpoints: [a2:eth2, a3:eth1]\n  - endpoints: [a3:eth2, a1:eth2]\n"
            + "  - endpoints: [b1:eth1, b2:eth1]\n  - endpoints: [b2:eth2, b3:eth1]\n  - endpoints: [b3:eth2, b1:eth2]\n  - endpoints: [a1:eth3, b1:eth3]\n");
        var placed = LabPlacer.Place(lab, [H2, H1], None);
        Assert.Equal(["h1", "h1", "h1", "h2", "h2", "h2"], lab.Nodes.Select(n => placed[n.Name].Value));
        Assert.Single(lab.WithPlacements(placed).CrossHostLinks);
        Assert.Equal(placed, LabPlacer.Place(lab, [H1, H2], None)); // deterministic, whatever the order of the hosts
    }

    [Fact]
    public void The_placer_keeps_live_choices_moves_nodes_off_dead_hosts_and_keeps_the_files_hosts()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  p: { kind: linux, host: h3 }\n  r1: { kind: linux, host: auto }\n  r2: { kind: linux, host: auto }\n  r3: { kind: linux, host: auto }\n");
        var previous = new Dictionary<string, HostId>(StringComparer.Ordinal) { ["r1"] = H2, ["r2"] = H1, ["p"] = H1 };
        var placed = LabPlacer.Place(lab, [H1, H3], previous); // h2 is gone
        Assert.Equal(H3, placed["p"]);   // the file's host, whatever was stored
        Assert.Equal(H1, placed["r2"]);  // kept: h1 is alive
        Assert.NotEqual(H2, placed["r1"]);
        Assert.Equal(4, placed.Count);
        Assert.Equal(2, placed.Values.Count(h => h == H1));
        Assert.Equal(2, placed.Values.Count(h => h == H3));
        var none = Assert.Throws<ArgumentException>(() => LabPlacer.Place(lab, [], None));
        Assert.Contains("no agent's host is alive", none.Message, StringComparison.Ordinal);
        Assert.Equal(H3, Assert.Single(LabPlacer.Place(LabFile.Valid("name: x\nnodes:\n  p: { kind: linux, host: h3 }\n"), [], None)).Value);
    }
}
