using System.Text.Json;
using Aether.TestSupport;

namespace Aether.Labs.Tests.Files;

/// <summary>The editor schema <c>schema/aether-lab.schema.json</c> and the lab loader agree: the same keys, values
/// and limits, and documents one rejects the other rejects too (checked by a JSON Schema library, the way an editor
/// applies the schema).</summary>
public sealed class LabSchemaTests
{
    private static readonly string SchemaPath = Path.Combine(LabFile.RepoRoot(), "schema", "aether-lab.schema.json");

    private static JsonElement Schema()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        return document.RootElement.Clone();
    }

    private static JsonElement Def(string name) => Schema().GetProperty("$defs").GetProperty(name);

    private static string[] Properties(JsonElement node)
    {
        Assert.False(node.GetProperty("additionalProperties").GetBoolean());
        return [.. node.GetProperty("properties").EnumerateObject().Select(p => p.Name)];
    }

    /// <summary>The values of an enum, JSON null as <c>&lt;null&gt;</c>.</summary>
    private static string[] Enum(JsonElement node) => [.. node.GetProperty("enum").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? "<null>" : e.GetString()!)];

    [Fact]
    public void The_schema_is_draft_2020_12() =>
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema().GetProperty("$schema").GetString());

    [Fact]
    public void The_schema_keys_are_the_loader_keys_at_every_level()
    {
        Assert.Equal(LabLoader.RootKeys, Properties(Schema()));
        Assert.Equal(LabLoader.NodeKeys, Properties(Def("node")));
        Assert.Equal(LabLoader.LinkKeys, Properties(Def("link")));
        Assert.Equal(LabLoader.CrossHostKeys, Properties(Def("crossHost")));
        Assert.Equal(["name", "nodes"], Schema().GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void The_schema_values_are_the_loader_values()
    {
        // null: a key given nothing counts as absent, as the loader reads it.
        Assert.Equal([.. LabLoader.Fabrics, "<null>"], Enum(Schema().GetProperty("properties").GetProperty("fabric")));
        Assert.Equal([.. LabLoader.CrossHostMtus, "<null>"], Enum(Def("crossHost").GetProperty("properties").GetProperty("mtu")));
        var kind = Def("node").GetProperty("properties").GetProperty("kind");
        Assert.Equal(InterfaceProfiles.Default.KnownKinds, kind.GetProperty("examples").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public void The_schema_limits_are_the_loader_limits()
    {
        Assert.Equal(LabNames.MaxLabNameLength, Schema().GetProperty("properties").GetProperty("name").GetProperty("maxLength").GetInt32());
        Assert.Equal(LabNames.MaxNodeNameLength, Def("nodeName").GetProperty("maxLength").GetInt32());
        Assert.Equal(HostId.MaxLength, Def("node").GetProperty("properties").GetProperty("host").GetProperty("maxLength").GetInt32());
        var mtu = Def("link").GetProperty("properties").GetProperty("mtu");
        Assert.Equal((LabLoader.MinMtu, LabLoader.MaxMtu), (mtu.GetProperty("minimum").GetInt32(), mtu.GetProperty("maximum").GetInt32()));
    }

    /// <summary>Labs both accept: a key given nothing, a bare number as an argument, placement with auto, anchors.</summary>
    public static TheoryData<string> BothAccept() =>
    [
        "name: one\nnodes:\n  n1: { kind: linux }\n",
        "name: x\nfabric:\nnodes:\n  a: { kind: linux, namespace: shared.ns-1 }\n  b: { kind: linux, namespace: ~, exec: ~ }\nlinks:\ncross_host:\n",
        "name: x\nnodes:\n  a: { kind: linux, exec: [sleep, 10, true] }\n",
        "name: x\nfabric: ovs\nnodes:\n  r1: &ceos { kind: arista_ceos }\n  r2: *ceos\nlinks:\n  - endpoints: [r1:Et1, r2:Ethernet1]\n    mtu: 9000\n",
        "name: x\nnodes:\n  a: { kind: linux, host: h1 }\n  b: { kind: linux, host: auto }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], mtu: 1500 }\ncross_host: { mtu: underlay }\n",
        "name: x\nnodes:\n  a: { kind: linux, host: h1 }\ncross_host: {}\n",
        "name: x\nnodes:\n  a: { kind: linux, host: h1 }\n  b: { kind: linux, host: h2 }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], transport: vxlan }\ncross_host: { transport: wireguard }\n",
    ];

    [Theory]
    [MemberData(nameof(BothAccept))]
    public void Both_accept(string yaml)
    {
        var loaded = LabFile.Parse(yaml);
        Assert.True(loaded.IsValid, string.Join('\n', loaded.Errors));
        var problems = EditorSchema.Problems(EditorSchema.Load(SchemaPath), yaml);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>Labs both reject: what is wrong, where the schema finds it (a JSON Pointer: there or below), the document.</summary>
    public static TheoryData<string, string, string> BothReject() => new()
    {
        { "unknown key at the top", "/nodez", "name: x\nnodez:\n  a: { kind: linux }\n" },
        { "unknown key in a node", "/nodes/a/image", "name: x\nnodes:\n  a: { kind: linux, image: alpine }\n" },
        { "unknown key in a link", "/links/0/endpoint", "name: x\nnodes:\n  a: { kind: linux }\nlinks:\n  - endpoint: [a:eth1, a:eth2]\n" },
        { "missing name", "", "nodes:\n  a: { kind: linux }\n" },
        { "missing nodes", "", "name: x\n" },
        { "no node", "/nodes", "name: x\nnodes: {}\n" },
        { "missing kind", "/nodes/a", "name: x\nnodes:\n  a: { namespace: n1 }\n" },
        { "a node given nothing", "/nodes/a", "name: x\nnodes:\n  a:\n" },
        { "missing endpoints", "/links/0", "name: x\nnodes:\n  a: { kind: linux }\nlinks:\n  - mtu: 1500\n" },
        { "nodes as a list", "/nodes", "name: x\nnodes: [a, b]\n" },
        { "the mtu quoted", "/links/0/mtu", "name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], mtu: \"1500\" }\n" },
        { "the mtu out of range", "/links/0/mtu", "name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], mtu: 10 }\n" },
        { "exec as one string", "/nodes/a/exec", "name: x\nnodes:\n  a: { kind: linux, exec: \"sleep infinity\" }\n" },
        { "exec empty", "/nodes/a/exec", "name: x\nnodes:\n  a: { kind: linux, exec: [] }\n" },
        { "exec with an empty program", "/nodes/a/exec/0", "name: x\nnodes:\n  a: { kind: linux, exec: [\"\", x] }\n" },
        { "exec with nothing as an argument", "/nodes/a/exec", "name: x\nnodes:\n  a: { kind: linux, exec: [sleep, ~] }\n" },
        { "one endpoint", "/links/0/endpoints", "name: x\nnodes:\n  a: { kind: linux }\nlinks:\n  - endpoints: [a:eth1]\n" },
        { "three endpoints", "/links/0/endpoints", "name: x\nnodes:\n  a: { kind: linux }\nlinks:\n  - endpoints: [a:eth1, a:eth2, a:eth3]\n" },
        { "an endpoint without a colon", "/links/0/endpoints/0", "name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\nlinks:\n  - endpoints: [a-eth1, b:eth1]\n" },
        { "an unknown fabric", "/fabric", "name: x\nfabric: bridge\nnodes:\n  a: { kind: linux }\n" },
        { "an uppercase lab name", "/name", "name: Demo\nnodes:\n  a: { kind: linux }\n" },
        { "a lab name of 33 characters", "/name", $"name: {new string('a', 33)}\nnodes:\n  a: {{ kind: linux }}\n" },
        { "an uppercase node name", "/nodes/R1", "name: x\nnodes:\n  R1: { kind: linux }\n" },
        { "a namespace with a slash", "/nodes/a/namespace", "name: x\nnodes:\n  a: { kind: linux, namespace: a/b }\n" },
        { "an invalid host", "/nodes/a/host", "name: x\nnodes:\n  a: { kind: linux, host: H1 }\n" },
        { "some nodes placed, not all", "/nodes/b", "name: x\nnodes:\n  a: { kind: linux, host: h1 }\n  b: { kind: linux }\n" },
        { "cross_host in a lab not placed", "/cross_host", "name: x\nnodes:\n  a: { kind: linux }\ncross_host: { mtu: lower }\n" },
        { "an unknown cross_host.mtu", "/cross_host/mtu", "name: x\nnodes:\n  a: { kind: linux, host: h1 }\ncross_host: { mtu: higher }\n" },
        { "an unknown transport", "/links/0/transport", "name: x\nnodes:\n  a: { kind: linux, host: h1 }\n  b: { kind: linux, host: h2 }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], transport: ipsec }\n" },
        { "a transport in a lab not placed", "/links", "name: x\nnodes:\n  a: { kind: linux }\n  b: { kind: linux }\nlinks:\n  - { endpoints: [a:eth1, b:eth1], transport: wireguard }\n" },
        { "a list at the top", "", "- name: x\n" },
    };

    [Theory]
    [MemberData(nameof(BothReject))]
    public void Both_reject(string what, string where, string yaml)
    {
        var loaded = LabFile.Parse(yaml);
        Assert.False(loaded.IsValid, $"{what}: the loader accepts it");
        Assert.NotEmpty(loaded.Errors);
        var problems = EditorSchema.Problems(EditorSchema.Load(SchemaPath), yaml);
        Assert.True(problems.Count > 0, $"{what}: the schema accepts it (the loader says: {string.Join("; ", loaded.Errors)})");
        Assert.True(problems.Any(p => p.StartsWith(where + " (", StringComparison.Ordinal) || p.StartsWith(where + "/", StringComparison.Ordinal)), $"{what}: the schema finds no problem at or below '{where}':\n{string.Join('\n', problems)}");
    }
}
