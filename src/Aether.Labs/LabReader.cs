using Aether.Labs.Yaml;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>
/// Turns the YAML of a lab file into a <see cref="LabSpec"/>: first each item on its own (keys, types, names, kinds,
/// interface names through the kind's profile), then the file as a whole (namespaces taken twice, interfaces used by
/// two links, the same link twice under two spellings). Problems go to <see cref="YamlProblems"/>; the spec is built
/// only when there are none.
/// </summary>
internal sealed partial class LabReader
{
    private const string Shape = "a lab is a mapping with keys name, fabric, nodes, links (name and nodes are required)";

    private readonly YamlProblems _problems;
    private readonly InterfaceProfiles _profiles;
    private readonly List<NodeDraft> _nodes = [];
    private readonly Dictionary<string, NodeDraft> _nodesByName = new(StringComparer.Ordinal);
    private readonly List<LinkDraft> _links = [];
    private bool _nodesRead;
    private string? _lab;

    private LabReader(YamlProblems problems, InterfaceProfiles profiles) => (_problems, _profiles) = (problems, profiles);

    /// <summary>Reads <paramref name="text"/>; null when anything was reported.</summary>
    public static LabSpec? Read(string text, YamlProblems problems, InterfaceProfiles profiles)
    {
        var root = YamlFile.Load(text, problems, Shape);
        return root is null ? null : new LabReader(problems, profiles).ReadRoot(root);
    }

    private LabSpec? ReadRoot(DefinitionMapping root)
    {
        var fields = _problems.Mapping(root, "", LabLoader.RootKeys)!;
        string? name = null;
        if (fields.Require("name", "the lab's name, [a-z0-9][a-z0-9_-]*"))
        {
            name = fields.String("name");
            if (name is not null && !LabNames.IsLabName(name, out var why))
            {
                _problems.Add(fields.PathOf("name"), $"invalid lab name {NameText.Quote(name)}: {why}; allowed: 1-{LabNames.MaxLabNameLength} lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit");
                name = null;
            }
        }

        _lab = name;

        var fabricText = fields.OneOf("fabric", LabLoader.Fabrics);
        var fabric = fabricText is null ? LabFabric.Veth : (LabFabric)IndexOf(LabLoader.Fabrics, fabricText);

        if (fields.Require("nodes", "a mapping of node names to nodes, r1: { kind: linux }"))
        {
            ReadNodes(fields.Value("nodes")!);
        }

        var links = fields.List("links", "a list of links, - endpoints: [\"r1:eth1\", \"r2:eth1\"]");
        for (var i = 0; i < (links?.Children.Count ?? 0); i++)
        {
            ReadLink(links!.Children[i], YamlProblems.Index("links", i));
        }

        var crossHost = ReadCrossHost(fields);

        CheckNamespaces();
        CheckLinks();
        CheckPlacement(fields, crossHost, fabric);

        if (_problems.Count > 0 || name is null)
        {
            return null;
        }

        return new LabSpec(name)
        {
            Fabric = fabric,
            CrossHostMtu = crossHost?.Mtu ?? CrossHostMtu.Lower,
            CrossHostTransport = crossHost?.Transport ?? CrossHostTransport.Vxlan,
            Nodes = [.. _nodes.Select(n => new LabNode(n.Name, n.Kind!, n.Namespace ?? LabNames.DefaultNamespace(name, n.Name)) { Exec = n.Exec, Host = n.Host, AutoHost = n.AutoHost })],
            Links = [.. _links.Select(l => new LabLink(l.A!.Endpoint, l.B!.Endpoint) { Mtu = l.Mtu, Transport = l.Transport })],
        };
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A node as read: its fields are null where they were missing or wrong (and reported).</summary>
    private sealed class NodeDraft(string name, string path)
    {
        public string Name { get; } = name;

        /// <summary><c>nodes.r1</c>: where the node's name was read.</summary>
        public string Path { get; } = path;

        /// <summary>The kind, when known to the profiles.</summary>
        public string? Kind { get; set; }

        /// <summary>The namespace the file names, or null for the default.</summary>
        public string? Namespace { get; set; }

        public IReadOnlyList<string> Exec { get; set; } = [];

        /// <summary>The host, when given and valid.</summary>
        public HostId? Host { get; set; }

        /// <summary>Whether <c>host</c> was given (valid or not).</summary>
        public bool HostGiven { get; set; }

        public bool AutoHost { get; set; }
    }

    /// <summary>A link as read.</summary>
    private sealed class LinkDraft(string path)
    {
        public string Path { get; } = path;

        public EndpointDraft? A { get; set; }

        public EndpointDraft? B { get; set; }

        public int? Mtu { get; set; }

        /// <summary>Whether the link says <c>transport:</c> (even a wrong one).</summary>
        public bool TransportGiven { get; set; }

        public CrossHostTransport? Transport { get; set; }
    }

    /// <summary>An endpoint resolved through its node's profile, with where and how it was written.</summary>
    private sealed record EndpointDraft(LabEndpoint Endpoint, string Path, string Written);
}
