using Aether.Labs;

namespace Aether.Server.Api;

/// <summary><c>POST /v1/labs</c> with a JSON body (a YAML body is the lab file itself).</summary>
/// <param name="Definition">The lab file's text (YAML).</param>
public sealed record LabDeployRequest(string? Definition);

/// <summary><c>PATCH /v1/labs/{lab}/links/{id}</c>.</summary>
/// <param name="State"><c>down</c> (both ends kept down) or <c>up</c>.</param>
public sealed record LinkAdminRequest(string? State);

/// <summary><c>POST /v1/labs/{lab}/links</c>: a link connected to a deployed lab.</summary>
/// <param name="Endpoints">Its two endpoints, <c>node:interface</c>, by vendor or Linux name (<c>r1:Ethernet3</c>).</param>
/// <param name="Mtu">Its MTU (68..65535), or null for the kernel's default.</param>
public sealed record LinkConnectRequest(IReadOnlyList<string?>? Endpoints, int? Mtu);

/// <summary>What keeps a lab: the daemon's runtime for it, a CLI runner, or nothing.</summary>
/// <param name="State"><c>starting</c> (the daemon is bringing it up), <c>running</c> (the daemon's runtime keeps it),
/// <c>cli-runner</c> (an <c>aether lab run</c> keeps it: the daemon runs none beside it), <c>failed</c> (the runtime
/// stopped on an error and is started again after a backoff, or the lab could not be brought up), <c>stopped</c>
/// (nothing keeps it), <c>off</c> (the daemon runs no lab runtimes).</param>
/// <param name="Detail">What it is doing or what went wrong, for people.</param>
/// <param name="RunnerPid">The CLI runner's pid, for <c>cli-runner</c>.</param>
/// <param name="Since">When it entered this state.</param>
/// <param name="LastReport">The runtime's latest report, or null before the first.</param>
public sealed record LabRuntimeInfo(string State, string? Detail, int? RunnerPid, DateTimeOffset Since, LabRuntimeReportInfo? LastReport);

/// <summary>A report of a lab's runtime: a hint-driven repair verified, or the periodic reconciliation.</summary>
/// <param name="Trigger"><c>repair</c> or <c>resync</c>.</param>
/// <param name="At">When.</param>
/// <param name="Up">Links up afterwards.</param>
/// <param name="Down">Links set down.</param>
/// <param name="Errors">Links in error afterwards.</param>
/// <param name="Counts">The reconciliation's counts (<c>resync</c>), else null.</param>
public sealed record LabRuntimeReportInfo(string Trigger, DateTimeOffset At, int Up, int Down, int Errors, ReconcileCounts? Counts);

/// <summary>A lab in <c>GET /v1/labs</c>.</summary>
/// <param name="Lab">Its name.</param>
/// <param name="Fabric"><c>veth</c> or <c>ovs</c>.</param>
/// <param name="Created">When it was first deployed.</param>
/// <param name="Nodes">How many nodes it has.</param>
/// <param name="Links">How many links.</param>
/// <param name="Up">Links up.</param>
/// <param name="Down">Links set down.</param>
/// <param name="Errors">Links in error (or not made yet).</param>
/// <param name="Runtime">What keeps it.</param>
public sealed record LabSummary(string Lab, string Fabric, DateTimeOffset Created, int Nodes, int Links, int Up, int Down, int Errors, LabRuntimeInfo Runtime);

/// <summary><c>GET /v1/labs/{lab}</c>.</summary>
/// <param name="Lab">Its name.</param>
/// <param name="Fabric"><c>veth</c> or <c>ovs</c>.</param>
/// <param name="Created">When it was first deployed.</param>
/// <param name="SourcePath">The file it was deployed from (by <c>aether lab deploy</c>), or null.</param>
/// <param name="Definition">The lab file as stored.</param>
/// <param name="Runtime">What keeps it.</param>
/// <param name="Nodes">Its nodes, in file order.</param>
/// <param name="Links">Its links with their states, in lab order.</param>
public sealed record LabDetails(string Lab, string Fabric, DateTimeOffset Created, string? SourcePath, string Definition, LabRuntimeInfo Runtime, IReadOnlyList<LabNodeInfo> Nodes, IReadOnlyList<LinkView> Links);

/// <summary>A node of <see cref="LabDetails"/>.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Kind">Its device kind.</param>
/// <param name="Namespace">Its network namespace.</param>
/// <param name="Present">Whether the namespace exists.</param>
/// <param name="Exec">The process it runs, or empty.</param>
/// <param name="Process">That process as the daemon supervises it, or null (none, or a CLI runner's).</param>
/// <param name="Interfaces">Its link ends under both names with their links' states.</param>
public sealed record LabNodeInfo(string Name, string Kind, string Namespace, bool Present, IReadOnlyList<string> Exec, NodeProcessInfo? Process, IReadOnlyList<NodeInterfaceSummary> Interfaces);

/// <summary>A node's supervised process.</summary>
/// <param name="State"><c>running</c>, <c>backing-off</c> or <c>stopped</c>.</param>
/// <param name="Pid">Its pid while it runs.</param>
/// <param name="Restarts">Starts tried after the first.</param>
/// <param name="LastExit">How the last run ended (<c>exit status 1</c>, <c>signal 9 (SIGKILL)</c>), or null.</param>
/// <param name="StartedAt">When it was last started.</param>
/// <param name="LastError">Why the last start failed, or why supervision gave up.</param>
public sealed record NodeProcessInfo(string State, int? Pid, int Restarts, string? LastExit, DateTimeOffset? StartedAt, string? LastError);

/// <summary>A node interface in <see cref="LabNodeInfo"/>.</summary>
/// <param name="Vendor">Its vendor name.</param>
/// <param name="Linux">Its Linux name.</param>
/// <param name="Link">The identity of its link.</param>
/// <param name="State">Its link's state, or null when not stored.</param>
public sealed record NodeInterfaceSummary(string Vendor, string Linux, string Link, string? State);

/// <summary><c>GET /v1/labs/{lab}/nodes/{node}/interfaces</c>.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="Node">The node.</param>
/// <param name="Kind">Its device kind.</param>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Interfaces">Its link ends, by Linux name.</param>
public sealed record NodeInterfaces(string Lab, string Node, string Kind, string Namespace, IReadOnlyList<NodeInterfaceInfo> Interfaces);

/// <summary>One interface of a node under both names, its link's state and what the kernel holds.</summary>
/// <param name="Vendor">The vendor name (<c>ge-0/0/0</c>).</param>
/// <param name="Linux">The Linux name (<c>eth1</c>).</param>
/// <param name="Link">The identity of its link.</param>
/// <param name="Peer">The other end, as written (<c>r1:Ethernet1</c>).</param>
/// <param name="State">The link's stored state, or null.</param>
/// <param name="Error">Why the link is in error, or null.</param>
/// <param name="Kernel">What the kernel holds under the Linux name, or null when nothing.</param>
public sealed record NodeInterfaceInfo(string Vendor, string Linux, string Link, string Peer, string? State, string? Error, KernelInterfaceInfo? Kernel);

/// <summary>An interface as the kernel reports it.</summary>
/// <param name="Index">Its ifindex.</param>
/// <param name="Kind">Its kind (<c>veth</c>).</param>
/// <param name="Up">Administratively up.</param>
/// <param name="Carrier">Has carrier.</param>
/// <param name="OperState">The kernel's operational state.</param>
/// <param name="Mtu">Its MTU.</param>
/// <param name="MacAddress">Its MAC address.</param>
/// <param name="Ours">Whether it carries the lab's mark.</param>
public sealed record KernelInterfaceInfo(int Index, string? Kind, bool Up, bool Carrier, string? OperState, int? Mtu, string? MacAddress, bool Ours)
{
    internal static KernelInterfaceInfo? From(InterfaceObservation seen) => seen.Index is { } index
        ? new(index, seen.Kind, seen.Up, seen.Carrier, seen.OperState, seen.Mtu, seen.MacAddress, seen.Ours)
        : null;
}

/// <summary><c>POST /v1/labs/{lab}/interface-mappings/sync</c>.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="Added">Mappings written that were missing.</param>
/// <param name="Removed">Mappings removed (interfaces the lab no longer has).</param>
/// <param name="Updated">Mappings corrected.</param>
/// <param name="Mappings">The mappings as now stored.</param>
/// <param name="Interfaces">What the kernel holds for each.</param>
public sealed record MappingSyncResponse(string Lab, int Added, int Removed, int Updated, IReadOnlyList<InterfaceMapping> Mappings, IReadOnlyList<InterfaceObservation> Interfaces);
