using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Topology.Tests;

/// <summary>Valid files map to the model field by field.</summary>
public sealed class LoaderTests
{
    private const string Full = """
        name: lab-1.test_x
        namespaces:
          - name: ns1
            sysctls:
              net.ipv4.ip_forward: 1
              net/ipv6/conf/all/forwarding: "1"
              net.ipv4.ip_local_port_range: 32768 60999
          - name: ns2
        links:
          - name: br0
            kind: bridge
            namespace: ns1
            mtu: 9000
          - name: veth-host
            kind: veth
            up: false
            mtu: 1500
            addresses: [10.0.0.1/30, "fd00::1/64"]
            peer: { name: veth-ns, namespace: ns1, addresses: [10.0.0.2/30] }
          - name: vx42
            kind: vxlan
            namespace: ns1
            master: br0
            vni: 42
            remote: 192.0.2.1
            local: 192.0.2.2
            port: 4789
            parent: veth-ns
          - name: mv0
            kind: macvlan
            parent: eth0
            mode: passthru
          - name: v-a
            kind: veth
            namespace: ns2
            peer:
              name: v-b
        routes:
          - namespace: ns1
            to: default
            via: 10.0.0.1
          - to: 198.51.100.0/24
            via: 10.0.0.2
            dev: veth-host
            metric: 100
            table: 254
            onlink: true
          - to: "2001:db8::/32"
            dev: veth-host
        """;

    [Fact]
    public void A_full_file_maps_to_the_model()
    {
        var spec = Load.Valid(Full);
        Assert.Equal("lab-1.test_x", spec.Name);
        Assert.Null(spec.SourcePath);

        Assert.Equal(["ns1", "ns2"], spec.Namespaces.Select(n => n.Name));
        Assert.Equal(
            [new("net.ipv4.ip_forward", "1"), new("net/ipv6/conf/all/forwarding", "1"), new KeyValuePair<string, string>("net.ipv4.ip_local_port_range", "32768 60999")],
            spec.Namespaces[0].Sysctls);
        Assert.Empty(spec.Namespaces[1].Sysctls);

        Assert.Equal(5, spec.Links.Count);
        var br = spec.Links[0];
        Assert.Equal(new TopologyLink("br0", TopologyLinkKind.Bridge) { Namespace = "ns1", Mtu = 9000, Addresses = br.Addresses }, br);
        Assert.Empty(br.Addresses);
        Assert.True(br.Up);
        Assert.Null(br.Peer);

        var veth = spec.Links[1];
        Assert.Equal(("veth-host", TopologyLinkKind.Veth, (string?)null, false, (int?)1500), (veth.Name, veth.Kind, veth.Namespace, veth.Up, veth.Mtu));
        Assert.Equal([IPPrefix.Parse("10.0.0.1/30"), IPPrefix.Parse("fd00::1/64")], veth.Addresses);
        Assert.NotNull(veth.Peer);
        Assert.Equal(("veth-ns", "ns1"), (veth.Peer.Name, veth.Peer.Namespace));
        Assert.Equal([IPPrefix.Parse("10.0.0.2/30")], veth.Peer.Addresses);

        var vx = spec.Links[2];
        Assert.Equal(TopologyLinkKind.Vxlan, vx.Kind);
        Assert.Equal("br0", vx.Master);
        Assert.Equal(42u, vx.Vni);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), vx.Remote);
        Assert.Equal(IPAddress.Parse("192.0.2.2"), vx.Local);
        Assert.Equal((ushort)4789, vx.Port);
        Assert.Equal("veth-ns", vx.Parent);
        Assert.Null(vx.Mode);

        var mv = spec.Links[3];
        Assert.Equal((TopologyLinkKind.Macvlan, "eth0", (MacvlanMode?)MacvlanMode.Passthru, (string?)null), (mv.Kind, mv.Parent, mv.Mode, mv.Namespace));

        var pair = spec.Links[4];
        Assert.Equal("ns2", pair.Namespace);
        Assert.Equal(new TopologyPeer("v-b") { Addresses = pair.Peer!.Addresses }, pair.Peer);
        Assert.Null(pair.Peer.Namespace);

        Assert.Equal(3, spec.Routes.Count);
        Assert.Equal(new TopologyRoute("ns1", null) { Via = IPAddress.Parse("10.0.0.1") }, spec.Routes[0]);
        Assert.Equal(
            new TopologyRoute(null, IPPrefix.Parse("198.51.100.0/24")) { Via = IPAddress.Parse("10.0.0.2"), Dev = "veth-host", Metric = 100, Table = 254, OnLink = true },
            spec.Routes[1]);
        Assert.Equal(new TopologyRoute(null, IPPrefix.Parse("2001:db8::/32")) { Dev = "veth-host" }, spec.Routes[2]);
    }

    [Fact]
    public void Only_a_name_is_required_and_empty_sections_are_empty()
    {
        var spec = Load.Valid("name: x\nnamespaces:\nlinks: []\n");
        Assert.Equal(new TopologySpec("x") { Namespaces = spec.Namespaces, Links = spec.Links, Routes = spec.Routes }, spec);
        Assert.Empty(spec.Namespaces);
        Assert.Empty(spec.Links);
        Assert.Empty(spec.Routes);
    }

    [Fact]
    public void Macvlan_mode_names_map_to_the_kernel_modes()
    {
        string[] names = ["private", "vepa", "bridge", "passthru", "source"];
        MacvlanMode[] modes = [MacvlanMode.Private, MacvlanMode.Vepa, MacvlanMode.Bridge, MacvlanMode.Passthru, MacvlanMode.Source];
        for (var i = 0; i < names.Length; i++)
        {
            var spec = Load.Valid($"name: x\nlinks:\n  - {{ name: m, kind: macvlan, parent: eth0, mode: {names[i]} }}\n");
            Assert.Equal(modes[i], spec.Links[0].Mode);
        }
    }

    [Fact]
    public void LoadFile_sets_the_source_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aether-topo-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "name: x\n");
        try
        {
            var result = TopologyLoader.LoadFile(path);
            Assert.True(result.IsValid);
            Assert.Equal(path, result.Topology!.SourcePath);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_unreadable_file_is_one_error()
    {
        var path = "/nonexistent/aether/topo.yaml";
        var result = TopologyLoader.LoadFile(path);
        Assert.Null(result.Topology);
        var error = Assert.Single(result.Errors);
        Assert.Equal((path, 1, 1), (error.File, error.Line, error.Column));
        Assert.StartsWith("cannot read the file: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_is_an_unreadable_file()
    {
        var error = Assert.Single(TopologyLoader.LoadFile(Path.GetTempPath()).Errors);
        Assert.StartsWith("cannot read the file: ", error.Message, StringComparison.Ordinal);
    }
}
