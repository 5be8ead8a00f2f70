namespace Aether.Labs;

/// <summary>How a lab's links are carried.</summary>
public enum LabFabric
{
    /// <summary>Each link is a veth pair straight between the two node namespaces (the default).</summary>
    Veth,

    /// <summary>Each node interface is a veth whose outer end is a port of the lab's Open vSwitch bridge; a link is a
    /// VLAN tag that both of its ports carry.</summary>
    Ovs,
}

/// <summary>A lab, validated: every node and link resolved, every interface name mapped.</summary>
/// <param name="Name">The lab's name (<c>[a-z0-9][a-z0-9_-]*</c>, at most <see cref="LabNames.MaxLabNameLength"/>
/// characters, short enough for its namespaces' names).</param>
public sealed partial record LabSpec(string Name)
{
    /// <summary>How links are carried.</summary>
    public LabFabric Fabric { get; init; } = LabFabric.Veth;

    /// <summary>The nodes, in file order.</summary>
    public IReadOnlyList<LabNode> Nodes { get; init; } = [];

    /// <summary>The links, in file order.</summary>
    public IReadOnlyList<LabLink> Links { get; init; } = [];

    /// <summary>How cross-host links make room for VXLAN's overhead (only meaningful when the nodes are placed on
    /// hosts).</summary>
    public CrossHostMtu CrossHostMtu { get; init; } = CrossHostMtu.Lower;

    /// <summary>What carries a cross-host link that names no <see cref="LabLink.Transport"/>
    /// (<c>cross_host: { transport: ... }</c>).</summary>
    public CrossHostTransport CrossHostTransport { get; init; } = CrossHostTransport.Vxlan;

    /// <summary>The file it was read from, or null.</summary>
    public string? SourcePath { get; init; }
}

/// <summary>A node: a network namespace of a device kind.</summary>
/// <param name="Name">The node's name in the lab (<c>r1</c>).</param>
/// <param name="Kind">Its device kind (<c>arista_ceos</c>), which picks its interface naming profile.</param>
/// <param name="Namespace">Its network namespace (<c>LAB-NODE</c> unless the file names one).</param>
public sealed record LabNode(string Name, string Kind, string Namespace)
{
    /// <summary>The process run inside the namespace, supervised, or empty for none.</summary>
    public IReadOnlyList<string> Exec { get; init; } = [];

    /// <summary>The host it is placed on (<c>host: h1</c>), or null when the lab is not placed (it runs on the one
    /// machine that deploys it). A lab places all its nodes or none.</summary>
    public HostId? Host { get; init; }

    /// <summary>Whether the file let the controller place it (<c>host: auto</c>): <see cref="Host"/> is null until the
    /// lab is given its placements (<see cref="LabSpec.WithPlacements"/>).</summary>
    public bool AutoHost { get; init; }
}

/// <summary>One end of a link: a node's interface, under both of its names.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Linux">The Linux name, what the kernel holds (<c>eth1</c>).</param>
/// <param name="Vendor">The vendor name as the file wrote it, or as the profile maps the Linux name
/// (<c>Ethernet1</c>).</param>
public sealed record LabEndpoint(string Node, string Linux, string Vendor)
{
    /// <summary><c>node:linux</c>, the form identities are made of.</summary>
    public string Key => Node + ":" + Linux;

    /// <inheritdoc/>
    public override string ToString() => Node + ":" + Vendor;
}

/// <summary>A link's identity: its two endpoints by Linux name, in order, so that <c>r1:Ethernet1-r2:ge-0/0/0</c>
/// and <c>r2:eth1-r1:eth1</c> are the same link.</summary>
public readonly record struct LinkId
{
    private LinkId(string value) => Value = value;

    /// <summary><c>a:ethN-b:ethM</c> with the smaller endpoint (ordinal) first.</summary>
    public string Value { get; }

    /// <summary>The identity of the link between <paramref name="a"/> and <paramref name="b"/>, either way round.</summary>
    public static LinkId Of(LabEndpoint a, LabEndpoint b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (x, y) = string.CompareOrdinal(a.Key, b.Key) <= 0 ? (a.Key, b.Key) : (b.Key, a.Key);
        return new LinkId(x + "-" + y);
    }

    /// <summary>Reads an identity written by <see cref="Value"/> (as a store keeps it).</summary>
    public static LinkId Parse(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return new LinkId(value);
    }

    /// <inheritdoc/>
    public override string ToString() => Value;
}

/// <summary>A link between two node interfaces.</summary>
/// <param name="A">The first endpoint as written.</param>
/// <param name="B">The second endpoint as written.</param>
public sealed record LabLink(LabEndpoint A, LabEndpoint B)
{
    /// <summary>The MTU of both ends, or null for the kernel's default.</summary>
    public int? Mtu { get; init; }

    /// <summary>What carries the link when its ends are on two hosts (<c>transport:</c>), or null for the lab's
    /// <see cref="LabSpec.CrossHostTransport"/>.</summary>
    public CrossHostTransport? Transport { get; init; }

    /// <summary>The direction-independent identity.</summary>
    public LinkId Id => LinkId.Of(A, B);

    /// <inheritdoc/>
    public override string ToString() => A + "-" + B;
}
