using Aether.Topology;

namespace Aether.Labs;

/// <summary>
/// A lab as the topology engine sees it: every node a namespace, every link of the veth fabric a veth pair between its
/// two nodes' namespaces under the Linux names. Labs are carried by the same engine as topologies (ownership claims on
/// the namespaces, marks on the links, records, the staged apply, the runtime that follows namespaces), not beside it.
/// </summary>
public static partial class LabTopology
{
    /// <summary>The prefix of a lab's topology name: its records live in <c>STATE/lab-NAME</c> and its links carry
    /// the mark <c>aether:lab-NAME</c>.</summary>
    public const string Prefix = "lab-";

    /// <summary>The topology name of <paramref name="lab"/>.</summary>
    public static string NameOf(string lab) => Prefix + lab;

    /// <summary>The mark the links of <paramref name="lab"/> carry (their alias).</summary>
    public static string MarkOf(string lab) => "aether:" + NameOf(lab);

    /// <summary>The topology of <paramref name="lab"/>: its nodes' namespaces, and the links not in
    /// <paramref name="excluded"/> (those that cannot be made: someone else's interface holds one of their names), each
    /// kept down when it is in <paramref name="down"/>. On the veth fabric a link is a veth pair between its two nodes;
    /// on the ovs fabric each of its ends is a veth between the node and <paramref name="switchNamespace"/> (the host when
    /// null), whose outer end the bridge takes as a port (<see cref="OvsFabric.PortOf"/>).</summary>
    public static TopologySpec Compile(LabSpec lab, IReadOnlySet<LinkId>? excluded = null, IReadOnlySet<LinkId>? down = null, string? switchNamespace = null)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var nodes = lab.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var links = new List<TopologyLink>(lab.Links.Count);
        foreach (var link in lab.Links)
        {
            var id = link.Id;
            if (excluded?.Contains(id) == true)
            {
                continue;
            }

            var up = down?.Contains(id) != true;
            if (lab.Fabric == LabFabric.Ovs)
            {
                foreach (var end in new[] { link.A, link.B })
                {
                    links.Add(new TopologyLink(OvsFabric.PortOf(lab.Name, end), TopologyLinkKind.Veth)
                    {
                        Namespace = switchNamespace,
                        Mtu = link.Mtu,
                        Up = up,
                        Peer = new TopologyPeer(end.Linux) { Namespace = nodes[end.Node].Namespace },
                    });
                }

                continue;
            }

            links.Add(new TopologyLink(link.A.Linux, TopologyLinkKind.Veth)
            {
                Namespace = nodes[link.A.Node].Namespace,
                Mtu = link.Mtu,
                Up = up,
                Peer = new TopologyPeer(link.B.Linux) { Namespace = nodes[link.B.Node].Namespace },
            });
        }

        IEnumerable<string> namespaces = lab.Nodes.Select(n => n.Namespace);
        if (lab.Fabric == LabFabric.Ovs && switchNamespace is not null)
        {
            namespaces = namespaces.Append(switchNamespace); // used, not created: the switch's, not the lab's
        }

        return new TopologySpec(NameOf(lab.Name))
        {
            Namespaces = [.. namespaces.Distinct(StringComparer.Ordinal).Select(n => new TopologyNamespace(n))],
            Links = links,
            SourcePath = lab.SourcePath,
        };
    }
}
