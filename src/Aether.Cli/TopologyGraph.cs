using Aether.Topology;

namespace Aether.Cli;

/// <summary>
/// A topology as a <see cref="Graph"/>: a node per namespace (the host namespace only when something is in it), a node
/// per bridge joined to its namespace, and an edge per link from where its end is (its bridge when it has a master,
/// else its namespace): a veth pair to where its peer is, labelled with both ends' names; a vxlan to its remote,
/// labelled with its name and VNI (its underlay namespace, when it has one, joined to the remote); a macvlan to its
/// parent device. Addresses, routes, sysctls and NAT are not drawn.
/// </summary>
internal static class TopologyGraph
{
    private const string HostNamespaceId = "host_ns";

    /// <summary>The graph of <paramref name="topology"/>.</summary>
    public static Graph Of(TopologySpec topology)
    {
        var graph = new Graph("topology " + topology.Name);
        foreach (var ns in topology.Namespaces)
        {
            Namespace(graph, ns.Name);
        }

        var bridges = topology.Links.Where(l => l.Kind == TopologyLinkKind.Bridge).Select(l => (l.Namespace, l.Name)).ToHashSet();
        foreach (var link in topology.Links.Where(l => l.Kind == TopologyLinkKind.Bridge))
        {
            graph.Edge(Namespace(graph, link.Namespace), Bridge(graph, link.Namespace, link.Name), GraphEdgeKind.Within);
        }

        foreach (var link in topology.Links)
        {
            switch (link.Kind)
            {
                case TopologyLinkKind.Veth:
                    Veth(graph, link);
                    break;
                case TopologyLinkKind.Bridge when link.Master is { } master:
                    graph.Edge(Bridge(graph, link.Namespace, link.Name), Bridge(graph, link.Namespace, master), GraphEdgeKind.Link, $"{link.Name} port of {master}");
                    break;
                case TopologyLinkKind.Vxlan:
                    Vxlan(graph, link);
                    break;
                case TopologyLinkKind.Macvlan:
                    Macvlan(graph, link, bridges);
                    break;
                case TopologyLinkKind.WireGuard:
                    WireGuard(graph, link);
                    break;
            }
        }

        return graph;
    }

    /// <summary>A veth pair, between where its two ends are, labelled <c>end ↔ peer</c> in the order of the ids.</summary>
    private static void Veth(Graph graph, TopologyLink link)
    {
        var peer = link.Peer!;
        var a = (Id: EndOf(graph, link), link.Name);
        var b = (Id: Namespace(graph, peer.Namespace ?? link.Namespace), peer.Name);
        var (first, second) = string.CompareOrdinal(a.Id, b.Id) < 0 || (string.Equals(a.Id, b.Id, StringComparison.Ordinal) && string.CompareOrdinal(a.Name, b.Name) <= 0) ? (a, b) : (b, a);
        graph.Edge(first.Id, second.Id, GraphEdgeKind.Link, $"{first.Name} ↔ {second.Name}");
    }

    /// <summary>A vxlan to its remote (one node per remote address; one of its own when it has none).</summary>
    private static void Vxlan(Graph graph, TopologyLink link)
    {
        var remote = link.Remote is { } address
            ? graph.Node(Graph.Id("remote", address.ToString()), GraphNodeKind.Remote, address.ToString(), "VXLAN remote")
            : graph.Node(Graph.Id("remote", NamespaceKey(link.Namespace), link.Name), GraphNodeKind.Remote, "no remote", "(learning)");
        var port = link.Port is { } p ? $" port {p}" : "";
        graph.Edge(EndOf(graph, link), remote, GraphEdgeKind.Tunnel, link.Name, $"vxlan VNI {link.Vni}{port}");
        if (link.Underlay is { } underlay)
        {
            graph.Edge(Namespace(graph, underlay.Namespace), remote, GraphEdgeKind.Within, $"underlay of {link.Name}");
        }
    }

    /// <summary>A WireGuard device to each peer: the peer's endpoint (one node per address and port), or a node of its
    /// own for a peer without one (it is learnt from the peer's packets).</summary>
    private static void WireGuard(Graph graph, TopologyLink link)
    {
        foreach (var peer in link.WireGuard?.Peers ?? [])
        {
            var key = peer.PublicKey.ToString()[..8] + "…";
            var remote = peer.Endpoint is { } endpoint
                ? graph.Node(Graph.Id("remote", endpoint.ToString()), GraphNodeKind.Remote, endpoint.ToString(), "WireGuard peer")
                : graph.Node(Graph.Id("remote", NamespaceKey(link.Namespace), link.Name, key), GraphNodeKind.Remote, "peer " + key, "(endpoint learnt)");
            graph.Edge(EndOf(graph, link), remote, GraphEdgeKind.Tunnel, link.Name, "wireguard peer " + key);
        }
    }

    /// <summary>A macvlan to its parent: a bridge of the file, else a device node in the namespace.</summary>
    private static void Macvlan(Graph graph, TopologyLink link, HashSet<(string?, string)> bridges)
    {
        var parentName = link.Parent!;
        string parent;
        if (bridges.Contains((link.Namespace, parentName)))
        {
            parent = Bridge(graph, link.Namespace, parentName);
        }
        else
        {
            parent = graph.Node(Graph.Id("dev", NamespaceKey(link.Namespace), parentName), GraphNodeKind.Device, parentName, "device");
            graph.Edge(Namespace(graph, link.Namespace), parent, GraphEdgeKind.Within);
        }

        var mode = link.Mode is { } m ? " " + m.ToString().ToLowerInvariant() : "";
        graph.Edge(EndOf(graph, link), parent, GraphEdgeKind.Link, link.Name, $"macvlan{mode}");
    }

    /// <summary>Where a link's own end is: its master bridge, else its namespace.</summary>
    private static string EndOf(Graph graph, TopologyLink link) =>
        link.Master is { } master ? Bridge(graph, link.Namespace, master) : Namespace(graph, link.Namespace);

    private static string Namespace(Graph graph, string? name) => name is null
        ? graph.Node(HostNamespaceId, GraphNodeKind.HostNamespace, "host namespace")
        : graph.Node(Graph.Id("ns", name), GraphNodeKind.Namespace, name);

    private static string Bridge(Graph graph, string? ns, string name) =>
        graph.Node(Graph.Id("br", NamespaceKey(ns), name), GraphNodeKind.Bridge, name, "bridge");

    /// <summary>The namespace as an id part: the host namespace is the empty part (no namespace name is empty).</summary>
    private static string NamespaceKey(string? ns) => ns ?? "";
}
