// TEMPORARY: replaced by the real loader at merge
using System.Globalization;
using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>Reads topology files (a minimal reader until the full loader lands).</summary>
public static partial class TopologyLoader
{
    private static readonly string[] RootKeys = ["name", "namespaces", "links", "routes"];
    private static readonly string[] NamespaceKeys = ["name", "sysctls"];
    private static readonly string[] LinkKeys = ["name", "kind", "namespace", "up", "mtu", "master", "addresses", "peer", "vni", "remote", "local", "port", "parent", "mode"];
    private static readonly string[] PeerKeys = ["name", "namespace", "addresses"];
    private static readonly string[] RouteKeys = ["namespace", "to", "via", "dev", "metric", "table", "onlink"];

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    public static TopologyLoadResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var errors = new List<TopologyError>();
        void Error(YamlNode? node, string message) =>
            errors.Add(new TopologyError(path, node is null ? 1 : (int)node.Start.Line, node is null ? 1 : (int)node.Start.Column, message));

        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(path))
            {
                stream.Load(reader);
            }

            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
            {
                Error(null, "expected a mapping with a name");
                return new TopologyLoadResult(null, errors);
            }

            root = map;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(null, "cannot read: " + e.Message);
            return new TopologyLoadResult(null, errors);
        }
        catch (YamlException e)
        {
            errors.Add(new TopologyError(path, (int)e.Start.Line, (int)e.Start.Column, e.Message));
            return new TopologyLoadResult(null, errors);
        }

        Dictionary<string, YamlNode> Fields(YamlNode node, string where, string[] allowed)
        {
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m)
            {
                Error(node, where + ": expected a mapping");
                return fields;
            }

            foreach (var (k, v) in m.Children)
            {
                var key = ((YamlScalarNode)k).Value ?? string.Empty;
                if (!allowed.Contains(key, StringComparer.Ordinal))
                {
                    Error(k, $"{where}: unknown key '{key}' (expected one of {string.Join(", ", allowed)})");
                    continue;
                }

                fields[key] = v;
            }

            return fields;
        }

        string? Str(Dictionary<string, YamlNode> f, string key) => f.TryGetValue(key, out var n) && n is YamlScalarNode s ? s.Value : null;

        string? IfName(Dictionary<string, YamlNode> f, string where)
        {
            var name = Str(f, "name");
            if (name is null)
            {
                Error(f.Values.FirstOrDefault(), where + ".name: required");
            }
            else if (!InterfaceName.IsValid(name, out var why))
            {
                Error(f["name"], $"{where}.name: {why}");
            }

            return name;
        }

        List<IPPrefix> Addresses(Dictionary<string, YamlNode> f, string where)
        {
            var list = new List<IPPrefix>();
            if (f.TryGetValue("addresses", out var node) && node is YamlSequenceNode seq)
            {
                foreach (var item in seq.Children.OfType<YamlScalarNode>())
                {
                    if (IPPrefix.TryParse(item.Value, out var p, out var why))
                    {
                        list.Add(p);
                    }
                    else
                    {
                        Error(item, $"{where}.addresses: '{item.Value}' is not an address with a prefix length: {why}");
                    }
                }
            }

            return list;
        }

        var top = Fields(root, "topology", RootKeys);
        var topologyName = Str(top, "name");
        if (string.IsNullOrEmpty(topologyName) || topologyName.Contains('/', StringComparison.Ordinal))
        {
            Error(top.GetValueOrDefault("name") ?? root, "name: required, without '/'");
        }

        var namespaces = new List<TopologyNamespace>();
        var nsNodes = top.GetValueOrDefault("namespaces") as YamlSequenceNode;
        for (var i = 0; i < (nsNodes?.Children.Count ?? 0); i++)
        {
            var f = Fields(nsNodes!.Children[i], $"namespaces[{i}]", NamespaceKeys);
            var name = Str(f, "name");
            if (name is null)
            {
                Error(nsNodes.Children[i], $"namespaces[{i}].name: required");
                continue;
            }

            var sysctls = f.GetValueOrDefault("sysctls") is YamlMappingNode sm
                ? sm.Children.Select(kv => new KeyValuePair<string, string>(((YamlScalarNode)kv.Key).Value!, ((YamlScalarNode)kv.Value).Value ?? string.Empty)).ToList()
                : [];
            namespaces.Add(new TopologyNamespace(name) { Sysctls = sysctls });
        }

        var known = namespaces.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        void CheckNs(Dictionary<string, YamlNode> f, string where)
        {
            if (Str(f, "namespace") is { } ns && !known.Contains(ns))
            {
                Error(f["namespace"], $"{where}.namespace: '{ns}' is not declared under namespaces");
            }
        }

        var links = new List<TopologyLink>();
        var linkNodes = top.GetValueOrDefault("links") as YamlSequenceNode;
        for (var i = 0; i < (linkNodes?.Children.Count ?? 0); i++)
        {
            var where = $"links[{i}]";
            var f = Fields(linkNodes!.Children[i], where, LinkKeys);
            var name = IfName(f, where);
            CheckNs(f, where);
            TopologyLinkKind kind = TopologyLinkKind.Veth;
            if (!Enum.TryParse(Str(f, "kind"), ignoreCase: true, out kind))
            {
                Error(f.GetValueOrDefault("kind") ?? linkNodes.Children[i], $"{where}.kind: expected veth, bridge, vxlan or macvlan");
            }

            TopologyPeer? peer = null;
            if (f.TryGetValue("peer", out var peerNode))
            {
                var pf = Fields(peerNode, where + ".peer", PeerKeys);
                CheckNs(pf, where + ".peer");
                peer = new TopologyPeer(IfName(pf, where + ".peer") ?? string.Empty) { Namespace = Str(pf, "namespace"), Addresses = Addresses(pf, where + ".peer") };
            }
            else if (kind == TopologyLinkKind.Veth)
            {
                Error(linkNodes.Children[i], where + ".peer: a veth needs a peer");
            }

            static uint? U(string? s) => s is null ? null : uint.Parse(s, CultureInfo.InvariantCulture);
            links.Add(new TopologyLink(name ?? string.Empty, kind)
            {
                Namespace = Str(f, "namespace"),
                Up = Str(f, "up") is not { } up || bool.Parse(up),
                Mtu = (int?)U(Str(f, "mtu")),
                Master = Str(f, "master"),
                Addresses = Addresses(f, where),
                Peer = peer,
                Vni = U(Str(f, "vni")),
                Remote = Str(f, "remote") is { } r ? IPAddress.Parse(r) : null,
                Local = Str(f, "local") is { } l ? IPAddress.Parse(l) : null,
                Port = (ushort?)U(Str(f, "port")),
                Parent = Str(f, "parent"),
                Mode = Str(f, "mode") is { } m ? Enum.Parse<MacvlanMode>(m, ignoreCase: true) : null,
            });
        }

        var routes = new List<TopologyRoute>();
        var routeNodes = top.GetValueOrDefault("routes") as YamlSequenceNode;
        for (var i = 0; i < (routeNodes?.Children.Count ?? 0); i++)
        {
            var f = Fields(routeNodes!.Children[i], $"routes[{i}]", RouteKeys);
            CheckNs(f, $"routes[{i}]");
            var to = Str(f, "to") is { } t and not "default" ? IPPrefix.Parse(t) : (IPPrefix?)null;
            routes.Add(new TopologyRoute(Str(f, "namespace"), to)
            {
                Via = Str(f, "via") is { } v ? IPAddress.Parse(v) : null,
                Dev = Str(f, "dev"),
                Metric = Str(f, "metric") is { } me ? uint.Parse(me, CultureInfo.InvariantCulture) : null,
                Table = Str(f, "table") is { } tb ? uint.Parse(tb, CultureInfo.InvariantCulture) : null,
                OnLink = Str(f, "onlink") is { } o && bool.Parse(o),
            });
        }

        return errors.Count > 0
            ? new TopologyLoadResult(null, errors)
            : new TopologyLoadResult(new TopologySpec(topologyName!) { Namespaces = namespaces, Links = links, Routes = routes, SourcePath = path }, errors);
    }
}
