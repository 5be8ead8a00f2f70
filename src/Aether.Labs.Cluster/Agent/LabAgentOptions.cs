using System.Net;
using Aether.Ovsdb;
using Aether.Topology;

namespace Aether.Labs.Cluster.Agent;

/// <summary>How an agent runs: which host it is, its underlay, and its timings.</summary>
/// <param name="Host">The host it reconciles (its id in the cluster's tables).</param>
/// <param name="Underlay">The address other hosts reach it at: the local end of its tunnels.</param>
public sealed record LabAgentOptions(HostId Host, IPAddress Underlay)
{
    /// <summary>The namespace that is this host (its underlay and tunnels run there); null for the namespace the agent
    /// runs in.</summary>
    public string? HostNamespace { get; init; }

    /// <summary>Where this host's ovsdb-server listens, for labs on the ovs fabric (its ovs-vswitchd runs in the host's
    /// namespace); null: this agent keeps no ovs lab (their ends report that).</summary>
    public OvsdbEndpoint? Ovsdb { get; init; }

    /// <summary>Where the per-lab topology records live (<c>lab-NAME@HOST/records.json</c>).</summary>
    public string StateDirectory { get; init; } = new ControllerOptions().StateDirectory;

    /// <summary>The full pass between hints: what a lost notification costs at most.</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the node namespaces' links must be quiet, after the kernel announced a change there, before
    /// the change wakes a pass (a burst is one pass); null watches no kernel events (drift waits for
    /// <see cref="Resync"/>).</summary>
    public TimeSpan? KernelDebounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the host says it is alive.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A host silent for longer is unreachable (its links are <c>error</c>).</summary>
    public TimeSpan HostTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
