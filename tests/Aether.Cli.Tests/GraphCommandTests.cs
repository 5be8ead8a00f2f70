namespace Aether.Cli.Tests;

/// <summary><c>aether graph -f FILE [--format mermaid|dot]</c> run as a program: topologies and labs, every node and
/// edge in both languages (DOT rendered by Graphviz), names with odd characters, sorted output, and bad input as
/// <c>diff</c> and <c>lab deploy</c> report it.</summary>
public sealed class GraphCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new("aetgraph");

    /// <summary>Every kind of topology link, names with '.', '-', '_', a namespace called <c>end</c> (a Mermaid
    /// keyword), a vxlan with an underlay and one without a remote.</summary>
    private const string OddTopology = """
        name: odd.topo-1
        namespaces:
          - name: end
          - name: a.b-c_d
          - name: host-a
        links:
          - { name: br0, kind: bridge, namespace: end }
          - { name: v-1.x, kind: veth, namespace: end, master: br0, peer: { name: v_2, namespace: a.b-c_d } }
          - { name: vx0, kind: vxlan, namespace: end, vni: 1001, remote: 192.0.2.1, port: 4789, underlay: host-a, master: br0 }
          - { name: vx1, kind: vxlan, vni: 7 }
          - { name: mv0, kind: macvlan, namespace: a.b-c_d, parent: v_2, mode: private }
          - { name: up0, kind: veth, peer: { name: dn0, namespace: host-a } }
        """;

    private static readonly string[] OddTopologyNodes =
    [
        "br_end__br0: br0 / bridge",
        "dev_a_2eb_2dc_5fd__v_5f2: v_2 / device",
        "host_ns: host namespace",
        "ns_a_2eb_2dc_5fd: a.b-c_d",
        "ns_end: end",
        "ns_host_2da: host-a",
        "remote_192_2e0_2e2_2e1: 192.0.2.1 / VXLAN remote",
        "remote___vx1: no remote / (learning)",
    ];

    private static readonly string[] OddTopologyEdges =
    [
        "br_end__br0 -- ns_a_2eb_2dc_5fd: v-1.x ↔ v_2",
        "br_end__br0 -- ns_end: ",
        "br_end__br0 -- remote_192_2e0_2e2_2e1: vx0 / vxlan VNI 1001 port 4789",
        "dev_a_2eb_2dc_5fd__v_5f2 -- ns_a_2eb_2dc_5fd: ",
        "dev_a_2eb_2dc_5fd__v_5f2 -- ns_a_2eb_2dc_5fd: mv0 / macvlan private",
        "host_ns -- ns_host_2da: up0 ↔ dn0",
        "host_ns -- remote___vx1: vx1 / vxlan VNI 7",
        "ns_host_2da -- remote_192_2e0_2e2_2e1: underlay of vx0",
    ];

    /// <summary>A kind whose vendor names hold every character either language could read as syntax.</summary>
    private const string OddProfiles = """
        kinds:
          odd:
            interfaces:
              - { vendor: 'P"#<&>|;\[]`''{n}', linux: 'p{n}', first: 1 }
        """;

    /// <summary>A lab across hosts (one node placed by the controller) on those odd names; node <c>end</c> again.</summary>
    private const string OddLab = """
        name: end
        nodes:
          end: { kind: odd, host: h-1 }
          a-b: { kind: linux, host: h2 }
          a1: { kind: linux, host: auto }
          o1: { kind: linux, host: h2 }
        links:
          - endpoints: ['end:P"#<&>|;\[]`''1', "a-b:eth1"]
            mtu: 1400
          - endpoints: ["a-b:eth2", "o1:eth1"]
          - endpoints: ["a1:eth1", "o1:eth2"]
            transport: wireguard
        """;

    private static readonly string[] OddLabNodes =
    [
        "node_a1: a1 / linux / host auto",
        "node_a_2db: a-b / linux / host h2",
        "node_end: end / odd / host h-1",
        "node_o1: o1 / linux / host h2",
    ];

    private static readonly string[] OddLabEdges =
    [
        "node_a1 -- node_o1: eth1 ↔ eth2 / VXLAN in WireGuard if placed apart",
        "node_a_2db -- node_end: eth1 ↔ P\"#<&>|;\\[]`'1 (p1) / mtu 1400 / VXLAN between hosts",
        "node_a_2db -- node_o1: eth2 ↔ eth1",
    ];

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, text + "\n");
        return path;
    }

    private static async Task<string> GraphAsync(params string[] args)
    {
        var result = await Cli.RunAsync(["graph", .. args]);
        Assert.True(result.Code == 0 && result.Stderr.Length == 0, result.ToString());
        return result.Stdout;
    }

    [Fact]
    public async Task A_topology_is_a_mermaid_flowchart_by_default()
    {
        var output = await GraphAsync("-f", Path.Combine(Cli.RepositoryRoot, "examples", "aether-ctl.yaml"));
        Assert.Equal("""
            ---
            title: "topology aether-ctl"
            ---
            flowchart LR
                host_ns[["host namespace"]]
                ns_aether_2dns["aether-ns"]
                host_ns ---|"veth-host ↔ veth-ns"| ns_aether_2dns

            """, output);
    }

    [Fact]
    public async Task Every_node_and_edge_of_a_topology_is_drawn_in_both_languages()
    {
        var file = Write("topo.yaml", OddTopology);
        var mermaid = GraphReader.Mermaid(await GraphAsync("-f", file, "--format", "mermaid"));
        var dot = await GraphReader.DotAsync(await GraphAsync("-f", file, "--format", "dot"));
        foreach (var drawing in new[] { mermaid, dot })
        {
            Assert.Equal(OddTopologyNodes, drawing.Nodes);
            Assert.Equal(OddTopologyEdges, drawing.Edges);
        }
    }

    [Fact]
    public async Task A_lab_across_hosts_with_odd_interface_names_is_drawn_in_both_languages()
    {
        var lab = Write("lab.yaml", OddLab);
        var profiles = Write("profiles.yaml", OddProfiles);
        var mermaid = GraphReader.Mermaid(await GraphAsync("-f", lab, "--profiles", profiles));
        var dot = await GraphReader.DotAsync(await GraphAsync("-f", lab, "--profiles", profiles, "--format", "dot"));
        foreach (var drawing in new[] { mermaid, dot })
        {
            Assert.Equal(OddLabNodes, drawing.Nodes);
            Assert.Equal(OddLabEdges, drawing.Edges);
        }
    }

    [Theory]
    [InlineData("aether-ctl.yaml", 2, 1)]
    [InlineData("router-chain.yaml", 3, 2)]
    [InlineData("labs/demo.yaml", 3, 2)]
    [InlineData("labs/frr-ospf.yaml", 2, 1)]
    [InlineData("labs/vendors.yaml", 5, 5)]
    public async Task Every_example_is_drawn_whole(string example, int nodes, int edges)
    {
        var file = Path.Combine(Cli.RepositoryRoot, "examples", example);
        var mermaid = GraphReader.Mermaid(await GraphAsync("-f", file));
        var dot = await GraphReader.DotAsync(await GraphAsync("-f", file, "--format", "dot"));
        Assert.Equal((nodes, edges), (mermaid.Nodes.Count, mermaid.Edges.Count));
        Assert.Equal(mermaid, dot, DrawingComparer.Instance);
    }

    [Theory]
    [InlineData("topology.md", "examples/aether-ctl.yaml")]
    [InlineData("labs.md", "examples/labs/demo.yaml")]
    public async Task The_docs_show_what_the_command_prints(string doc, string example)
    {
        // The fenced block that starts with "$ aether graph -f EXAMPLE": the command, then its output.
        var lines = File.ReadAllLines(Path.Combine(Cli.RepositoryRoot, "docs", doc));
        var start = Array.IndexOf(lines, $"$ aether graph -f {example}");
        Assert.True(start > 0 && lines[start - 1] == "```", $"docs/{doc} has no block starting with the command for {example}");
        var end = Array.IndexOf(lines, "```", start);
        var shown = string.Join('\n', lines[(start + 1)..end]) + "\n";
        Assert.Equal(shown, await GraphAsync("-f", Path.Combine(Cli.RepositoryRoot, example)));
    }

    [Fact]
    public async Task The_demo_lab_shows_kinds_and_both_names_of_each_interface()
    {
        var drawing = GraphReader.Mermaid(await GraphAsync("-f", Path.Combine(Cli.RepositoryRoot, "examples", "labs", "demo.yaml")));
        Assert.Equal(["node_h1: h1 / linux", "node_r1: r1 / arista_ceos", "node_r2: r2 / juniper_vmx"], drawing.Nodes);
        Assert.Equal(
        [
            "node_h1 -- node_r1: eth1 ↔ Ethernet2 (eth2) / mtu 9000",
            "node_r1 -- node_r2: Ethernet1 (eth1) ↔ ge-0/0/0 (eth1)",
        ], drawing.Edges);
    }

    [Fact]
    public async Task The_output_is_the_same_whatever_the_order_of_the_file()
    {
        var reordered = """
            links:
              - { name: up0, kind: veth, peer: { name: dn0, namespace: host-a } }
              - { name: mv0, kind: macvlan, namespace: a.b-c_d, parent: v_2, mode: private }
              - { name: vx1, kind: vxlan, vni: 7 }
              - { name: vx0, kind: vxlan, namespace: end, vni: 1001, remote: 192.0.2.1, port: 4789, underlay: host-a, master: br0 }
              - { name: v-1.x, kind: veth, namespace: end, master: br0, peer: { name: v_2, namespace: a.b-c_d } }
              - { name: br0, kind: bridge, namespace: end }
            namespaces:
              - name: host-a
              - name: a.b-c_d
              - name: end
            name: odd.topo-1
            """;
        foreach (var format in new[] { "mermaid", "dot" })
        {
            var first = await GraphAsync("-f", Write("topo.yaml", OddTopology), "--format", format);
            Assert.Equal(first, await GraphAsync("-f", Write("topo.yaml", OddTopology), "--format", format));
            Assert.Equal(first, await GraphAsync("-f", Write("reordered.yaml", reordered), "--format", format));
        }

        var lab = await GraphAsync("-f", Path.Combine(Cli.RepositoryRoot, "examples", "labs", "vendors.yaml"));
        var shuffled = Write("vendors.yaml", """
            links:
              - endpoints: ["host:eth1", "eos:Ethernet3/1"]
                mtu: 1500
              - endpoints: ["eos:Et2", "srl:ethernet-1/2"]
              - endpoints: ["srl:ethernet-1/1", "xr:Gi0/0/0/1"]
              - endpoints: ["xr:GigabitEthernet0/0/0/0", "vmx:ge-0/0/1"]
              - endpoints: ["vmx:ge-0/0/0", "eos:Ethernet1"]
            nodes:
              host: { kind: linux, namespace: vendors-host-ns }
              srl:  { kind: nokia_srlinux }
              xr:   { kind: cisco_iosxr }
              vmx:  { kind: juniper_vmx }
              eos:  { kind: arista_ceos }
            name: vendors
            """);
        Assert.Equal(lab, await GraphAsync("-f", shuffled));
    }

    [Fact]
    public async Task An_invalid_topology_exits_2_with_the_errors_diff_prints()
    {
        var file = Write("bad.yaml", "name: bad\nlinks:\n  - { name: br0, kind: bridge, mtu: 70000 }\n  - { name: br0, kind: vlan }\n");
        var graph = await Cli.RunAsync("graph", "-f", file);
        var diff = await Cli.RunAsync("diff", "-f", file, "--state-dir", Path.Combine(_dir.Path, "state"));
        Assert.True(graph.Code == 2, graph.ToString());
        Assert.Equal(2, diff.Code);
        Assert.Empty(graph.Stdout);
        Assert.Contains($"{file}:3:37: links[0].mtu: 70000 is outside 68..65535", graph.Stderr, StringComparison.Ordinal);
        Assert.Equal(diff.Stderr, graph.Stderr);
    }

    [Fact]
    public async Task An_invalid_lab_exits_2_with_its_errors()
    {
        var file = Write("bad-lab.yaml", "name: x\nnodes:\n  r1: { kind: arista_ceos }\nlinks:\n  - endpoints: [\"r1:Ethernet1\", \"r9:eth1\"]\n");
        var result = await Cli.RunAsync("graph", "-f", file, "--format", "dot");
        Assert.True(result.Code == 2, result.ToString());
        Assert.Empty(result.Stdout);
        Assert.Equal($"{file}:5:33: links[0].endpoints[1]: node 'r9' is not in nodes; did you mean 'r1'?\naether: {file}: invalid lab\n", result.Stderr);

        // Without its profiles file, the odd kind is unknown.
        var odd = await Cli.RunAsync("graph", "-f", Write("lab.yaml", OddLab));
        Assert.True(odd.Code == 2, odd.ToString());
        Assert.Contains("nodes.end.kind: unknown kind 'odd'", odd.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lab_missing_its_nodes_is_read_as_a_lab_with_the_lab_flag()
    {
        var file = Write("typo.yaml", "name: x\nnode:\n  r1: { kind: linux }\n");
        var asTopology = await Cli.RunAsync("graph", "-f", file);
        Assert.True(asTopology.Code == 2, asTopology.ToString());
        Assert.Contains("node: unknown key", asTopology.Stderr, StringComparison.Ordinal);
        Assert.Contains("allowed here: name, namespaces, links, routes", asTopology.Stderr, StringComparison.Ordinal);

        var asLab = await Cli.RunAsync("graph", "-f", file, "--lab");
        Assert.True(asLab.Code == 2, asLab.ToString());
        Assert.Contains("nodes: required", asLab.Stderr, StringComparison.Ordinal);
        Assert.Contains("allowed here: name, fabric, nodes, links, cross_host", asLab.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("format")]
    public async Task A_file_that_cannot_be_read_or_an_unknown_format_exits_2(string what)
    {
        var result = what == "missing"
            ? await Cli.RunAsync("graph", "-f", Path.Combine(_dir.Path, "none.yaml"))
            : await Cli.RunAsync("graph", "-f", Path.Combine(Cli.RepositoryRoot, "examples", "aether-ctl.yaml"), "--format", "png");
        Assert.True(result.Code == 2, result.ToString());
        Assert.Empty(result.Stdout);
        Assert.Contains(what == "missing" ? "none.yaml:1:1: cannot read the file" : "png", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Two drawings with the same nodes and edges.</summary>
    private sealed class DrawingComparer : IEqualityComparer<GraphReader.Drawing>
    {
        public static readonly DrawingComparer Instance = new();

        public bool Equals(GraphReader.Drawing? x, GraphReader.Drawing? y) =>
            x is not null && y is not null && x.Nodes.SequenceEqual(y.Nodes, StringComparer.Ordinal) && x.Edges.SequenceEqual(y.Edges, StringComparer.Ordinal);

        public int GetHashCode(GraphReader.Drawing obj) => obj.Nodes.Count;
    }
}
