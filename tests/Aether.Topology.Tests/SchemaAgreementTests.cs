using Aether.TestSupport;

namespace Aether.Topology.Tests;

/// <summary>The editor schema <c>schema/aether-topology.schema.json</c>, applied by a JSON Schema library the way an
/// editor applies it, and the loader agree: the examples are valid to both, and documents one rejects the other
/// rejects too.</summary>
public sealed class SchemaAgreementTests
{
    private static readonly string Root = Load.RepoRoot();

    private static readonly string SchemaPath = Path.Combine(Root, "schema", "aether-topology.schema.json");

    public static TheoryData<string> Examples() => [.. Directory.GetFiles(Path.Combine(Root, "examples"), "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_topology_example_names_the_schema_and_is_valid_against_it(string file)
    {
        var path = Path.Combine(Root, "examples", file);
        Assert.Equal(SchemaPath, EditorSchema.SchemaOf(path));
        var problems = EditorSchema.Problems(EditorSchema.Load(SchemaPath), File.ReadAllText(path));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>Topologies both accept: lists given nothing, a boolean and a sysctl value as YAML types them.</summary>
    public static TheoryData<string> BothAccept() =>
    [
        "name: t\n",
        "name: t\nnamespaces:\nlinks:\nroutes:\n",
        "name: t\nnamespaces:\n  - name: n1\n    sysctls: { net.ipv4.ip_forward: 1, net/ipv4/conf/all/rp_filter: \"2\" }\nlinks:\n  - { name: a, kind: veth, up: True, mtu: 9000, peer: { name: b, namespace: n1, addresses: [10.0.0.2/30] }, addresses: [10.0.0.1/30] }\n",
        "name: t\nlinks:\n  - { name: br0, kind: bridge }\n  - { name: vx0, kind: vxlan, vni: 42, remote: 192.0.2.1, port: 4789, master: br0 }\nroutes:\n  - { to: 198.51.100.0/24, dev: br0, metric: 10 }\n",
        "name: t\nlinks:\n  - { name: wg0, kind: wireguard, listenPort: 51820, fwmark: 7, mtu: 1420, addresses: [10.9.0.1/24], peers: [{ publicKey: " + WgKey + ", endpoint: \"192.0.2.1:51820\", allowedIPs: [10.9.0.2/32], persistentKeepalive: 25 }] }\nroutes:\n  - { to: 10.10.0.0/16, dev: wg0 }\n",
    ];

    private const string WgKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

    [Theory]
    [MemberData(nameof(BothAccept))]
    public void Both_accept(string yaml)
    {
        var loaded = Load.Parse(yaml);
        Assert.True(loaded.IsValid, string.Join('\n', loaded.Errors));
        var problems = EditorSchema.Problems(EditorSchema.Load(SchemaPath), yaml);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>Topologies both reject: what is wrong, where the schema finds it (a JSON Pointer: there or below), the document.</summary>
    public static TheoryData<string, string, string> BothReject() => new()
    {
        { "unknown key at the top", "/linkz", "name: t\nlinkz: []\n" },
        { "unknown key in a link", "/links/0/colour", "name: t\nlinks:\n  - { name: br0, kind: bridge, colour: red }\n" },
        { "missing name", "", "namespaces:\n  - name: n1\n" },
        { "a namespace without a name", "/namespaces/0", "name: t\nnamespaces:\n  - sysctls: { net.ipv4.ip_forward: 1 }\n" },
        { "a veth without a peer", "/links/0", "name: t\nlinks:\n  - { name: a, kind: veth }\n" },
        { "a vxlan without a vni", "/links/0", "name: t\nlinks:\n  - { name: vx0, kind: vxlan }\n" },
        { "a vni on a bridge", "/links/0/vni", "name: t\nlinks:\n  - { name: br0, kind: bridge, vni: 5 }\n" },
        { "an unknown kind", "/links/0/kind", "name: t\nlinks:\n  - { name: v0, kind: vlan }\n" },
        { "the mtu quoted", "/links/0/mtu", "name: t\nlinks:\n  - { name: br0, kind: bridge, mtu: \"1500\" }\n" },
        { "the mtu out of range", "/links/0/mtu", "name: t\nlinks:\n  - { name: br0, kind: bridge, mtu: 70000 }\n" },
        { "up as text", "/links/0/up", "name: t\nlinks:\n  - { name: br0, kind: bridge, up: yes }\n" },
        { "an interface name of 16 bytes", "/links/0/name", "name: t\nlinks:\n  - { name: abcdefghijklmnop, kind: bridge }\n" },
        { "an uppercase topology name", "/name", "name: Topo\n" },
        { "a route without via or dev", "/routes/0", "name: t\nroutes:\n  - to: 10.1.0.0/16\n" },
        { "links as a mapping", "/links", "name: t\nlinks: { name: br0 }\n" },
        { "a listen port on a bridge", "/links/0/listenPort", "name: t\nlinks:\n  - { name: br0, kind: bridge, listenPort: 51820 }\n" },
        { "a private key that is no key", "/links/0/privateKey", "name: t\nlinks:\n  - { name: wg0, kind: wireguard, privateKey: abc }\n" },
        { "a peer without a public key", "/links/0/peers/0", "name: t\nlinks:\n  - { name: wg0, kind: wireguard, peers: [{ allowedIPs: [10.0.0.0/8] }] }\n" },
        { "an unknown key in a peer", "/links/0/peers/0/endpiont", "name: t\nlinks:\n  - { name: wg0, kind: wireguard, peers: [{ publicKey: " + WgKey + ", endpiont: \"192.0.2.1:1\" }] }\n" },
        { "a wireguard device as a bridge port", "/links/1/master", "name: t\nlinks:\n  - { name: br0, kind: bridge }\n  - { name: wg0, kind: wireguard, master: br0 }\n" },
    };

    [Theory]
    [MemberData(nameof(BothReject))]
    public void Both_reject(string what, string where, string yaml)
    {
        var loaded = Load.Parse(yaml);
        Assert.False(loaded.IsValid, $"{what}: the loader accepts it");
        var problems = EditorSchema.Problems(EditorSchema.Load(SchemaPath), yaml);
        Assert.True(problems.Count > 0, $"{what}: the schema accepts it (the loader says: {string.Join("; ", loaded.Errors)})");
        Assert.True(problems.Any(p => p.StartsWith(where + " (", StringComparison.Ordinal) || p.StartsWith(where + "/", StringComparison.Ordinal)), $"{what}: the schema finds no problem at or below '{where}':\n{string.Join('\n', problems)}");
    }
}
