namespace Aether.Topology.Tests;

/// <summary>Every validation rule: one error, naming the field, at the exact line and column.</summary>
public sealed class ValidationTests
{
    // ---- the file itself ----

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void An_empty_file_is_one_error(string yaml)
    {
        var error = Assert.Single(Load.Parse(yaml).Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.StartsWith("the file is empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("- name: x\n", "a list")]
    [InlineData("just text\n", "'just text'")]
    public void A_top_level_that_is_not_a_mapping_is_one_error(string yaml, string got)
    {
        var error = Assert.Single(Load.Parse(yaml).Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.Equal($"the top level must be a mapping with keys name, namespaces, links, routes; got {got}", error.Message);
    }

    [Fact]
    public void Broken_yaml_is_one_error_where_the_parser_stopped()
    {
        var error = Assert.Single(Load.Parse("name: x\nlinks: [a\n").Errors);
        Assert.Equal((3, 1), (error.Line, error.Column));
        Assert.StartsWith("not valid YAML: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_key_is_an_error_at_the_second()
    {
        var error = Assert.Single(Load.Parse("name: x\nlinks: []\nname: y\n").Errors);
        Assert.Equal((3, 1), (error.Line, error.Column));
        Assert.Contains("Duplicate key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_document_is_an_error()
    {
        var error = Assert.Single(Load.Parse("name: x\n---\nname: y\n").Errors);
        Assert.Equal((3, 1), (error.Line, error.Column));
        Assert.StartsWith("only one YAML document", error.Message, StringComparison.Ordinal);
    }

    // ---- unknown keys ----

    [Fact]
    public void Unknown_top_level_key() =>
        Load.Error("name: x\nbridges: []\n", 2, 1, "bridges", "unknown key; allowed here: name, namespaces, links, routes");

    [Fact]
    public void Unknown_namespace_key() =>
        Load.Error("name: x\nnamespaces:\n  - name: a\n    sysctl: {}\n", 4, 5, "namespaces[0].sysctl", "allowed here: name, sysctls");

    [Fact]
    public void Unknown_link_key() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    stp: true\n", 5, 5, "links[0].stp",
            "allowed here: name, kind, namespace, up, mtu, master, addresses, peer, vni, remote, local, port, underlay, parent, mode");

    [Fact]
    public void Unknown_peer_key() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: { name: b, up: true }\n", 5, 22, "links[0].peer.up", "allowed here: name, namespace, addresses");

    [Fact]
    public void Unknown_route_key() =>
        Load.Error("name: x\nroutes:\n  - to: default\n    via: 10.0.0.1\n    gateway: 10.0.0.1\n", 5, 5, "routes[0].gateway",
            "allowed here: namespace, to, via, dev, metric, table, onlink");

    // ---- wrong types ----

    [Fact]
    public void Links_must_be_a_list() =>
        Load.Error("name: x\nlinks:\n  name: a\n", 3, 3, "links", "expected a list; got a mapping");

    [Fact]
    public void A_link_must_be_a_mapping() =>
        Load.Error("name: x\nlinks:\n  - veth-host\n", 3, 5, "links[0]", "expected a mapping with keys name, kind,");

    [Fact]
    public void A_name_must_be_a_single_value() =>
        Load.Error("name: [a, b]\n", 1, 7, "name", "expected a single value; got a list");

    [Fact]
    public void Up_must_be_a_boolean() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    up: yes\n", 5, 9, "links[0].up", "expected true or false; got 'yes'");

    [Fact]
    public void A_quoted_boolean_is_a_string() =>
        Load.Error("name: x\nroutes:\n  - { to: default, via: 10.0.0.1, onlink: \"true\" }\n", 3, 43, "routes[0].onlink", "got the quoted string 'true'");

    [Fact]
    public void Mtu_must_be_an_integer() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    mtu: 1500.5\n", 5, 10, "links[0].mtu", "expected an integer in 68..65535; got '1500.5'");

    [Fact]
    public void Peer_must_be_a_mapping() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: b\n", 5, 11, "links[0].peer", "expected a mapping with keys name, namespace, addresses; got 'b'");

    [Fact]
    public void Addresses_must_be_a_list() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    addresses: 10.0.0.1/24\n", 5, 16, "links[0].addresses", "expected a list; got '10.0.0.1/24'");

    [Fact]
    public void Sysctls_must_be_a_mapping() =>
        Load.Error("name: x\nnamespaces:\n  - name: a\n    sysctls: [net.ipv4.ip_forward]\n", 4, 14, "namespaces[0].sysctls", "expected a mapping of sysctl keys to values");

    // ---- required fields ----

    [Fact]
    public void The_topology_name_is_required() =>
        Load.Error("links: []\n", 1, 1, "name", "required");

    [Fact]
    public void A_namespace_name_is_required() =>
        Load.Error("name: x\nnamespaces:\n  - sysctls: {}\n", 3, 5, "namespaces[0].name", "required");

    [Fact]
    public void A_link_name_is_required() =>
        Load.Error("name: x\nlinks:\n  - kind: bridge\n", 3, 5, "links[0].name", "required");

    [Fact]
    public void A_link_kind_is_required() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n", 3, 5, "links[0].kind", "required (one of veth, bridge, vxlan, macvlan, wireguard)");

    [Fact]
    public void A_peer_name_is_required() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: { namespace: n }\nnamespaces: [{ name: n }]\n", 5, 11, "links[0].peer.name", "required");

    [Fact]
    public void A_route_destination_is_required() =>
        Load.Error("name: x\nroutes:\n  - via: 10.0.0.1\n", 3, 5, "routes[0].to", "required");

    [Fact]
    public void An_unknown_kind_is_an_error() =>
        Load.Error("name: x\nlinks:\n  - name: d0\n    kind: dummy\n", 4, 11, "links[0].kind", "unknown kind 'dummy'; one of veth, bridge, vxlan, macvlan");

    // ---- the topology name ----

    [Theory]
    [InlineData("Lab", "must start with a lowercase letter or digit")]
    [InlineData("-lab", "must start with a lowercase letter or digit")]
    [InlineData("lab/x", "may hold only lowercase letters, digits, '_', '.' and '-'")]
    [InlineData("lab x", "may hold only")]
    [InlineData("a234567890123456789012345678901234567890123456789", "49 characters, the limit is 48")]
    [InlineData("\"\"", "empty")]
    public void The_topology_name_is_checked(string name, string why) =>
        Load.Error($"name: {name}\n", 1, 7, "name", why);

    [Fact]
    public void A_48_character_topology_name_is_fine() =>
        Load.Valid("name: a23456789012345678901234567890123456789012345678\n");

    // ---- interface names ----

    [Theory]
    [InlineData("\"\"", "empty")]
    [InlineData("a234567890123456", "16 bytes; the limit is 15")]
    [InlineData("ééééééééé", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("a/b", "'/' (U+002F) is not allowed in an interface name (the kernel refuses it")]
    [InlineData("a:b", "':' (U+003A) is not allowed in an interface name (the kernel refuses it")]
    [InlineData("\"a b\"", "' ' (U+0020) is not allowed in an interface name (whitespace")]
    [InlineData("\"a\\tb\"", "U+0009 is not allowed in an interface name (a control character")]
    [InlineData(".", "'.' is refused")]
    [InlineData("..", "'..' is refused")]
    public void Link_names_follow_the_kernel_rules(string name, string why) =>
        Load.Error($"name: x\nlinks:\n  - kind: bridge\n    name: {name}\n", 4, 11, "links[0].name", $": {why}");

    [Theory]
    [InlineData("a234567890123456", "16 bytes; the limit is 15")]
    [InlineData("a/b", "'/' (U+002F) is not allowed")]
    [InlineData("..", "'..' is refused")]
    public void Interface_name_errors_say_why(string name, string why) =>
        Load.Error($"name: x\nlinks:\n  - kind: bridge\n    name: {name}\n", 4, 11, "links[0].name", $"'{name}': {why}");

    [Fact]
    public void A_15_byte_name_is_fine() =>
        Load.Valid("name: x\nlinks:\n  - { name: a23456789012345, kind: bridge }\n");

    [Fact]
    public void Peer_names_are_interface_names() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: { name: \"b:1\" }\n", 5, 19, "links[0].peer.name", "'b:1': ':' (U+003A) is not allowed");

    [Fact]
    public void Master_names_are_interface_names() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: bridge\n    master: a/b\n", 5, 13, "links[0].master", "'a/b': '/' (U+002F) is not allowed");

    [Fact]
    public void Parent_names_are_interface_names() =>
        Load.Error("name: x\nlinks:\n  - name: m\n    kind: macvlan\n    parent: eth0.a2345678901\n", 5, 13, "links[0].parent", "'eth0.a2345678901': 16 bytes");

    [Fact]
    public void Route_devices_are_interface_names() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.0/8\n    dev: \"eth 0\"\n", 4, 10, "routes[0].dev", "'eth 0': ' ' (U+0020) is not allowed");

    // ---- namespace names ----

    [Theory]
    [InlineData("a/b", "'/' (U+002F) is not allowed in a namespace name (a namespace is the file /run/netns/NAME")]
    [InlineData("\"a b\"", "' ' (U+0020) is not allowed in a namespace name (whitespace")]
    [InlineData(".", "'.' is refused")]
    [InlineData("\"\"", "empty")]
    public void Namespace_names_are_checked(string name, string why) =>
        Load.Error($"name: x\nnamespaces:\n  - name: {name}\n", 3, 11, "namespaces[0].name", $": {why}");

    [Fact]
    public void A_256_character_namespace_name_is_too_long() =>
        Load.Error($"name: x\nnamespaces:\n  - name: {new string('n', 256)}\n", 3, 11, "namespaces[0].name", "256 bytes; the limit is 255");

    [Fact]
    public void Duplicate_namespace_names() =>
        Load.Error("name: x\nnamespaces:\n  - name: a\n  - name: b\n  - name: a\n", 5, 11, "namespaces[2].name",
            "namespace 'a' is already declared at namespaces[0].name (line 3)");

    // ---- namespace references ----

    [Fact]
    public void A_link_in_an_undeclared_namespace() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    namespace: nope\n", 5, 16, "links[0].namespace", "namespace 'nope' is not declared under namespaces");

    [Fact]
    public void A_peer_in_an_undeclared_namespace() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: { name: b, namespace: nope }\n", 5, 33, "links[0].peer.namespace", "namespace 'nope' is not declared");

    [Fact]
    public void A_route_in_an_undeclared_namespace() =>
        Load.Error("name: x\nroutes:\n  - namespace: nope\n    to: default\n    via: 10.0.0.1\n", 3, 16, "routes[0].namespace", "namespace 'nope' is not declared");

    // ---- duplicate links ----

    [Fact]
    public void Two_links_with_one_name_in_the_host() =>
        Load.Error("name: x\nlinks:\n  - { name: br0, kind: bridge }\n  - { name: br0, kind: bridge }\n", 4, 13, "links[1].name",
            "'br0' is already declared in the host namespace at links[0].name (line 3)");

    [Fact]
    public void The_same_name_in_two_namespaces_is_fine() =>
        Load.Valid("name: x\nnamespaces: [{ name: a }]\nlinks:\n  - { name: br0, kind: bridge }\n  - { name: br0, kind: bridge, namespace: a }\n");

    [Fact]
    public void A_peer_counts_as_a_link_in_its_own_namespace() =>
        Load.Error("name: x\nnamespaces: [{ name: n }]\nlinks:\n  - { name: a, kind: veth, peer: { name: eth0, namespace: n } }\n  - { name: eth0, kind: bridge, namespace: n }\n",
            5, 13, "links[1].name", "'eth0' is already declared in namespace 'n' at links[0].peer.name (line 4)");

    [Fact]
    public void A_peer_without_a_namespace_sits_with_its_partner() =>
        Load.Error("name: x\nlinks:\n  - { name: a, kind: veth, peer: { name: a } }\n", 3, 42, "links[0].peer.name", "'a' is already declared in the host namespace at links[0].name");

    // ---- master ----

    [Fact]
    public void A_master_that_is_not_declared() =>
        Load.Error("name: x\nlinks:\n  - { name: a, kind: veth, master: br9, peer: { name: b } }\n", 3, 36, "links[0].master", "'br9' is not a bridge declared in the host namespace");

    [Fact]
    public void A_master_that_is_not_a_bridge() =>
        Load.Error("name: x\nlinks:\n  - { name: a, kind: veth, peer: { name: b } }\n  - { name: m, kind: macvlan, parent: eth0, master: b }\n", 4, 53, "links[1].master",
            "'b' (links[0].peer.name) is a veth, not a bridge");

    [Fact]
    public void A_master_in_another_namespace() =>
        Load.Error("name: x\nnamespaces: [{ name: n }]\nlinks:\n  - { name: br0, kind: bridge, namespace: n }\n  - { name: a, kind: veth, master: br0, peer: { name: b } }\n", 5, 36, "links[1].master",
            "'br0' is not a bridge declared in the host namespace");

    [Fact]
    public void A_master_declared_later_in_the_same_namespace_is_fine()
    {
        var spec = Load.Valid("name: x\nlinks:\n  - { name: a, kind: veth, master: br0, peer: { name: b } }\n  - { name: br0, kind: bridge }\n");
        Assert.Equal("br0", spec.Links[0].Master);
    }

    [Fact]
    public void A_link_cannot_be_its_own_master() =>
        Load.Error("name: x\nlinks:\n  - { name: br0, kind: bridge, master: br0 }\n", 3, 40, "links[0].master", "'br0' cannot be its own master");

    [Fact]
    public void A_bridge_cannot_be_a_port_of_a_bridge() =>
        Load.Error("name: x\nlinks:\n  - { name: br0, kind: bridge }\n  - { name: br1, kind: bridge, master: br0 }\n", 4, 40, "links[1].master", "a bridge cannot be a port of another bridge");

    // ---- kind-specific fields ----

    [Fact]
    public void A_veth_needs_a_peer() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n", 3, 5, "links[0].peer", "required (a veth's other end");

    [Fact]
    public void A_vxlan_needs_a_vni() =>
        Load.Error("name: x\nlinks:\n  - name: vx0\n    kind: vxlan\n    remote: 192.0.2.1\n", 3, 5, "links[0].vni", "required (the VXLAN network identifier, 0..16777215)");

    [Fact]
    public void A_macvlan_needs_a_parent() =>
        Load.Error("name: x\nlinks:\n  - name: m\n    kind: macvlan\n    mode: bridge\n", 3, 5, "links[0].parent", "required (the device the macvlan sits on)");

    [Theory]
    [InlineData("bridge", "vni: 42", "vni", "only for vxlan links, and this one is a bridge")]
    [InlineData("bridge", "peer: { name: b }", "peer", "only for veth links, and this one is a bridge")]
    [InlineData("bridge", "remote: 192.0.2.1", "remote", "only for vxlan links")]
    [InlineData("bridge", "local: 192.0.2.1", "local", "only for vxlan links")]
    [InlineData("bridge", "port: 4789", "port", "only for vxlan links")]
    [InlineData("bridge", "parent: eth0", "parent", "only for macvlan and vxlan links, and this one is a bridge")]
    [InlineData("bridge", "mode: vepa", "mode", "only for macvlan links")]
    [InlineData("vxlan", "mode: vepa", "mode", "only for macvlan links, and this one is a vxlan")]
    [InlineData("macvlan", "vni: 1", "vni", "only for vxlan links, and this one is a macvlan")]
    public void Kind_specific_keys_on_the_wrong_kind(string kind, string line, string key, string text)
    {
        var required = kind switch { "vxlan" => "    vni: 1\n", "macvlan" => "    parent: eth0\n", _ => "" };
        Load.Error($"name: x\nlinks:\n  - name: l0\n    kind: {kind}\n{required}    {line}\n", required.Length == 0 ? 5 : 6, 5, $"links[0].{key}", text);
    }

    [Fact]
    public void A_vxlan_may_have_an_underlay_parent() =>
        Assert.Equal("eth0", Load.Valid("name: x\nlinks:\n  - { name: vx0, kind: vxlan, vni: 0, parent: eth0 }\n").Links[0].Parent);

    [Fact]
    public void A_link_cannot_be_its_own_parent() =>
        Load.Error("name: x\nlinks:\n  - { name: m0, kind: macvlan, parent: m0 }\n", 3, 40, "links[0].parent", "'m0' cannot be its own parent");

    [Theory]
    [InlineData("vni: 16777216", 10, "16777216 is outside 0..16777215")]
    [InlineData("vni: -1", 10, "-1 is outside 0..16777215")]
    [InlineData("port: 0", 11, "0 is outside 1..65535")]
    [InlineData("port: 65536", 11, "65536 is outside 1..65535")]
    [InlineData("remote: 192.0.2", 13, "'192.0.2' is not an IP address")]
    [InlineData("local: 192.0.2.1/24", 12, "'192.0.2.1/24' is a prefix; write a bare address here")]
    public void Vxlan_values_are_checked(string line, int column, string text)
    {
        var key = line[..line.IndexOf(':', StringComparison.Ordinal)];
        var vni = key == "vni" ? "" : "    vni: 1\n";
        Load.Error($"name: x\nlinks:\n  - name: vx0\n    kind: vxlan\n{vni}    {line}\n", vni.Length == 0 ? 5 : 6, column, $"links[0].{key}", text);
    }

    [Fact]
    public void Vxlan_remote_and_local_share_a_family() =>
        Load.Error("name: x\nlinks:\n  - name: vx0\n    kind: vxlan\n    vni: 1\n    remote: 192.0.2.1\n    local: 2001:db8::1\n", 7, 12, "links[0].local",
            "2001:db8::1 is IPv6 but remote 192.0.2.1 is IPv4");

    [Fact]
    public void An_unknown_macvlan_mode() =>
        Load.Error("name: x\nlinks:\n  - name: m\n    kind: macvlan\n    parent: eth0\n    mode: bridged\n", 6, 11, "links[0].mode",
            "unknown macvlan mode 'bridged'; one of private, vepa, bridge, passthru, source");

    // ---- mtu ----

    [Theory]
    [InlineData("67", "67 is outside 68..65535")]
    [InlineData("65536", "65536 is outside 68..65535")]
    [InlineData("0", "0 is outside 68..65535")]
    public void Mtu_out_of_range(string mtu, string text) =>
        Load.Error($"name: x\nlinks:\n  - name: br0\n    kind: bridge\n    mtu: {mtu}\n", 5, 10, "links[0].mtu", text);

    [Fact]
    public void Mtu_bounds_are_fine() =>
        Load.Valid("name: x\nlinks:\n  - { name: a, kind: bridge, mtu: 68 }\n  - { name: b, kind: bridge, mtu: 65535 }\n");

    // ---- addresses ----

    [Theory]
    [InlineData("10.0.0.1", "'10.0.0.1' has no prefix length; write ADDRESS/LENGTH")]
    [InlineData("10.0.0.1/33", "invalid prefix '10.0.0.1/33': length must be a number in 0..32")]
    [InlineData("10.0.0.256/24", "invalid prefix '10.0.0.256/24': '10.0.0.256' is not an IP address")]
    [InlineData("10.1/16", "write IPv4 addresses as four dotted numbers")]
    [InlineData("\"fd00::1/129\"", "length must be a number in 0..128")]
    [InlineData("\"fe80::1%eth0/64\"", "is not an IP address")]
    [InlineData("10.0.0.1/x", "length must be a number")]
    public void Bad_link_addresses(string address, string text) =>
        Load.Error($"name: x\nlinks:\n  - name: br0\n    kind: bridge\n    addresses:\n      - 10.9.9.9/24\n      - {address}\n", 7, 9, "links[0].addresses[1]", text);

    [Fact]
    public void A_bad_peer_address() =>
        Load.Error("name: x\nlinks:\n  - name: a\n    kind: veth\n    peer: { name: b, addresses: [10.0.0.1/24, nope] }\n", 5, 47, "links[0].peer.addresses[1]", "'nope' has no prefix length");

    [Fact]
    public void An_address_that_is_not_a_scalar() =>
        Load.Error("name: x\nlinks:\n  - name: br0\n    kind: bridge\n    addresses: [[10.0.0.1/24]]\n", 5, 17, "links[0].addresses[0]", "expected an address with its prefix length");

    [Fact]
    public void The_same_ip_on_two_links_in_one_namespace() =>
        Load.Error("name: x\nlinks:\n  - { name: a, kind: bridge, addresses: [10.0.0.1/24] }\n  - { name: b, kind: bridge, addresses: [10.0.0.2/24, 10.0.0.1/30] }\n",
            4, 55, "links[1].addresses[1]", "10.0.0.1 is already given in the host namespace at links[0].addresses[0] (line 3)");

    [Fact]
    public void The_same_ip_twice_on_one_link() =>
        Load.Error("name: x\nlinks:\n  - { name: a, kind: bridge, addresses: [\"fd00::1/64\", \"fd00:0::1/128\"] }\n",
            3, 56, "links[0].addresses[1]", "fd00::1 is already given in the host namespace at links[0].addresses[0]");

    [Fact]
    public void The_same_ip_on_a_peer_and_a_link_in_its_namespace() =>
        Load.Error("name: x\nnamespaces: [{ name: n }]\nlinks:\n  - { name: a, kind: veth, peer: { name: b, namespace: n, addresses: [10.0.0.2/30] } }\n  - { name: br0, kind: bridge, namespace: n, addresses: [10.0.0.2/24] }\n",
            5, 58, "links[1].addresses[0]", "10.0.0.2 is already given in namespace 'n' at links[0].peer.addresses[0] (line 4)");

    [Fact]
    public void The_same_ip_in_two_namespaces_is_fine() =>
        Load.Valid("name: x\nnamespaces: [{ name: n }]\nlinks:\n  - { name: a, kind: veth, addresses: [10.0.0.1/30], peer: { name: b, namespace: n, addresses: [10.0.0.1/30] } }\n");

    // ---- routes ----

    [Fact]
    public void A_route_needs_via_or_dev() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.0/8\n    metric: 5\n", 3, 5, "routes[0]", "needs via, dev or both");

    [Fact]
    public void A_default_route_needs_via() =>
        Load.Error("name: x\nroutes:\n  - to: default\n    dev: eth0\n", 3, 9, "routes[0].to", "'default' needs via (the route's family comes from via)");

    [Fact]
    public void A_route_destination_with_host_bits() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.1/8\n    dev: eth0\n", 3, 9, "routes[0].to", "'10.0.0.1/8' has host bits set; the network is 10.0.0.0/8");

    [Fact]
    public void A_bad_route_destination() =>
        Load.Error("name: x\nroutes:\n  - to: everywhere\n    dev: eth0\n", 3, 9, "routes[0].to", "'everywhere' has no prefix length");

    [Fact]
    public void A_bad_gateway() =>
        Load.Error("name: x\nroutes:\n  - to: default\n    via: 10.0.0.300\n", 4, 10, "routes[0].via", "'10.0.0.300' is not an IP address");

    [Fact]
    public void Via_and_to_must_share_a_family() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.0/8\n    via: fe80::1\n    dev: eth0\n", 4, 10, "routes[0].via", "fe80::1 is IPv6 but routes[0].to 10.0.0.0/8 is IPv4");

    [Theory]
    [InlineData("metric: -1", 13, "-1 is outside 0..4294967295")]
    [InlineData("metric: 4294967296", 13, "4294967296 is outside 0..4294967295")]
    [InlineData("table: 0", 12, "0 is outside 1..4294967295")]
    [InlineData("table: main", 12, "expected an integer in 1..4294967295; got 'main'")]
    [InlineData("onlink: 1", 13, "expected true or false; got '1'")]
    public void Route_numbers_and_flags_are_checked(string line, int column, string text) =>
        Load.Error($"name: x\nroutes:\n  - to: default\n    via: 10.0.0.1\n    {line}\n", 5, column, $"routes[0].{line[..line.IndexOf(':', StringComparison.Ordinal)]}", text);

    [Fact]
    public void Onlink_needs_via() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.0/8\n    dev: eth0\n    onlink: true\n", 5, 13, "routes[0].onlink", "only means something with via");

    [Fact]
    public void A_route_through_a_device_the_file_does_not_declare_is_fine() =>
        Assert.Equal("eth7", Load.Valid("name: x\nroutes:\n  - { to: 10.0.0.0/8, dev: eth7 }\n").Routes[0].Dev);

    // ---- sysctls ----

    [Theory]
    [InlineData("kernel.hostname", "only entries below net are per network namespace")]
    [InlineData("/proc/sys/net/ipv4/ip_forward", "absolute paths are not keys")]
    [InlineData("net..ipv4", "has an empty segment")]
    [InlineData("net", "only entries below net")]
    public void Sysctl_keys_must_be_under_net(string key, string text) =>
        Load.Error($"name: x\nnamespaces:\n  - name: a\n    sysctls:\n      {key}: 1\n", 5, 7, $"namespaces[0].sysctls[{key}]", $"invalid sysctl key '{key}': {text}");

    [Fact]
    public void Duplicate_sysctl_keys_after_normalisation() =>
        Load.Error("name: x\nnamespaces:\n  - name: a\n    sysctls:\n      net.ipv4.ip_forward: 1\n      net/ipv4/ip_forward: 0\n", 6, 7,
            "namespaces[0].sysctls[net/ipv4/ip_forward]", "the same entry as 'net.ipv4.ip_forward' (line 5)");

    [Theory]
    [InlineData("[1, 2]", "expected a single value")]
    [InlineData("", "needs a value")]
    [InlineData("true", "'true' is a boolean; sysctls take numbers or text (write 1 or 0)")]
    public void Sysctl_values_are_scalars(string value, string text) =>
        Load.Error($"name: x\nnamespaces:\n  - name: a\n    sysctls:\n      net.ipv4.ip_forward: {value}\n", 5, value.Length == 0 ? 27 : 28, "namespaces[0].sysctls[net.ipv4.ip_forward]", text);

    // ---- several problems at once ----

    [Fact]
    public void Every_problem_is_reported_in_file_order()
    {
        const string yaml = """
            name: Bad
            namespaces:
              - name: n1
              - name: n1
            links:
              - name: this-name-is-too-long
                kind: veth
                peer: { name: eth0, namespace: n2 }
              - name: br0
                kind: bridge
                mtu: 10
                vni: 5
                colour: red
                master: nobr
            routes:
              - to: 10.0.0.1/8
                via: "2001:db8::1"
              - to: default
                dev: eth0
            """;
        var result = Load.Parse(yaml);
        Assert.Null(result.Topology);
        Assert.Equal(
            [
                "topo.yaml:1:7: name: invalid topology name 'Bad': must start with a lowercase letter or digit; allowed: 1-48 lowercase ASCII letters, digits, '_', '.' and '-', starting with a letter or digit",
                "topo.yaml:4:11: namespaces[1].name: namespace 'n1' is already declared at namespaces[0].name (line 3)",
                "topo.yaml:6:11: links[0].name: 'this-name-is-too-long': 21 bytes; the limit is 15; allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit",
                "topo.yaml:8:36: links[0].peer.namespace: namespace 'n2' is not declared under namespaces",
                "topo.yaml:11:10: links[1].mtu: 10 is outside 68..65535",
                "topo.yaml:12:5: links[1].vni: only for vxlan links, and this one is a bridge",
                "topo.yaml:13:5: links[1].colour: unknown key; allowed here: name, kind, namespace, up, mtu, master, addresses, peer, vni, remote, local, port, underlay, parent, mode, privateKey, privateKeyFile, listenPort, fwmark, peers",
                "topo.yaml:14:13: links[1].master: 'nobr' is not a bridge declared in the host namespace",
                "topo.yaml:16:9: routes[0].to: '10.0.0.1/8' has host bits set; the network is 10.0.0.0/8",
                "topo.yaml:18:9: routes[1].to: 'default' needs via (the route's family comes from via)",
            ],
            result.Errors.Select(e => e.ToString()));
    }
}
