namespace Aether.Labs.Tests.Files;

/// <summary>The issue's example, the shipped examples, and the lab as the loader builds it.</summary>
public sealed class ExampleTests
{
    /// <summary>The lab file of the issue, word for word.</summary>
    private const string IssueExample = """
        name: demo
        fabric: ovs                  # or veth (the default)
        nodes:
          r1: { kind: arista_ceos }
          r2: { kind: juniper_vmx }
          h1: { kind: linux, exec: ["sleep", "infinity"] }
        links:
          - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
          - endpoints: ["r1:eth2", "h1:eth1"]        # Linux names are accepted too
            mtu: 9000

        """;

    private static readonly LabLink[] DemoLinks =
    [
        new(new LabEndpoint("r1", "eth1", "Ethernet1"), new LabEndpoint("r2", "eth1", "ge-0/0/0")),
        new(new LabEndpoint("r1", "eth2", "Ethernet2"), new LabEndpoint("h1", "eth1", "eth1")) { Mtu = 9000 },
    ];

    private static readonly (string, string, string, string)[] DemoNodes =
    [
        ("r1", "arista_ceos", "demo-r1", ""),
        ("r2", "juniper_vmx", "demo-r2", ""),
        ("h1", "linux", "demo-h1", "sleep infinity"),
    ];

    [Fact]
    public void The_issue_example_is_the_expected_lab()
    {
        var lab = LabFile.Valid(IssueExample);
        Assert.Equal("demo", lab.Name);
        Assert.Equal(LabFabric.Ovs, lab.Fabric);
        Assert.Equal(DemoNodes, LabFile.Nodes(lab));
        Assert.Equal(["sleep", "infinity"], lab.Nodes[2].Exec);
        Assert.Equal(DemoLinks, lab.Links);
        Assert.Equal(["r1:eth1-r2:eth1", "h1:eth1-r1:eth2"], lab.Links.Select(l => l.Id.Value));
        Assert.Equal(["r1:Ethernet1-r2:ge-0/0/0", "r1:Ethernet2-h1:eth1"], lab.Links.Select(l => l.ToString()));
        Assert.Null(lab.SourcePath);
    }

    [Fact]
    public void The_shipped_demo_is_the_issue_example_on_the_veth_fabric()
    {
        var path = Path.Combine(LabFile.RepoRoot(), "examples", "labs", "demo.yaml");
        var result = LabLoader.Load(path);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        var lab = result.Lab!;
        Assert.Equal(LabFabric.Veth, lab.Fabric);
        Assert.Equal(path, lab.SourcePath);
        Assert.Equal(File.ReadAllText(path), result.Text);
        Assert.Equal(DemoNodes, LabFile.Nodes(lab));
        Assert.Equal(DemoLinks, lab.Links);
    }

    [Fact]
    public void The_shipped_vendors_lab_has_one_node_of_each_kind_and_vendor_names_mapped()
    {
        var result = LabLoader.Load(Path.Combine(LabFile.RepoRoot(), "examples", "labs", "vendors.yaml"));
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        var lab = result.Lab!;
        Assert.Equal(InterfaceProfiles.Default.KnownKinds.Order(), lab.Nodes.Select(n => n.Kind).Order());
        Assert.Equal("vendors-host-ns", lab.Nodes.Single(n => n.Name == "host").Namespace);
        Assert.Equal(
        [
            "eos:eth1 vmx:eth1",
            "vmx:eth2 xr:eth1",
            "xr:eth2 srl:e1-1",
            "srl:e1-2 eos:eth2",
            "eos:eth3_1 host:eth1",
        ], lab.Links.Select(l => $"{l.A.Key} {l.B.Key}"));
        Assert.Equal(["Ethernet1", "ge-0/0/1", "Gi0/0/0/1", "ethernet-1/2", "Ethernet3/1"], lab.Links.Select(l => l.A.Vendor));
        Assert.Equal(1500, lab.Links[^1].Mtu);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_one_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aet-missing-{Guid.NewGuid():N}.yaml");
        var result = LabLoader.Load(path);
        var error = Assert.Single(result.Errors);
        Assert.Null(result.Text);
        Assert.Equal((path, 1, 1), (error.File, error.Line, error.Column));
        Assert.StartsWith("cannot read the file: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_fabric_is_veth_and_links_are_optional()
    {
        var lab = LabFile.Valid("name: one\nnodes:\n  n1: { kind: linux }\n");
        Assert.Equal(LabFabric.Veth, lab.Fabric);
        Assert.Empty(lab.Links);
        Assert.Equal(("n1", "linux", "one-n1", ""), Assert.Single(LabFile.Nodes(lab)));
    }

    [Fact]
    public void A_node_may_name_its_namespace_and_keys_may_be_null()
    {
        var lab = LabFile.Valid("name: x\nfabric:\nnodes:\n  a: { kind: linux, namespace: shared.ns-1 }\n  b: { kind: linux, namespace: ~ }\nlinks:\n");
        Assert.Equal(["shared.ns-1", "x-b"], lab.Nodes.Select(n => n.Namespace));
        Assert.Equal(LabFabric.Veth, lab.Fabric);
    }

    [Fact]
    public void A_vendor_name_is_kept_as_written_and_a_linux_name_gets_the_profiles()
    {
        var lab = LabFile.Valid("""
            name: x
            nodes:
              a: { kind: arista_ceos }
              b: { kind: arista_ceos }
            links:
              - endpoints: ["a:Et1", "b:eth1"]
              - endpoints: ["a:eth2_3", "b:Ethernet2/3"]
            """);
        Assert.Equal([("Et1", "Ethernet1"), ("Ethernet2/3", "Ethernet2/3")], lab.Links.Select(l => (l.A.Vendor, l.B.Vendor)));
        Assert.Equal([("eth1", "eth1"), ("eth2_3", "eth2_3")], lab.Links.Select(l => (l.A.Linux, l.B.Linux)));
    }

    [Fact]
    public void Anchors_and_aliases_are_read()
    {
        var lab = LabFile.Valid("name: x\nnodes:\n  r1: &ceos { kind: arista_ceos }\n  r2: *ceos\nlinks:\n  - endpoints: [r1:Et1, r2:Et1]\n");
        Assert.Equal(["arista_ceos", "arista_ceos"], lab.Nodes.Select(n => n.Kind));
    }

    [Fact]
    public void A_user_profile_file_names_the_interfaces_of_its_kinds()
    {
        var profiles = InterfaceProfiles.Parse("kinds:\n  cisco_nxos:\n    interfaces: [{ vendor: 'Ethernet1/{n}', linux: 'eth{n}', first: 1 }]\n", "p.yaml");
        Assert.True(profiles.IsValid, string.Join('\n', profiles.Errors));
        const string Yaml = "name: x\nnodes:\n  s1: { kind: cisco_nxos }\n  h: { kind: linux }\nlinks:\n  - endpoints: ['s1:Ethernet1/4', 'h:eth0']\n";
        var lab = LabFile.Valid(Yaml, profiles.Profiles);
        Assert.Equal(new LabEndpoint("s1", "eth4", "Ethernet1/4"), lab.Links[0].A);

        // Without the file, the kind is unknown.
        var error = Assert.Single(LabFile.Parse(Yaml).Errors);
        Assert.Equal("lab.yaml:3:15: nodes.s1.kind: unknown kind 'cisco_nxos'; known kinds: linux, arista_ceos, juniper_vmx, cisco_iosxr, nokia_srlinux", error.ToString());
    }
}
