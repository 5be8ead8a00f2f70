using System.Globalization;
using System.Text;

namespace Aether.Cli;

/// <summary>What a graph node stands for, which picks its shape.</summary>
internal enum GraphNodeKind
{
    /// <summary>A named namespace of a topology.</summary>
    Namespace,

    /// <summary>The host namespace (links without <c>namespace</c>).</summary>
    HostNamespace,

    /// <summary>A bridge of a topology, its ports joined to it.</summary>
    Bridge,

    /// <summary>A device the file does not declare: the parent of a macvlan.</summary>
    Device,

    /// <summary>The far end of a VXLAN tunnel.</summary>
    Remote,

    /// <summary>A node of a lab.</summary>
    LabNode,
}

/// <summary>How an edge is drawn.</summary>
internal enum GraphEdgeKind
{
    /// <summary>A link that carries frames: a veth pair, a port of a bridge, a macvlan on its parent, a lab link.</summary>
    Link,

    /// <summary>A tunnel: a VXLAN to its remote, a lab link between two hosts.</summary>
    Tunnel,

    /// <summary>Where something lives, not a link: a bridge or a device in its namespace, the underlay namespace of a
    /// tunnel.</summary>
    Within,
}

/// <summary>A node: its id (only ASCII letters, digits and <c>_</c>, safe unquoted in both languages) and its label
/// (lines of text as written in the file; the writers escape it).</summary>
internal sealed record GraphNode(string Id, GraphNodeKind Kind, IReadOnlyList<string> Label);

/// <summary>An undirected edge between two node ids, with a label of zero or more lines.</summary>
internal sealed record GraphEdge(string From, string To, GraphEdgeKind Kind, IReadOnlyList<string> Label);

/// <summary>
/// A drawing of a topology or a lab, independent of the language it is written in (<see cref="MermaidWriter"/>,
/// <see cref="DotWriter"/>). Nodes are added once by id (a second add keeps the first); edges in any order. What is
/// written is sorted (nodes by id, edges by their ends and label), so the same file always gives the same text
/// whatever the order of its items.
/// </summary>
internal sealed class Graph(string title)
{
    private readonly Dictionary<string, GraphNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<GraphEdge> _edges = [];

    /// <summary>The title: what was drawn (<c>topology aether-ctl</c>).</summary>
    public string Title { get; } = title;

    /// <summary>The nodes, by id.</summary>
    public IReadOnlyList<GraphNode> Nodes => [.. _nodes.Values.OrderBy(n => n.Id, StringComparer.Ordinal)];

    /// <summary>The edges, by their ends, then label.</summary>
    public IReadOnlyList<GraphEdge> Edges =>
    [
        .. _edges
            .OrderBy(e => e.From, StringComparer.Ordinal)
            .ThenBy(e => e.To, StringComparer.Ordinal)
            .ThenBy(e => string.Join('\n', e.Label), StringComparer.Ordinal)
            .ThenBy(e => e.Kind),
    ];

    /// <summary>Adds the node (unless one has its id) and returns its id.</summary>
    public string Node(string id, GraphNodeKind kind, params string[] label)
    {
        _nodes.TryAdd(id, new GraphNode(id, kind, label));
        return id;
    }

    /// <summary>Adds an edge between two nodes already added, its ends in id order.</summary>
    public void Edge(string a, string b, GraphEdgeKind kind, params string[] label)
    {
        if (!_nodes.ContainsKey(a) || !_nodes.ContainsKey(b))
        {
            throw new InvalidOperationException($"an edge between {a} and {b}: add both nodes first");
        }

        var (from, to) = string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);
        _edges.Add(new GraphEdge(from, to, kind, label));
    }

    /// <summary>
    /// A node id: <paramref name="prefix"/>, <c>_</c>, then the parts joined by <c>__</c>, each part with ASCII
    /// letters and digits kept and every other UTF-8 byte written <c>_hh</c> (two lowercase hex digits):
    /// <c>Id("ns", "chain-left")</c> is <c>ns_chain_2dleft</c>. Only <c>[A-Za-z0-9_]</c>, and one id per list of parts
    /// (in a part, <c>_</c> is always followed by a hex digit, so <c>__</c> only ever separates).
    /// </summary>
    public static string Id(string prefix, params string[] parts)
    {
        var id = new StringBuilder(prefix).Append('_');
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                id.Append("__");
            }

            foreach (var b in Encoding.UTF8.GetBytes(parts[i]))
            {
                if (char.IsAsciiLetterOrDigit((char)b))
                {
                    id.Append((char)b);
                }
                else
                {
                    id.Append('_').Append(b.ToString("x2", CultureInfo.InvariantCulture));
                }
            }
        }

        return id.ToString();
    }
}
