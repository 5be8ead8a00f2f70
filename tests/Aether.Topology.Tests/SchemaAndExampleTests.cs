using System.Diagnostics;
using System.Text.Json;

namespace Aether.Topology.Tests;

/// <summary>The editor schema accepts exactly the keys the loader does; the shipped examples and the generator's
/// output load without errors.</summary>
public sealed class SchemaAndExampleTests
{
    private static readonly string Root = Load.RepoRoot();

    private static JsonElement Schema()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "schema", "aether-topology.schema.json")));
        return document.RootElement.Clone();
    }

    private static string[] Properties(JsonElement node)
    {
        Assert.False(node.GetProperty("additionalProperties").GetBoolean());
        return [.. node.GetProperty("properties").EnumerateObject().Select(p => p.Name)];
    }

    private static string[] Enum(JsonElement node) => [.. node.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public void The_schema_is_draft_2020_12()
    {
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema().GetProperty("$schema").GetString());
    }

    [Fact]
    public void The_schema_keys_are_the_loader_keys_at_every_level()
    {
        var schema = Schema();
        var defs = schema.GetProperty("$defs");
        Assert.Equal(TopologyLoader.RootKeys, Properties(schema));
        Assert.Equal(TopologyLoader.NamespaceKeys, Properties(defs.GetProperty("namespace")));
        Assert.Equal(TopologyLoader.LinkKeys, Properties(defs.GetProperty("link")));
        Assert.Equal(TopologyLoader.PeerKeys, Properties(defs.GetProperty("peer")));
        Assert.Equal(TopologyLoader.WireGuardPeerKeys, Properties(defs.GetProperty("wireguardPeer")));
        Assert.Equal(TopologyLoader.RouteKeys, Properties(defs.GetProperty("route")));
        Assert.Equal(TopologyLoader.NatKeys, Properties(defs.GetProperty("nat")));
        Assert.Equal(TopologyLoader.MasqueradeKeys, Properties(defs.GetProperty("masquerade")));
        Assert.Equal("#/$defs/peer", defs.GetProperty("link").GetProperty("properties").GetProperty("peer").GetProperty("$ref").GetString());
    }

    [Fact]
    public void The_schema_enums_are_the_loader_values()
    {
        var link = Schema().GetProperty("$defs").GetProperty("link").GetProperty("properties");
        Assert.Equal(TopologyLoader.LinkKinds, Enum(link.GetProperty("kind")));
        Assert.Equal(TopologyLoader.MacvlanModes, Enum(link.GetProperty("mode")));
        Assert.Equal(TopologyLoader.LinkKinds, System.Enum.GetNames<TopologyLinkKind>().Select(n => n.ToLowerInvariant()));
    }

    [Fact]
    public void The_schema_limits_are_the_loader_limits()
    {
        var schema = Schema();
        Assert.Equal(TopologyLoader.MaxNameLength, schema.GetProperty("properties").GetProperty("name").GetProperty("maxLength").GetInt32());
        var link = schema.GetProperty("$defs").GetProperty("link").GetProperty("properties");
        Assert.Equal((68, 65535), (link.GetProperty("mtu").GetProperty("minimum").GetInt32(), link.GetProperty("mtu").GetProperty("maximum").GetInt32()));
        Assert.Equal(16_777_215, link.GetProperty("vni").GetProperty("maximum").GetInt32());
        Assert.Equal(15, schema.GetProperty("$defs").GetProperty("interfaceName").GetProperty("maxLength").GetInt32());
    }

    public static TheoryData<string> Examples() => [.. Directory.GetFiles(Path.Combine(Root, "examples"), "*.yaml").Select(f => Path.GetFileName(f))];

    [Fact]
    public void There_are_examples() => Assert.Contains("aether-ctl.yaml", Examples());

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_loads(string file)
    {
        var path = Path.Combine(Root, "examples", file);
        var result = TopologyLoader.LoadFile(path);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal(path, result.Topology!.SourcePath);
    }

    [Fact]
    public void The_aether_ctl_example_is_the_reference_case()
    {
        var spec = TopologyLoader.LoadFile(Path.Combine(Root, "examples", "aether-ctl.yaml")).Topology!;
        Assert.Equal("aether-ctl", spec.Name);
        Assert.Equal("aether-ns", Assert.Single(spec.Namespaces).Name);
        var veth = Assert.Single(spec.Links);
        Assert.Equal(("veth-host", TopologyLinkKind.Veth, (string?)null, true), (veth.Name, veth.Kind, veth.Namespace, veth.Up));
        Assert.Equal(("veth-ns", "aether-ns"), (veth.Peer!.Name, veth.Peer.Namespace));
        Assert.Equal("10.200.0.1/30", Assert.Single(veth.Addresses).ToString());
        Assert.Equal("10.200.0.2/30", Assert.Single(veth.Peer.Addresses).ToString());
    }

    [Fact]
    public void The_router_chain_example_routes_left_and_right_through_the_router()
    {
        var spec = TopologyLoader.LoadFile(Path.Combine(Root, "examples", "router-chain.yaml")).Topology!;
        Assert.Equal(["chain-left", "chain-router", "chain-right"], spec.Namespaces.Select(n => n.Name));
        Assert.Equal(new KeyValuePair<string, string>("net.ipv4.ip_forward", "1"), Assert.Single(spec.Namespaces[1].Sysctls));
        Assert.All(spec.Links, l => Assert.NotNull(l.Namespace));
        Assert.All(spec.Links, l => Assert.NotNull(l.Peer!.Namespace));
        Assert.Equal(["chain-left", "chain-right"], spec.Routes.Select(r => r.Namespace!));
        Assert.All(spec.Routes, r => Assert.Null(r.To));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1000)]
    public void The_generator_output_loads(int n)
    {
        var yaml = Generate(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = TopologyLoader.Parse(yaml, "generated.yaml");
        Assert.True(result.IsValid, string.Join('\n', result.Errors.Take(20)));
        var spec = result.Topology!;
        Assert.Equal(n, spec.Namespaces.Count);
        Assert.Equal(n, spec.Links.Count);
        var last = spec.Links[^1];
        Assert.Equal($"gen-h{n}", last.Name);
        Assert.Equal(("eth0", $"gen{n}"), (last.Peer!.Name, last.Peer.Namespace));
        Assert.All(spec.Links.SelectMany(l => l.Addresses.Concat(l.Peer!.Addresses)), a => Assert.Equal(30, a.PrefixLength));
    }

    [Fact]
    public void The_generator_takes_an_eight_character_prefix()
    {
        // With 8 characters, PREFIX-h99999 is exactly 15 bytes. (N=99999 itself is 18 MB and takes half a minute.)
        var yaml = Generate("3", "abcdefgh");
        var result = TopologyLoader.Parse(yaml, "generated.yaml");
        Assert.True(result.IsValid, string.Join('\n', result.Errors.Take(20)));
        Assert.Equal("abcdefgh-h3", result.Topology!.Links[^1].Name);
        Assert.Equal("10.128.0.10/30", result.Topology.Links[^1].Peer!.Addresses[0].ToString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("100000")]
    [InlineData("3", "abcdefghi")]
    [InlineData("3", "Upper")]
    public void The_generator_refuses_bad_arguments(params string[] arguments) =>
        Assert.Equal(2, Run(arguments).ExitCode);

    private static string Generate(params string[] arguments)
    {
        var (code, output) = Run(arguments);
        Assert.Equal(0, code);
        return output;
    }

    private static (int ExitCode, string Output) Run(string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        start.ArgumentList.Add("examples/generate-topology.sh");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        return (process.ExitCode, output);
    }
}
