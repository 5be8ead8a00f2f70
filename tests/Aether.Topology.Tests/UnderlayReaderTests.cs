namespace Aether.Topology.Tests;

/// <summary>A VXLAN's <c>underlay</c>: read into <see cref="TopologyLink.Underlay"/>, and refused with the field named
/// on other kinds, on undeclared or invalid namespaces, and on the link's own namespace.</summary>
public sealed class UnderlayReaderTests
{
    private const string Head = "name: t\nnamespaces:\n  - name: hosta\n  - name: nodea\nlinks:\n";

    [Fact]
    public void A_declared_namespace_is_the_underlay()
    {
        var link = Assert.Single(Load.Valid(Head + "  - { name: eth1, kind: vxlan, namespace: nodea, vni: 1001, remote: 192.168.9.2, port: 4789, underlay: hosta }\n").Links);
        Assert.Equal(new VxlanUnderlay("hosta"), link.Underlay);
        Assert.Equal("nodea", link.Namespace);
    }

    [Fact]
    public void Host_is_the_host_namespace()
    {
        var link = Assert.Single(Load.Valid(Head + "  - { name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2, underlay: host }\n").Links);
        Assert.Equal(new VxlanUnderlay(null), link.Underlay);
    }

    [Fact]
    public void Without_underlay_the_tunnel_is_the_links_own() =>
        Assert.Null(Assert.Single(Load.Valid(Head + "  - { name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2 }\n").Links).Underlay);

    [Fact]
    public void A_parent_with_underlay_may_share_the_links_name_as_it_is_in_the_underlay_namespace()
    {
        var link = Assert.Single(Load.Valid(Head + "  - { name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2, underlay: hosta, parent: eth1 }\n").Links);
        Assert.Equal("eth1", link.Parent);
    }

    [Theory]
    [InlineData("  - { name: v1, kind: veth, namespace: nodea, underlay: hosta, peer: { name: v2 } }\n", "veth")]
    [InlineData("  - { name: br1, kind: bridge, namespace: nodea, underlay: hosta }\n", "bridge")]
    [InlineData("  - { name: mv1, kind: macvlan, namespace: nodea, parent: lo, underlay: host }\n", "macvlan")]
    public void Underlay_on_another_kind_is_refused(string link, string kind)
    {
        var error = Load.Error(Head + link, 6, link.IndexOf("underlay", StringComparison.Ordinal) + 1, "links[0].underlay", $"only for vxlan links, and this one is a {kind}");
        Assert.Contains("underlay", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nowhere", "namespace 'nowhere' is not declared under namespaces")]
    [InlineData("hostb", "namespace 'hostb' is not declared under namespaces")]
    [InlineData("\"a b\"", "allowed:")]
    [InlineData("\"-x\"", "or 'host' for the host namespace")]
    public void An_unknown_or_invalid_namespace_is_refused(string underlay, string text)
    {
        var line = $"  - {{ name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2, underlay: {underlay} }}\n";
        Load.Error(Head + line, 6, ValueColumn(line), "links[0].underlay", text);
    }

    [Theory]
    [InlineData("namespace: nodea, ", "nodea", "'nodea' is the link's own namespace (namespace 'nodea')")]
    [InlineData("", "host", "'host' is the link's own namespace (the host namespace)")]
    public void The_links_own_namespace_is_refused(string ns, string underlay, string text)
    {
        var line = $"  - {{ name: eth1, kind: vxlan, {ns}vni: 7, remote: 192.168.9.2, underlay: {underlay} }}\n";
        Load.Error(Head + line, 6, ValueColumn(line), "links[0].underlay", text);
    }

    private static int ValueColumn(string line) => line.IndexOf("underlay: ", StringComparison.Ordinal) + "underlay: ".Length + 1;

    [Fact]
    public void Host_is_refused_when_the_file_declares_a_namespace_named_host()
    {
        var result = Load.Parse("name: t\nnamespaces:\n  - name: host\n  - name: nodea\nlinks:\n  - { name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2, underlay: host }\n");
        var error = Assert.Single(result.Errors);
        Assert.Contains("links[0].underlay: 'host' means the host namespace here, and the file also declares a namespace named 'host'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_vxlans_with_one_vni_in_two_node_namespaces_over_one_underlay_clash()
    {
        // The kernel checks VNI, port and parent among the VXLANs whose socket is in one namespace (EEXIST), wherever
        // the devices live.
        var yaml = "name: t\nnamespaces:\n  - name: hosta\n  - name: nodea\n  - name: nodeb\nlinks:\n"
            + "  - { name: eth1, kind: vxlan, namespace: nodea, vni: 7, remote: 192.168.9.2, underlay: hosta }\n"
            + "  - { name: eth1, kind: vxlan, namespace: nodeb, vni: 7, remote: 192.168.9.3, underlay: hosta }\n";
        var error = Assert.Single(Load.Parse(yaml).Errors);
        Assert.Contains("links[1].vni: VNI 7 is already used in namespace 'hosta' by links[0].vni (line 7)", error.Message, StringComparison.Ordinal);

        // Over two underlays, or one with underlay and one without: no clash.
        Load.Valid(yaml.Replace("vni: 7, remote: 192.168.9.3, underlay: hosta", "vni: 7, remote: 192.168.9.3", StringComparison.Ordinal));
    }
}
