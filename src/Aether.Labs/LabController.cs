using Aether.Topology;

namespace Aether.Labs;

/// <summary>Where a lab's controller keeps its state.</summary>
public sealed record LabOptions
{
    /// <summary>The state root: the lab's topology records go to <c>STATE/lab-NAME</c>, its node logs to
    /// <c>STATE/labs/NAME</c>. Default <c>/var/lib/aether</c>, or <c>AETHER_STATE_DIR</c>.</summary>
    public string StateDirectory { get; init; } = new ControllerOptions().StateDirectory;

    /// <summary>Where ovsdb-server listens, for labs on the ovs fabric (default
    /// <c>unix:/var/run/openvswitch/db.sock</c>).</summary>
    public Aether.Ovsdb.OvsdbEndpoint Ovsdb { get; init; } = Aether.Ovsdb.OvsdbEndpoint.Default;

    /// <summary>The network namespace ovs-vswitchd runs in, where the bridge's ports (the veths' outer ends) must be;
    /// null for the host's.</summary>
    public string? SwitchNamespace { get; init; }
}

/// <summary>What a reconciliation found and did (the reference's counts).</summary>
/// <param name="Checked">Links verified.</param>
/// <param name="Valid">Links whole at the first look.</param>
/// <param name="Repaired">Links broken at the first look and whole after the repair.</param>
/// <param name="Errors">Links still broken after the repair (stored as <see cref="LinkStatus.Error"/>).</param>
public sealed record ReconcileCounts(int Checked, int Valid, int Repaired, int Errors);

/// <summary>What deploy, verify or reconcile left: every link's state as stored, and what the engine did.</summary>
/// <param name="Links">Every link's state, in lab order.</param>
/// <param name="Lines">What the topology engine changed (empty for a verification).</param>
/// <param name="Error">The failure that stopped the engine, with the kernel's text, or null.</param>
public sealed record LabResult(IReadOnlyList<LinkState> Links, IReadOnlyList<ChangeLine> Lines, string? Error)
{
    /// <summary>Whether every link is up (or down as set).</summary>
    public bool AllUp => Links.All(l => l.Status is LinkStatus.Up or LinkStatus.Down);

    /// <summary>How long a frame took across each link (the slower direction), for a deep verification.</summary>
    public IReadOnlyDictionary<LinkId, TimeSpan> FrameLatencies { get; init; } = new Dictionary<LinkId, TimeSpan>();

    /// <summary>The counts, for a reconciliation; null otherwise.</summary>
    public ReconcileCounts? Counts { get; init; }
}

/// <summary>
/// Deploys, verifies, reconciles and destroys one lab on the topology engine: the lab is compiled to a topology
/// (<see cref="LabTopology"/>) and applied by a <see cref="TopologyController"/>; a link is stored as up only once
/// <see cref="LinkVerifier"/> has read it whole from the kernel; a link that cannot be made or verified has what of it
/// exists removed and is stored as an error with the reason.
/// </summary>
public sealed partial class LabController
{
    private readonly LabSpec _lab;
    private readonly Dictionary<string, LabNode> _nodes; // by name, worked out once
    private readonly ILabStore _store;
    private readonly LabOptions _options;

    /// <summary>Creates the controller of a validated lab.</summary>
    public LabController(LabSpec lab, ILabStore store, LabOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(store);
        _lab = lab;
        _nodes = lab.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        _store = store;
        _options = options ?? new LabOptions();
    }

    /// <summary>The lab.</summary>
    public LabSpec Lab => _lab;

    /// <summary>Where the lab's node logs go.</summary>
    public string LabDirectory => Path.Combine(_options.StateDirectory, "labs", _lab.Name);

    private TopologyController Topology(IReadOnlySet<LinkId>? excluded, IReadOnlySet<LinkId>? down) =>
        new(LabTopology.Compile(_lab, excluded, down, IsOvs ? _options.SwitchNamespace : null), new ControllerOptions { StateDirectory = _options.StateDirectory });

    private bool IsOvs => _lab.Fabric == LabFabric.Ovs;

    /// <summary>Where the ovs fabric's ports are, as <see cref="LabObservation"/> names namespaces.</summary>
    private string SwitchScope => _options.SwitchNamespace ?? LabObservation.Host;

    private IEnumerable<string> Namespaces => IsOvs ? _lab.Nodes.Select(n => n.Namespace).Append(SwitchScope) : _lab.Nodes.Select(n => n.Namespace);

    /// <summary>The interface mappings of the lab: one per node interface that a link uses, with its port, bridge and
    /// tag on the ovs fabric.</summary>
    public IReadOnlyList<InterfaceMapping> Mappings(IReadOnlyDictionary<LinkId, int>? tags = null)
    {
        return [.. _lab.Links
            .SelectMany(l => new[] { (End: l.A, l.Id), (End: l.B, l.Id) })
            .OrderBy(e => e.End.Node, StringComparer.Ordinal).ThenBy(e => e.End.Linux, StringComparer.Ordinal)
            .Select(e => new InterfaceMapping(e.End.Node, e.End.Linux, e.End.Vendor, _nodes[e.End.Node].Kind)
            {
                OvsPort = IsOvs ? OvsFabric.PortOf(_lab.Name, e.End) : null,
                OvsBridge = IsOvs ? OvsFabric.BridgeOf(_lab.Name) : null,
                VlanTag = IsOvs && tags is not null && tags.TryGetValue(e.Id, out var tag) ? tag : null,
            })];
    }
}
