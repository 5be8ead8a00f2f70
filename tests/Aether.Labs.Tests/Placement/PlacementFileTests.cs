using Aether.Labs.Tests.Files;

namespace Aether.Labs.Tests.Placement;

/// <summary>Placement in lab files: <c>host:</c> on nodes, <c>cross_host:</c> on the lab, and the rules joining
/// them, each refusal naming the field at its line and column.</summary>
public sealed class PlacementFileTests
{
    /// <summary>Three nodes on three hosts (lines 2 to 5), links from line 6.</summary>
    private const string Placed = "name: x\nnodes:\n  r1: { kind: arista_ceos, host: h1 }\n  r2: { kind: juniper_vmx, host: h2 }\n  s1: { kind: linux, host: h2 }\n";

    [Fact]
    public void A_placed_lab_reads_with_its_hosts_and_the_default_mtu_setting()
    {
        var lab = LabFile.Valid(Placed + "links:\n  - endpoints: [r1:Ethernet1, r2:ge-0/0/0]\n  - endpoints: [r2:ge-0/0/1, s1:eth1]\n");

        Assert.True(lab.IsPlaced);
        Assert.Equal(CrossHostMtu.Lower, lab.CrossHostMtu);
        Assert.Equal([HostId.Parse("h1"), HostId.Parse("h2")], lab.Hosts);
        Assert.Equal(["h1", "h2", "h2"], lab.Nodes.Select(n => n.Host!.Value.Value));
        Assert.Equal(["r1"], lab.NodesOn(HostId.Parse("h1")).Select(n => n.Name));
        Assert.Equal(["r2", "s1"], lab.NodesOn(HostId.Parse("h2")).Select(n => n.Name));
        Assert.Empty(lab.NodesOn(HostId.Parse("h3")));
        Assert.Equal(["r1:Ethernet1-r2:ge-0/0/0"], lab.CrossHostLinks.Select(l => l.ToString()));
        Assert.Equal(["r1:Ethernet1-r2:ge-0/0/0"], lab.LinksOn(HostId.Parse("h1")).Select(l => l.ToString()));
        Assert.Equal(2, lab.LinksOn(HostId.Parse("h2")).Count);
        Assert.False(lab.IsCrossHost(lab.Links[1]));
        Assert.Equal(HostId.Parse("h2"), lab.HostOf(lab.Links[1].B));
    }

    [Theory]
    [InlineData("lower", CrossHostMtu.Lower)]
    [InlineData("underlay", CrossHostMtu.Underlay)]
    public void The_mtu_setting_is_read(string written, CrossHostMtu expected) =>
        Assert.Equal(expected, LabFile.Valid(Placed + $"cross_host: {{ mtu: {written} }}\n").CrossHostMtu);

    [Fact]
    public void A_cross_host_without_mtu_is_the_default() =>
        Assert.Equal(CrossHostMtu.Lower, LabFile.Valid(Placed + "cross_host: {}\n").CrossHostMtu);

    [Fact]
    public void A_lab_without_hosts_is_not_placed()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux }\n  r2: { kind: linux }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        Assert.False(lab.IsPlaced);
        Assert.Empty(lab.Hosts);
        Assert.Empty(lab.CrossHostLinks);
        Assert.All(lab.Nodes, n => Assert.Null(n.Host));
        Assert.Null(lab.HostOf(lab.Links[0].A));
    }

    [Fact]
    public void One_host_for_every_node_has_no_cross_host_link()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, host: solo }\n  r2: { kind: linux, host: solo }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n    mtu: 100\n");
        Assert.Equal([HostId.Parse("solo")], lab.Hosts);
        Assert.Empty(lab.CrossHostLinks);
    }

    // ---- host ids ----

    [Theory]
    [InlineData("H1", "must start with a lowercase letter or digit")]
    [InlineData("hA", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("-h1", "must start with a lowercase letter or digit")]
    [InlineData("_h1", "must start with a lowercase letter or digit")]
    [InlineData("h.1", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("'h 1'", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("'h/1'", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("\"\"", "empty")]
    [InlineData("aaaaaaaaaabbbbbbbbbbccccccccccdde", "33 characters, the limit is 32")]
    public void A_bad_host_id_is_refused_at_its_value(string written, string why)
    {
        var error = LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: " + written + " }\n", 3, 28, "nodes.r1.host", "invalid host id ");
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("allowed: 1-32 lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit, not 'auto', or auto (the controller places it)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_longest_host_id_is_accepted() =>
        Assert.Equal(32, LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, host: aaaaaaaaaabbbbbbbbbbccccccccccdd }\n").Nodes[0].Host!.Value.Value.Length);

    [Theory]
    [InlineData("[h1]", "a list")]
    [InlineData("{ id: h1 }", "a mapping")]
    public void A_host_that_is_not_a_single_value(string written, string got) =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: " + written + " }\n", 3, 28, "nodes.r1.host", "expected a single value; got " + got);

    [Fact]
    public void An_unknown_node_key_lists_host() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, hots: h1 }\n", 3, 22, "nodes.r1.hots", "unknown key; did you mean 'host'? allowed here: kind, namespace, exec, host");

    [Fact]
    public void HostId_parse_refuses_what_the_reader_refuses()
    {
        Assert.Equal("h-1_a", HostId.Parse("h-1_a").ToString());
        Assert.Contains("allowed: 1-32", Assert.Throws<ArgumentException>(() => HostId.Parse("H1")).Message, StringComparison.Ordinal);
        Assert.False(HostId.TryParse("", out _));
        Assert.False(HostId.TryParse(null, out _));
        Assert.True(HostId.TryParse("0", out var zero));
        Assert.True(zero < HostId.Parse("a"));
    }

    // ---- all or none ----

    [Fact]
    public void One_unplaced_node_is_named()
    {
        var error = LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux }\n  r3: { kind: linux, host: h2 }\n", 4, 3, "nodes.r2",
            "has no host while nodes.r1 has one (line 3): a lab places every node (host: ID, or host: auto to let the controller choose) or none");
        Assert.EndsWith("unplaced: r2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_unplaced_node_is_named_at_the_first()
    {
        var error = LabFile.Error("name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\n  c: { kind: linux, host: h1 }\n  d: { kind: linux }\n", 3, 3, "nodes.a",
            "has no host while nodes.c has one (line 5)");
        Assert.EndsWith("unplaced: a, b, d", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_given_as_null_is_unplaced() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: }\n", 4, 3, "nodes.r2", "unplaced: r2");

    [Fact]
    public void A_node_with_a_bad_host_id_is_not_also_called_unplaced() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: H2 }\n", 4, 28, "nodes.r2.host", "invalid host id 'H2'");

    // ---- the ovs fabric ----

    [Fact]
    public void An_ovs_lab_placed_on_hosts_reads_with_its_fabric_and_hosts()
    {
        var lab = LabFile.Valid("name: x\nfabric: ovs\nnodes:\n  r1: { kind: linux, host: h1 }\n  r2: { kind: linux, host: h2 }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        Assert.Equal(LabFabric.Ovs, lab.Fabric);
        Assert.Equal(["h1", "h2"], lab.Hosts.Select(h => h.Value));
        Assert.Single(lab.CrossHostLinks);
    }

    [Fact]
    public void An_ovs_lab_with_mixed_placement_gets_the_placement_error_only() =>
        Assert.Equal(
        [
            "lab.yaml:4:3: nodes.r1: has no host while nodes.r2 has one (line 5): a lab places every node (host: ID, or host: auto to let the controller choose) or none; unplaced: r1",
        ], LabFile.Errors("name: x\nfabric: ovs\nnodes:\n  r1: { kind: linux }\n  r2: { kind: linux, host: h2 }\n"));

    // ---- cross_host ----

    [Theory]
    [InlineData("{ mtu: lowr }", 6, 20, "cross_host.mtu", "'lowr' is not one of lower, underlay; did you mean 'lower'?")]
    [InlineData("{ mtu: raise }", 6, 20, "cross_host.mtu", "'raise' is not one of lower, underlay")]
    [InlineData("{ mtu: 1450 }", 6, 20, "cross_host.mtu", "'1450' is not one of lower, underlay")]
    [InlineData("{ mtu: [lower] }", 6, 20, "cross_host.mtu", "expected a single value; got a list")]
    [InlineData("{ mut: lower }", 6, 15, "cross_host.mut", "unknown key; did you mean 'mtu'? allowed here: mtu")]
    [InlineData("lower", 6, 13, "cross_host", "expected a mapping with keys mtu, transport; got 'lower'")]
    [InlineData("[lower]", 6, 13, "cross_host", "expected a mapping with keys mtu, transport; got a list")]
    public void A_bad_cross_host_setting(string written, int line, int column, string field, string text) =>
        LabFile.Error(Placed + "cross_host: " + written + "\n", line, column, field, text);

    [Fact]
    public void Cross_host_in_a_lab_without_hosts_is_refused() =>
        LabFile.Error("name: x\ncross_host: { mtu: underlay }\nnodes:\n  r1: { kind: linux }\n", 2, 13, "cross_host",
            "applies to a lab whose nodes are placed on hosts (host: ID on every node); no node here has a host");

    [Fact]
    public void An_unknown_top_level_key_lists_cross_host() =>
        LabFile.Error(Placed + "crosshost: {}\n", 6, 1, "crosshost", "unknown key; did you mean 'cross_host'? allowed here: name, fabric, nodes, links, cross_host");

    // ---- MTUs of cross-host links ----

    [Theory]
    [InlineData("", 117, "leaving 67, below 68; allowed here: 118..65535")]
    [InlineData("", 68, "leaving 18, below 68; allowed here: 118..65535")]
    [InlineData("cross_host: { mtu: lower }\n", 100, "leaving 50, below 68")]
    [InlineData("cross_host: { mtu: underlay }\n", 65486, "needs the underlay to carry 65536, above 65535; allowed here: 68..65485")]
    [InlineData("cross_host: { mtu: underlay }\n", 65535, "needs the underlay to carry 65585")]
    public void A_cross_host_link_mtu_without_room_for_vxlan_is_refused(string setting, int mtu, string text)
    {
        var error = LabFile.Error(Placed + setting + $"links:\n  - endpoints: [r1:Ethernet1, r2:ge-0/0/0]\n    mtu: {mtu}\n", setting.Length == 0 ? 8 : 9, 10, "links[0].mtu",
            $"{mtu} does not fit a cross-host link (r1 on h1, r2 on h2): ");
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", 118)]
    [InlineData("", 65535)]
    [InlineData("cross_host: { mtu: underlay }\n", 68)]
    [InlineData("cross_host: { mtu: underlay }\n", 65485)]
    public void A_cross_host_link_mtu_at_the_bounds_is_accepted(string setting, int mtu) =>
        Assert.Equal(mtu, LabFile.Valid(Placed + setting + $"links:\n  - endpoints: [r1:Ethernet1, r2:ge-0/0/0]\n    mtu: {mtu}\n").Links[0].Mtu);

    [Fact]
    public void A_link_inside_one_host_keeps_the_plain_mtu_range() =>
        Assert.Equal(68, LabFile.Valid(Placed + "links:\n  - endpoints: [r2:ge-0/0/0, s1:eth1]\n    mtu: 68\n").Links[0].Mtu);

    // ---- written back ----

    [Theory]
    [InlineData("")]
    [InlineData("cross_host: { mtu: underlay }\n")]
    public void A_placed_lab_written_back_reads_back_the_same(string setting)
    {
        var lab = LabFile.Valid(Placed + setting + "links:\n  - endpoints: [r1:Ethernet1, r2:ge-0/0/0]\n    mtu: 9000\n");
        var again = LabFile.Valid(LabWriter.Write(lab));
        Assert.Equal(lab.CrossHostMtu, again.CrossHostMtu);
        Assert.Equal(lab.Nodes.Select(n => (n.Name, n.Host)), again.Nodes.Select(n => (n.Name, n.Host)));
        Assert.Equal(lab.Links, again.Links);
    }

    [Fact]
    public void A_lab_without_hosts_is_written_without_placement() =>
        Assert.DoesNotContain("host", LabWriter.Write(LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux }\n")), StringComparison.Ordinal);
}
