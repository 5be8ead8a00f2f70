using System.Globalization;

namespace Aether.Labs.Store.Tests.Infrastructure;

/// <summary>Labs to save: small ones written by hand, and a chain of N links between vendor-named nodes.</summary>
public static class TestLabs
{
    /// <summary>The juniper profile of the reference's example: <c>ge-0/0/N</c> is <c>eth(N+1)</c>; other kinds are
    /// left to the default rule (null).</summary>
    public static string? Juniper(string kind, string name) =>
        kind == "juniper_vmx" && name.StartsWith("ge-0/0/", StringComparison.Ordinal)
            ? "eth" + (int.Parse(name["ge-0/0/".Length..], CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture)
            : null;

    public static LabEndpoint End(string node, string linux, string? vendor = null) => new(node, linux, vendor ?? linux);

    public static LabLink Link(LabEndpoint a, LabEndpoint b, int? mtu = null) => new(a, b) { Mtu = mtu };

    /// <summary>r1 (arista_ceos), r2 (juniper_vmx), r3 (linux); links r1:Ethernet1-r2:ge-0/0/0 and
    /// r1:Ethernet2-r3:eth1.</summary>
    public static LabSpec Small(string name) => new(name)
    {
        Fabric = LabFabric.Ovs,
        SourcePath = "/srv/labs/" + name + ".yaml",
        Nodes =
        [
            new LabNode("r1", "arista_ceos", name + "-r1"),
            new LabNode("r2", "juniper_vmx", name + "-r2"),
            new LabNode("r3", "linux", name + "-r3"),
        ],
        Links =
        [
            Link(End("r1", "eth1", "Ethernet1"), End("r2", "eth1", "ge-0/0/0"), mtu: 9000),
            Link(End("r1", "eth2", "Ethernet2"), End("r3", "eth1")),
        ],
    };

    /// <summary>A chain of <paramref name="links"/> links over links+1 nodes: nK:Ethernet2-nK+1:Ethernet1.</summary>
    public static LabSpec Chain(string name, int links) => new(name)
    {
        Nodes = [.. Enumerable.Range(0, links + 1).Select(i => new LabNode(Node(i), "arista_ceos", name + "-" + Node(i)))],
        Links = [.. Enumerable.Range(0, links).Select(i => Link(End(Node(i), "eth2", "Ethernet2"), End(Node(i + 1), "eth1", "Ethernet1")))],
    };

    public static string Definition(LabSpec lab) => "name: " + lab.Name + "\n# " + lab.Links.Count.ToString(CultureInfo.InvariantCulture) + " links\n";

    private static string Node(int i) => "n" + i.ToString(CultureInfo.InvariantCulture);
}
