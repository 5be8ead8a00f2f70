namespace Aether.Labs.Tests.Files;

/// <summary>Every validation rule of the lab file: one error, naming the field, at the exact line and column.</summary>
public sealed class ValidationTests
{
    private const string Nodes = "nodes:\n  r1: { kind: arista_ceos }\n  r2: { kind: juniper_vmx }\n  h1: { kind: linux }\n";

    /// <summary>A lab named x with <see cref="Nodes"/> (lines 2 to 5) and then <paramref name="links"/> from line 6.</summary>
    private static string WithLinks(string links) => "name: x\n" + Nodes + "links:\n" + links;

    // ---- the file itself ----

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void An_empty_file_is_one_error(string yaml)
    {
        var error = Assert.Single(LabFile.Parse(yaml).Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.StartsWith("the file is empty; a lab is a mapping with keys name, fabric, nodes, links", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_top_level_that_is_not_a_mapping() =>
        Assert.Equal(["lab.yaml:1:1: the top level must be a mapping: a lab is a mapping with keys name, fabric, nodes, links (name and nodes are required); got a list"],
            LabFile.Errors("- name: x\n"));

    [Fact]
    public void Broken_yaml_is_one_error_where_the_parser_stopped()
    {
        var error = Assert.Single(LabFile.Parse("name: x\nlinks: [a\n").Errors);
        Assert.Equal((3, 1), (error.Line, error.Column));
        Assert.StartsWith("not valid YAML: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_document() =>
        Assert.Contains("lab.yaml:5:1: only one YAML document is allowed per file (remove the extra '---')",
            LabFile.Errors("name: x\nnodes:\n  a: { kind: linux }\n---\nname: y\n"));

    // ---- keys ----

    [Fact]
    public void Unknown_top_level_key_suggests_the_nearest() =>
        LabFile.Error("name: x\n" + Nodes + "link: []\n", 6, 1, "link", "unknown key; did you mean 'links'? allowed here: name, fabric, nodes, links");

    [Fact]
    public void Unknown_top_level_key_far_from_any() =>
        LabFile.Error("name: x\n" + Nodes + "bridges: []\n", 6, 1, "bridges", "unknown key; allowed here: name, fabric, nodes, links");

    [Fact]
    public void Unknown_node_key() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, exce: [sh] }\n", 3, 22, "nodes.r1.exce", "unknown key; did you mean 'exec'? allowed here: kind, namespace, exec");

    [Fact]
    public void Unknown_link_key() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:eth1', 'r2:eth1']\n    mut: 1500\n"), 8, 5, "links[0].mut", "unknown key; did you mean 'mtu'? allowed here: endpoints, mtu, transport");

    [Fact]
    public void A_duplicate_node_key_is_reported_and_the_rest_still_checked() =>
        Assert.Equal(
        [
            "lab.yaml:4:3: nodes.r1: duplicate key; the first is at line 3 (this one is ignored)",
            "lab.yaml:6:26: links[0].endpoints[1]: node 'r3' is not in nodes; did you mean 'r1'?",
        ], LabFile.Errors("name: x\nnodes:\n  r1: { kind: linux }\n  r1: { kind: arista_ceos }\nlinks:\n  - endpoints: [r1:eth1, r3:eth1]\n"));

    [Fact]
    public void A_duplicate_top_level_key() =>
        LabFile.Error("name: x\n" + Nodes + "name: y\n", 6, 1, "name", "duplicate key; the first is at line 1 (this one is ignored)");

    [Fact]
    public void A_duplicate_key_inside_a_node() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, kind: arista_ceos }\n", 3, 22, "nodes.r1.kind", "duplicate key; the first is at line 3");

    // ---- required ----

    [Fact]
    public void Name_is_required() => LabFile.Error(Nodes, 1, 1, "name", "required (the lab's name, [a-z0-9][a-z0-9_-]*)");

    [Fact]
    public void Nodes_are_required() => LabFile.Error("name: x\n", 1, 1, "nodes", "required (a mapping of node names to nodes, r1: { kind: linux })");

    [Fact]
    public void Nodes_must_not_be_empty() => LabFile.Error("name: x\nnodes: {}\n", 2, 8, "nodes", "a lab needs at least one node");

    [Fact]
    public void Nodes_must_be_a_mapping() =>
        LabFile.Error("name: x\nnodes:\n  - r1\n", 3, 3, "nodes", "expected a mapping of node names to nodes, r1: { kind: linux }; got a list");

    [Fact]
    public void Kind_is_required() => LabFile.Error("name: x\nnodes:\n  r1: { exec: [sh] }\n", 3, 7, "nodes.r1.kind", "required (the device kind: linux, arista_ceos");

    [Fact]
    public void Kind_is_required_of_an_empty_node() => LabFile.Error("name: x\nnodes:\n  r1:\n", 3, 3, "nodes.r1.kind", "required (the device kind");

    [Fact]
    public void Endpoints_are_required() => LabFile.Error(WithLinks("  - mtu: 1500\n"), 7, 5, "links[0].endpoints", "required (the two interfaces the link joins");

    // ---- names ----

    [Theory]
    [InlineData("Demo", "must start with a lowercase letter or digit")]
    [InlineData("-demo", "must start with a lowercase letter or digit")]
    [InlineData("de.mo", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("de mo", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("abcdefghijabcdefghijabcdefghijabc", "33 characters, the limit is 32")]
    public void Invalid_lab_name(string name, string why) =>
        LabFile.Error($"name: \"{name}\"\n" + Nodes, 1, 7, "name", $"invalid lab name '{name}': {why}");

    [Fact]
    public void A_lab_name_of_32_characters_fits() =>
        Assert.Equal("abcdefghijabcdefghijabcdefghij12-r1", LabFile.Valid("name: abcdefghijabcdefghijabcdefghij12\nnodes:\n  r1: { kind: linux }\n").Nodes[0].Namespace);

    [Theory]
    [InlineData("R1", "must start with a lowercase letter or digit")]
    [InlineData("_r1", "must start with a lowercase letter or digit")]
    [InlineData("r/1", "may hold only lowercase letters, digits, '_' and '-'")]
    [InlineData("r.1", "may hold only lowercase letters, digits, '_' and '-'")]
    public void Invalid_node_name(string name, string why) =>
        LabFile.Error($"name: x\nnodes:\n  \"{name}\": {{ kind: linux }}\n", 3, 3, $"nodes.{name}", $"invalid node name '{name}': {why}");

    [Fact]
    public void A_node_name_over_64_characters() =>
        LabFile.Error($"name: x\nnodes:\n  {new string('n', 65)}: {{ kind: linux }}\n", 3, 3, "nodes." + new string('n', 65), "65 characters, the limit is 64");

    [Theory]
    [InlineData("a/b", "'/' (U+002F) is not allowed in a namespace name")]
    [InlineData("a b", "' ' (U+0020) is not allowed in a namespace name")]
    [InlineData("..", "'..' is refused")]
    public void Invalid_namespace_name(string ns, string why) =>
        LabFile.Error($"name: x\nnodes:\n  r1: {{ kind: linux, namespace: \"{ns}\" }}\n", 3, 33, "nodes.r1.namespace", $"'{ns}': {why}");

    [Fact]
    public void Two_nodes_with_the_same_namespace() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, namespace: ns1 }\n  r2: { kind: linux, namespace: ns1 }\n", 4, 33, "nodes.r2.namespace",
            "namespace 'ns1' is already node r1's (line 3): each node has its own");

    [Fact]
    public void A_named_namespace_that_is_another_nodes_default() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: linux, namespace: x-r2 }\n  r2: { kind: linux }\n", 4, 3, "nodes.r2",
            "namespace 'x-r2' is already node r1's (line 3)");

    // ---- values ----

    [Fact]
    public void Unknown_kind_suggests_the_nearest() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: arista_eos }\n", 3, 15, "nodes.r1.kind",
            "unknown kind 'arista_eos'; did you mean 'arista_ceos'? known kinds: linux, arista_ceos, juniper_vmx, cisco_iosxr, nokia_srlinux");

    [Theory]
    [InlineData("vxlan", "'vxlan' is not one of veth, ovs")]
    [InlineData("OVS", "'OVS' is not one of veth, ovs; did you mean 'ovs'?")]
    [InlineData("vet", "did you mean 'veth'?")]
    public void Fabric_is_veth_or_ovs(string fabric, string why) =>
        LabFile.Error($"name: x\nfabric: {fabric}\n" + Nodes, 2, 9, "fabric", why);

    [Theory]
    [InlineData("67", "67 is outside 68..65535")]
    [InlineData("65536", "65536 is outside 68..65535")]
    [InlineData("big", "expected an integer in 68..65535; got 'big'")]
    [InlineData("'1500'", "expected an integer in 68..65535; got the quoted string '1500'")]
    public void Mtu_is_68_to_65535(string mtu, string why) =>
        LabFile.Error(WithLinks($"  - endpoints: ['r1:eth1', 'r2:eth1']\n    mtu: {mtu}\n"), 8, 10, "links[0].mtu", why);

    [Fact]
    public void Mtu_bounds_are_accepted()
    {
        var lab = LabFile.Valid(WithLinks("  - { endpoints: ['r1:eth1', 'r2:eth1'], mtu: 68 }\n  - { endpoints: ['r1:eth2', 'r2:eth2'], mtu: 65535 }\n"));
        Assert.Equal([68, 65535], lab.Links.Select(l => l.Mtu));
    }

    [Fact]
    public void Exec_must_be_a_list_not_a_command_line() =>
        LabFile.Error("name: x\nnodes:\n  h1: { kind: linux, exec: sleep infinity }\n", 3, 28, "nodes.h1.exec",
            "expected a list of strings, [\"sleep\", \"infinity\"]; got 'sleep infinity' (a single string is not split into words)");

    [Fact]
    public void Exec_must_not_be_empty() =>
        LabFile.Error("name: x\nnodes:\n  h1: { kind: linux, exec: [] }\n", 3, 28, "nodes.h1.exec", "an empty list runs nothing; leave exec out");

    [Fact]
    public void Exec_items_are_strings() =>
        LabFile.Error("name: x\nnodes:\n  h1: { kind: linux, exec: [sleep, [1]] }\n", 3, 36, "nodes.h1.exec[1]", "expected a string; got a list");

    [Fact]
    public void Exec_items_cannot_hold_nul() =>
        LabFile.Error("name: x\nnodes:\n  h1: { kind: linux, exec: [sh, \"a\\0b\"] }\n", 3, 33, "nodes.h1.exec[1]", "contains NUL");

    [Fact]
    public void Exec_program_is_not_empty() =>
        LabFile.Error("name: x\nnodes:\n  h1: { kind: linux, exec: [\"\", x] }\n", 3, 29, "nodes.h1.exec[0]", "the program to run is empty");

    [Fact]
    public void Exec_arguments_may_be_empty_strings() =>
        Assert.Equal(["sh", "-c", ""], LabFile.Valid("name: x\nnodes:\n  h1: { kind: linux, exec: [sh, -c, \"\"] }\n").Nodes[0].Exec);

    // ---- endpoints ----

    [Fact]
    public void Links_must_be_a_list() => LabFile.Error("name: x\n" + Nodes + "links: {}\n", 6, 8, "links", "expected a list of links");

    [Fact]
    public void Endpoints_must_be_a_list() =>
        LabFile.Error(WithLinks("  - endpoints: r1:eth1-r2:eth1\n"), 7, 16, "links[0].endpoints",
            "expected a list of two endpoints, [\"r1:Ethernet1\", \"r2:ge-0/0/0\"]; got 'r1:eth1-r2:eth1'");

    [Theory]
    [InlineData("['r1:eth1']", "got 1")]
    [InlineData("['r1:eth1', 'r2:eth1', 'h1:eth1']", "got 3")]
    [InlineData("[]", "got 0")]
    public void Endpoints_are_exactly_two(string endpoints, string got) =>
        LabFile.Error(WithLinks($"  - endpoints: {endpoints}\n"), 7, 16, "links[0].endpoints", "a link has exactly two endpoints, [\"r1:Ethernet1\", \"r2:ge-0/0/0\"]; " + got);

    [Theory]
    [InlineData("[r1:eth1, {a: b}]", 26, "expected a string node:interface (r1:Ethernet1); got a mapping")]
    [InlineData("[r1:eth1, ~]", 26, "expected a string node:interface (r1:Ethernet1); got nothing")]
    [InlineData("[r1:eth1, r2-eth1]", 26, "'r2-eth1' is not node:interface (r1:Ethernet1)")]
    [InlineData("[r1:eth1, ':eth1']", 26, "':eth1' is not node:interface (r1:Ethernet1): the node is empty")]
    [InlineData("[r1:eth1, 'r2:']", 26, "'r2:' is not node:interface (r1:Ethernet1): the interface is empty")]
    [InlineData("[r1:eth1, r3:eth1]", 26, "node 'r3' is not in nodes")]
    [InlineData("[r1:eth1, h1x:eth1]", 26, "node 'h1x' is not in nodes; did you mean 'h1'?")]
    [InlineData("[r1:eth1, 'h1:a:b']", 26, "node h1: 'a:b': ':' (U+003A) is not allowed in an interface name (the kernel refuses it: ':' marks an IPv4 address label such as eth0:1); allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    public void A_bad_second_endpoint(string endpoints, int column, string why) =>
        LabFile.Error(WithLinks($"  - endpoints: {endpoints}\n"), 7, column, "links[0].endpoints[1]", why);

    [Theory]
    [InlineData("r2:xe-0/0/0", "node r2: 'xe-0/0/0' is not an interface name of kind juniper_vmx; its names are ge-0/0/{n} ↔ eth{n+1}, n ≥ 0")]
    [InlineData("r2:eth0", "node r2: 'eth0' is out of range for kind juniper_vmx: ge-0/0/{n} starts at ge-0/0/0 (eth1)")]
    [InlineData("r1:ethernet1", "node r1: 'ethernet1' is not an interface name of kind arista_ceos; did you mean 'Ethernet1'?")]
    [InlineData("h1:lo", "node h1: 'lo' is the namespace's loopback, not a link end")]
    [InlineData("h1:a/b", "node h1: 'a/b': '/' (U+002F) is not allowed in an interface name (the kernel refuses it: each name is a directory under /sys/class/net); allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    [InlineData("h1:'a b'", "node h1: 'a b': ' ' (U+0020) is not allowed in an interface name (whitespace splits a name into two words for ip, nft and shells); allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    [InlineData("h1:.", "node h1: '.': '.' is refused (it names a directory itself or its parent); allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    [InlineData("h1:..", "node h1: '..': '..' is refused (it names a directory itself or its parent); allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    [InlineData("h1:abcdefghijklmnop", "node h1: 'abcdefghijklmnop': 16 bytes; the limit is 15; allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    [InlineData("r1:Ethernet999999/999999", "node r1: 'Ethernet999999/999999' would be the Linux name 'eth999999_999999': 16 bytes; the limit is 15; allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit")]
    public void A_name_the_profile_cannot_map(string endpoint, string why) =>
        LabFile.Error(WithLinks($"  - endpoints: [\"r1:eth1\", \"{endpoint.Replace("'", "", StringComparison.Ordinal)}\"]\n"), 7, 28, "links[0].endpoints[1]", why);

    [Fact]
    public void An_endpoint_on_a_node_of_unknown_kind_reports_only_the_kind() =>
        LabFile.Error("name: x\nnodes:\n  r1: { kind: cisco }\n  h1: { kind: linux }\nlinks:\n  - endpoints: [r1:Gi0, h1:eth1]\n", 3, 15, "nodes.r1.kind", "unknown kind 'cisco'");

    [Fact]
    public void A_link_from_an_interface_to_itself() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:Ethernet1', 'r1:eth1']\n"), 7, 33, "links[0].endpoints[1]",
            "'r1:eth1' is the same interface as the other end 'r1:Ethernet1' (r1:eth1): a link joins two different interfaces");

    [Fact]
    public void A_link_between_two_interfaces_of_one_node_is_fine() =>
        Assert.Equal("r1:eth1-r1:eth2", LabFile.Valid(WithLinks("  - endpoints: ['r1:Ethernet1', 'r1:Et2']\n")).Links[0].Id.Value);

    [Fact]
    public void An_interface_used_by_two_links() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:Ethernet1', 'r2:ge-0/0/0']\n  - endpoints: ['h1:eth1', 'r1:eth1']\n"), 8, 28, "links[1].endpoints[1]",
            "'r1:eth1' (r1:eth1) is already used by links[0].endpoints[0] (line 7, written 'r1:Ethernet1'): an interface joins one link");

    [Fact]
    public void An_interface_used_by_two_links_with_one_spelling() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:Et3', 'h1:eth1']\n  - endpoints: ['r1:Et3', 'r2:eth4']\n"), 8, 17, "links[1].endpoints[0]",
            "'r1:Et3' (r1:eth3) is already used by links[0].endpoints[0] (line 7): an interface joins one link");

    [Fact]
    public void The_same_link_twice_under_two_spellings_and_directions() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:Ethernet1', 'r2:ge-0/0/0']\n  - endpoints: ['r2:eth1', 'r1:eth1']\n"), 8, 16, "links[1].endpoints",
            "the same link as links[0] (line 7): r2:eth1-r1:eth1 and r1:Ethernet1-r2:ge-0/0/0 are both r1:eth1-r2:eth1");

    [Fact]
    public void The_same_link_written_the_same_way_twice() =>
        LabFile.Error(WithLinks("  - endpoints: ['r1:Et1', 'h1:eth1']\n  - endpoints: ['r1:Et1', 'h1:eth1']\n"), 8, 16, "links[1].endpoints",
            "the same link as links[0] (line 7): r1:Et1-h1:eth1 and r1:Et1-h1:eth1 are both h1:eth1-r1:eth1");

    // ---- all at once ----

    [Fact]
    public void Every_problem_is_reported_at_once_in_file_order()
    {
        var errors = LabFile.Errors("""
            name: Demo
            fabric: bridge
            nodes:
              r1: { kind: arista_ceos, namespace: shared }
              r2: { kind: juniper_vmx, namespace: shared }
              r3: { kind: nokia }
              h1: { kind: linux, exec: "sleep infinity" }
              r1: { kind: linux }
            links:
              - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
              - endpoints: ["r2:eth1", "r1:eth1"]
              - endpoints: ["r1:Ethernet2", "r9:eth1"]
              - endpoints: ["r1:eth2", "h1:lo"]
                mtu: 10
              - endpoints: ["h1:eth1"]
              - endpoint: ["h1:eth1", "r1:eth3"]
            """);
        Assert.Equal(
        [
            "lab.yaml:1:7: name: invalid lab name 'Demo': must start with a lowercase letter or digit; allowed: 1-32 lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit",
            "lab.yaml:2:9: fabric: 'bridge' is not one of veth, ovs",
            "lab.yaml:5:39: nodes.r2.namespace: namespace 'shared' is already node r1's (line 4): each node has its own",
            "lab.yaml:6:15: nodes.r3.kind: unknown kind 'nokia'; known kinds: linux, arista_ceos, juniper_vmx, cisco_iosxr, nokia_srlinux",
            "lab.yaml:7:28: nodes.h1.exec: expected a list of strings, [\"sleep\", \"infinity\"]; got 'sleep infinity' (a single string is not split into words)",
            "lab.yaml:8:3: nodes.r1: duplicate key; the first is at line 4 (this one is ignored)",
            "lab.yaml:11:16: links[1].endpoints: the same link as links[0] (line 10): r2:eth1-r1:eth1 and r1:Ethernet1-r2:ge-0/0/0 are both r1:eth1-r2:eth1",
            "lab.yaml:12:33: links[2].endpoints[1]: node 'r9' is not in nodes",
            "lab.yaml:13:17: links[3].endpoints[0]: 'r1:eth2' (r1:eth2) is already used by links[2].endpoints[0] (line 12, written 'r1:Ethernet2'): an interface joins one link",
            "lab.yaml:13:28: links[3].endpoints[1]: node h1: 'lo' is the namespace's loopback, not a link end",
            "lab.yaml:14:10: links[3].mtu: 10 is outside 68..65535",
            "lab.yaml:15:16: links[4].endpoints: a link has exactly two endpoints, [\"r1:Ethernet1\", \"r2:ge-0/0/0\"]; got 1",
            "lab.yaml:16:5: links[5].endpoint: unknown key; did you mean 'endpoints'? allowed here: endpoints, mtu, transport",
            "lab.yaml:16:5: links[5].endpoints: required (the two interfaces the link joins, [\"r1:Ethernet1\", \"r2:ge-0/0/0\"])",
        ], errors);
    }
}
