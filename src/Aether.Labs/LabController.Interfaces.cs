using Aether.Netlink.Rtnl;

namespace Aether.Labs;

/// <summary>One interface of a lab node (an end of one of its links) under both of its names, and what the kernel
/// holds under its Linux name.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Namespace">The node's namespace.</param>
/// <param name="Linux">The Linux name (<c>eth1</c>).</param>
/// <param name="Vendor">The vendor name (<c>Ethernet1</c>).</param>
public sealed record InterfaceObservation(string Node, string Namespace, string Linux, string Vendor)
{
    /// <summary>Whether the kernel holds an interface of that name in the node's namespace.</summary>
    public bool Present => Index is not null;

    /// <summary>Its ifindex, or null when it is missing.</summary>
    public int? Index { get; init; }

    /// <summary>Its kind (<c>veth</c>), or null.</summary>
    public string? Kind { get; init; }

    /// <summary>Whether it is administratively up.</summary>
    public bool Up { get; init; }

    /// <summary>Whether it has carrier (its peer is up too, for a veth).</summary>
    public bool Carrier { get; init; }

    /// <summary>Its operational state as the kernel says it (<c>up</c>, <c>down</c>, <c>lowerlayerdown</c>), or null.</summary>
    public string? OperState { get; init; }

    /// <summary>Its MTU, or null.</summary>
    public int? Mtu { get; init; }

    /// <summary>Its MAC address, or null.</summary>
    public string? MacAddress { get; init; }

    /// <summary>Whether it carries the lab's mark (it is the lab's, not someone else's of the same name).</summary>
    public bool Ours { get; init; }

    /// <summary>Why the node's namespace could not be read (it is missing), or null.</summary>
    public string? NamespaceMissing { get; init; }

    /// <summary>The ifindex of its peer (a veth's other end), as the kernel says it, or null.</summary>
    public int? PeerIndex { get; init; }

    /// <summary>The nsid under which its namespace knows the peer's namespace, or null when the peer is in the same
    /// namespace (or it has no peer).</summary>
    public int? PeerNamespaceId { get; init; }
}

/// <summary>What a rewrite of a lab's interface mappings changed (<see cref="LabController.SyncMappingsAsync"/>).</summary>
/// <param name="Mappings">The mappings as now stored.</param>
/// <param name="Added">Mappings that were not stored.</param>
/// <param name="Removed">Stored mappings of interfaces the lab no longer has.</param>
/// <param name="Updated">Stored mappings that differed (vendor name, kind, OVS port, bridge or tag).</param>
/// <param name="Interfaces">What the kernel holds for each of them.</param>
public sealed record MappingSync(IReadOnlyList<InterfaceMapping> Mappings, int Added, int Removed, int Updated, IReadOnlyList<InterfaceObservation> Interfaces);

public sealed partial class LabController
{
    /// <summary>Reads every node interface the lab's links use from the kernel, in the order of <see cref="Mappings"/>.
    /// Changes nothing.</summary>
    public async Task<IReadOnlyList<InterfaceObservation>> ReadInterfacesAsync(CancellationToken cancellationToken = default)
    {
        using var observed = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false);
        return Interfaces(observed);
    }

    /// <summary>What <paramref name="observed"/> holds for each link end.</summary>
    private List<InterfaceObservation> Interfaces(LabObservation observed)
    {
        var mark = LabTopology.MarkOf(_lab.Name);
        return [.. Mappings().Select(m =>
        {
            var ns = _nodes[m.Node].Namespace;
            var seen = new InterfaceObservation(m.Node, ns, m.Linux, m.Vendor) { NamespaceMissing = observed.Missing.GetValueOrDefault(ns) };
            return observed.Find(ns, m.Linux) is not { } link ? seen : seen with
            {
                Index = link.Index,
                Kind = link.Kind,
                Up = link.IsUp,
                Carrier = link.IsLowerUp,
                OperState = OperStateName(link.OperState),
                Mtu = link.Mtu,
                MacAddress = link.MacAddress,
                Ours = string.Equals(link.Alias, mark, StringComparison.Ordinal),
                PeerIndex = link.LinkIndex,
                PeerNamespaceId = link.LinkNetNsId,
            };
        })];
    }

    /// <summary>
    /// Rewrites the lab's interface mappings from the lab (each link end under both names, with its node's kind) and
    /// what the fabric holds for it, and returns what changed with what the kernel holds for each interface. On the
    /// ovs fabric each mapping has its port, the lab's bridge and its link's stored tag; on the veth fabric those stay
    /// empty.
    /// </summary>
    public async Task<MappingSync> SyncMappingsAsync(CancellationToken cancellationToken = default)
    {
        var interfaces = await ReadInterfacesAsync(cancellationToken).ConfigureAwait(false);
        var desired = Mappings(TagsOf(await StoredAsync(cancellationToken).ConfigureAwait(false)));
        var stored = (await _store.GetMappingsAsync(_lab.Name, cancellationToken).ConfigureAwait(false))
            .ToDictionary(m => (m.Node, m.Linux));
        var added = desired.Count(m => !stored.ContainsKey((m.Node, m.Linux)));
        var updated = desired.Count(m => stored.TryGetValue((m.Node, m.Linux), out var old) && old != m);
        var removed = stored.Keys.Except(desired.Select(m => (m.Node, m.Linux))).Count();
        await _store.SetMappingsAsync(_lab.Name, desired, cancellationToken).ConfigureAwait(false);
        return new MappingSync(desired, added, removed, updated, interfaces);
    }

    private static string OperStateName(OperState state) => state switch
    {
        OperState.Unknown => "unknown",
        OperState.NotPresent => "notpresent",
        OperState.Down => "down",
        OperState.LowerLayerDown => "lowerlayerdown",
        OperState.Testing => "testing",
        OperState.Dormant => "dormant",
        OperState.Up => "up",
        _ => state.ToString(),
    };
}
