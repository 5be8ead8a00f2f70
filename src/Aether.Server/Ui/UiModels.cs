using Aether.Labs;
using Aether.Server.Api;

namespace Aether.Server.Ui;

/// <summary>A lab as the web view draws it (<c>GET /v1/ui/labs/{lab}</c>, and each <c>lab</c> event of
/// <c>/v1/ui/events</c>): its nodes, its links as the kernel holds them now, with both ends' kernel facts.</summary>
/// <param name="Lab">The lab's name.</param>
/// <param name="Fabric"><c>veth</c> or <c>ovs</c>.</param>
/// <param name="Observed">When the kernel was read.</param>
/// <param name="Runtime">What keeps the lab (its last report has the reconciliation's counts).</param>
/// <param name="Nodes">The nodes.</param>
/// <param name="Links">The links, in lab order.</param>
/// <param name="Error">Why the kernel could not be read, or null.</param>
public sealed record LabUiView(
    string Lab,
    string Fabric,
    DateTimeOffset Observed,
    LabRuntimeInfo Runtime,
    IReadOnlyList<NodeUiView> Nodes,
    IReadOnlyList<LinkUiView> Links,
    string? Error);

/// <summary>A node in <see cref="LabUiView"/>.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Kind">Its kind (<c>arista_ceos</c>).</param>
/// <param name="Host">The host it runs on (this daemon's host name).</param>
/// <param name="Namespace">Its network namespace.</param>
/// <param name="Present">Whether the namespace exists.</param>
/// <param name="Process">Its process's state (<c>running</c>, <c>backing-off</c>, <c>stopped</c>), or null when it
/// runs none.</param>
public sealed record NodeUiView(string Name, string Kind, string Host, string Namespace, bool Present, string? Process);

/// <summary>A link in <see cref="LabUiView"/>.</summary>
/// <param name="Id">Its identity (<c>r1:eth1-r2:eth1</c>).</param>
/// <param name="State"><c>up</c>, <c>down</c>, <c>error</c> as the kernel was read, or <c>pending</c> /
/// <c>creating</c> while an operation makes it.</param>
/// <param name="Stored">The state the store has (what the last verification stored).</param>
/// <param name="Error">Why it is in error, or null.</param>
/// <param name="Vlan">Its VLAN tag on the ovs fabric, or null.</param>
/// <param name="Vni">Its VXLAN network identifier across hosts, or null.</param>
/// <param name="Mtu">The MTU the lab asks for, or null.</param>
/// <param name="Checked">When the store's state was last verified, or null.</param>
/// <param name="A">The first end.</param>
/// <param name="B">The second end.</param>
public sealed record LinkUiView(string Id, string State, string? Stored, string? Error, int? Vlan, int? Vni, int? Mtu, DateTimeOffset? Checked, LinkEndUiView A, LinkEndUiView B);

/// <summary>One end of a link: both names, where it is, and what the kernel holds under its Linux name.</summary>
/// <param name="Node">The node.</param>
/// <param name="Vendor">The vendor name (<c>Ethernet1</c>).</param>
/// <param name="Linux">The Linux name (<c>eth1</c>).</param>
/// <param name="Namespace">The node's namespace.</param>
/// <param name="Peer">The other end (<c>r2:ge-0/0/0</c>).</param>
/// <param name="Kernel">What the kernel holds, or null when nothing is there.</param>
/// <param name="PeerIndex">The ifindex of its veth peer as the kernel says it, or null.</param>
/// <param name="PeerNamespaceId">The nsid under which the peer's namespace is known, or null.</param>
public sealed record LinkEndUiView(string Node, string Vendor, string Linux, string Namespace, string Peer, KernelInterfaceInfo? Kernel, int? PeerIndex, int? PeerNamespaceId);

/// <summary>The <c>overview</c> event of <c>/v1/ui/events</c>: the labs, the daemon's loops and the hub.</summary>
/// <param name="Labs">The labs with their counts and what keeps each (<c>GET /v1/labs</c>), or null without labs.</param>
/// <param name="Status">The daemon and the hub's reconcile loops (<c>GET /v1/status</c>), or null without the hub.</param>
/// <param name="Hub">The hub's networks, peers, handshakes and transfer (<c>GET /v1/hub/status</c>), or null.</param>
/// <param name="Error">What could not be read, or null.</param>
public sealed record UiOverview(IReadOnlyList<LabSummary>? Labs, DaemonStatus? Status, Aether.Hub.HubStatus? Hub, string? Error);
