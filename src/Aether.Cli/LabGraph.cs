using Aether.Labs;

namespace Aether.Cli;

/// <summary>
/// A lab as a <see cref="Graph"/>: a node per lab node (its name, kind, and host when the lab is placed on hosts) and
/// an edge per link between its two nodes, labelled with both interfaces as written (the Linux name beside a vendor
/// name that differs from it) and the MTU when given. A link between two hosts (carried over VXLAN) is drawn as a
/// tunnel; on the ovs fabric every link is a VLAN of the lab's bridge, which the title names.
/// </summary>
internal static class LabGraph
{
    /// <summary>The graph of <paramref name="lab"/>.</summary>
    public static Graph Of(LabSpec lab)
    {
        var title = lab.Fabric == LabFabric.Ovs ? $"lab {lab.Name} (fabric ovs, bridge {OvsFabric.BridgeOf(lab.Name)})" : $"lab {lab.Name}";
        var graph = new Graph(title);
        foreach (var node in lab.Nodes)
        {
            var host = node.AutoHost ? "host auto" : node.Host is { } h ? "host " + h.Value : null;
            string[] label = host is null ? [node.Name, node.Kind] : [node.Name, node.Kind, host];
            graph.Node(NodeId(node.Name), GraphNodeKind.LabNode, label);
        }

        foreach (var link in lab.Links)
        {
            // In the order the edge's ends are written (by id), so that the label reads from one end to the other.
            var (a, b) = Order(link.A, link.B) <= 0 ? (link.A, link.B) : (link.B, link.A);
            var label = new List<string> { $"{Name(a)} ↔ {Name(b)}" };
            if (link.Mtu is { } mtu)
            {
                label.Add($"mtu {mtu}");
            }

            var crosses = lab.IsCrossHost(link);
            var tunnel = lab.TransportOf(link) == CrossHostTransport.WireGuard ? "VXLAN in WireGuard" : "VXLAN";
            if (crosses)
            {
                label.Add(tunnel + " between hosts");
            }
            else if (lab.Node(a.Node).AutoHost || lab.Node(b.Node).AutoHost)
            {
                label.Add(tunnel + " if placed apart");
            }
            else if (lab.Fabric == LabFabric.Ovs)
            {
                label.Add("VLAN on the bridge");
            }

            graph.Edge(NodeId(a.Node), NodeId(b.Node), crosses ? GraphEdgeKind.Tunnel : GraphEdgeKind.Link, [.. label]);
        }

        return graph;
    }

    private static string NodeId(string node) => Graph.Id("node", node);

    private static int Order(LabEndpoint a, LabEndpoint b)
    {
        var byNode = string.CompareOrdinal(NodeId(a.Node), NodeId(b.Node));
        return byNode != 0 ? byNode : string.CompareOrdinal(a.Linux, b.Linux);
    }

    /// <summary>The interface as written, with its Linux name when that differs: <c>Ethernet1 (eth1)</c>.</summary>
    private static string Name(LabEndpoint end) =>
        string.Equals(end.Vendor, end.Linux, StringComparison.Ordinal) ? end.Vendor : $"{end.Vendor} ({end.Linux})";
}
