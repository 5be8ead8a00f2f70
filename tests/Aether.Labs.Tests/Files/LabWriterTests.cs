using Aether.Labs;

namespace Aether.Labs.Tests.Files;

/// <summary>What the store keeps after a hot connect or disconnect: the lab written back as a file reads back to the
/// same lab (nodes, kinds, namespaces, exec, endpoints under both names, MTUs).</summary>
public sealed class LabWriterTests
{
    [Theory]
    [InlineData("demo.yaml")]
    [InlineData("vendors.yaml")]
    public void A_lab_written_back_reads_back_the_same(string example)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "../../../../../examples/labs", example);
        var original = LabLoader.Load(path);
        Assert.Empty(original.Errors);

        var written = LabWriter.Write(original.Lab!);
        var again = LabLoader.Parse(written, "written.yaml");

        Assert.Empty(again.Errors);
        Assert.Equal(original.Lab!.Name, again.Lab!.Name);
        Assert.Equal(original.Lab.Fabric, again.Lab.Fabric);
        Assert.Equal(original.Lab.Nodes.Select(n => (n.Name, n.Kind, n.Namespace, string.Join(' ', n.Exec))), again.Lab.Nodes.Select(n => (n.Name, n.Kind, n.Namespace, string.Join(' ', n.Exec))));
        Assert.Equal(original.Lab.Links, again.Lab.Links);
    }

    [Fact]
    public void A_link_added_to_a_lab_is_written_with_its_vendor_names_and_mtu()
    {
        var lab = LabLoader.Parse("name: w\nnodes:\n  r1: { kind: arista_ceos }\n  r2: { kind: juniper_vmx }\nlinks: []\n", "w.yaml").Lab!;
        var link = new LabLink(new LabEndpoint("r1", "eth1", "Ethernet1"), new LabEndpoint("r2", "eth1", "ge-0/0/0")) { Mtu = 9000 };

        var written = LabWriter.Write(lab with { Links = [link] });

        Assert.Contains("endpoints: [\"r1:Ethernet1\", \"r2:ge-0/0/0\"]", written, StringComparison.Ordinal);
        Assert.Equal([link], LabLoader.Parse(written, "w.yaml").Lab!.Links);
    }
}
