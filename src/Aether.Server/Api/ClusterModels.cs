using System.Text.Json.Serialization;
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;

namespace Aether.Server.Api;

/// <summary><c>GET /v1/cluster</c>: this controller's role, the leader, the hosts.</summary>
/// <param name="Role"><c>leader</c> or <c>follower</c>.</param>
/// <param name="Name">This controller (<c>aether serve HOST pid N</c>).</param>
/// <param name="Since">When it took this role.</param>
/// <param name="Leader">The leader as the database sees it, or null when nobody holds the lock.</param>
/// <param name="Error">Why the last election attempt failed (the database's message), or null.</param>
/// <param name="LastSweep">When the leader last swept the rows of gone labs, and what it removed (null on a follower
/// that never led).</param>
/// <param name="Hosts">Every registered host.</param>
public sealed record ClusterView(string Role, string Name, DateTimeOffset Since, LeaderView? Leader, string? Error, SweepView? LastSweep, IReadOnlyList<HostView> Hosts);

/// <summary>The leading controller.</summary>
/// <param name="Name">Its <c>application_name</c>, or null when the database does not show it.</param>
/// <param name="BackendPid">The database server process of its lock's connection.</param>
/// <param name="Client">The address it connected from, or null (unix socket).</param>
/// <param name="Since">When that connection began.</param>
/// <param name="Self">Whether it is this controller.</param>
public sealed record LeaderView(string? Name, int BackendPid, string? Client, DateTimeOffset Since, bool Self);

/// <summary>A sweep of gone labs' rows.</summary>
/// <param name="At">When.</param>
/// <param name="Placements">Placements removed.</param>
/// <param name="Vteps">VTEP rows removed (on stopped hosts).</param>
/// <param name="LinkEnds">Link-end reports removed (from stopped hosts).</param>
/// <param name="Vnis">VNIs released.</param>
public sealed record SweepView(DateTimeOffset At, int Placements, int Vteps, int LinkEnds, int Vnis);

/// <summary>A registered host.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Underlay">Its underlay address.</param>
/// <param name="State"><c>up</c> or <c>unreachable since 2026-12-06T10:14:19Z</c>.</param>
/// <param name="Up">Whether it heartbeat within the timeout (10 s).</param>
/// <param name="LastSeen">Its last heartbeat.</param>
public sealed record HostView(string Id, string Underlay, string State, bool Up, DateTimeOffset LastSeen)
{
    /// <summary>The view of <paramref name="host"/>.</summary>
    public static HostView From(HostStatus host) => new(host.Id.Value, host.Underlay.ToString(), host.Describe(), host.Alive, host.LastSeen);
}

/// <summary>A placed lab (<c>POST /v1/labs</c>, <c>GET /v1/labs/{lab}</c> and <c>/links</c> of a lab with
/// <c>host:</c>): its links as both ends' agents report them, and its hosts.</summary>
/// <param name="Command"><c>deploy</c>, <c>get</c> or <c>links</c>.</param>
/// <param name="Lab">The lab.</param>
/// <param name="Placed">Always true: the lab's nodes run on hosts.</param>
/// <param name="Definition">The lab file as stored (<c>get</c>), else null.</param>
/// <param name="Nodes">Each node's host (<c>get</c>), else null.</param>
/// <param name="Hosts">The lab's hosts.</param>
/// <param name="Links">Every link.</param>
/// <param name="Up">Links up on both ends.</param>
public sealed record PlacedLabView(string Command, string Lab, bool Placed, string? Definition, IReadOnlyDictionary<string, string>? Nodes, IReadOnlyList<HostView> Hosts, IReadOnlyList<PlacedLinkView> Links, int Up)
{
    /// <summary>The view of <paramref name="status"/>.</summary>
    public static PlacedLabView From(string command, ClusterLabStatus status, string? definition = null, IReadOnlyDictionary<string, string>? nodes = null) =>
        new(command, status.Lab, true, definition, nodes, [.. status.Hosts.Select(HostView.From)], [.. status.Links.Select(PlacedLinkView.From)], status.Links.Count(l => l.State == LinkEndState.Up));
}

/// <summary>A placed lab's link.</summary>
/// <param name="Id">Its id.</param>
/// <param name="State"><c>up</c> (both ends), <c>down</c> or <c>error</c>.</param>
/// <param name="Message">Why it is not up (<c>host h2 unreachable since …</c>), or null.</param>
/// <param name="A">End A as its agent reported it, or null before it did.</param>
/// <param name="B">End B, likewise.</param>
public sealed record PlacedLinkView(string Id, string State, string? Message, LinkEndView? A, LinkEndView? B)
{
    /// <summary>The view of <paramref name="link"/>.</summary>
    public static PlacedLinkView From(ClusterLinkStatus link) => new(link.LinkId, Name(link.State), link.Message, LinkEndView.From(link.A), LinkEndView.From(link.B));

    /// <summary><c>up</c>, <c>down</c> or <c>error</c>.</summary>
    public static string Name(LinkEndState state) => state switch
    {
        LinkEndState.Up => "up",
        LinkEndState.Down => "down",
        _ => "error",
    };
}

/// <summary>One end of a placed lab's link.</summary>
/// <param name="Host">The host it is on.</param>
/// <param name="State">Its state (an end on an unreachable host is <c>error</c>).</param>
/// <param name="Message">What its agent said, or <c>host h2 unreachable since …</c>.</param>
/// <param name="CheckedAt">When its agent last checked it.</param>
public sealed record LinkEndView(string Host, string State, string? Message, DateTimeOffset CheckedAt)
{
    /// <summary>The view of <paramref name="end"/>, or null.</summary>
    public static LinkEndView? From(LinkEndStatus? end) => end is null ? null : new(end.Host.Value, PlacedLinkView.Name(end.State), end.Message, end.CheckedAt);
}

/// <summary><c>GET /v1/labs/{lab}/tunnels</c>.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="Tunnels">Its VTEPs, by host then remote.</param>
public sealed record TunnelsView(string Lab, IReadOnlyList<TunnelView> Tunnels);

/// <summary>A VTEP with the links that use it.</summary>
/// <param name="Host">Where its port is.</param>
/// <param name="Remote">The host at the other end.</param>
/// <param name="Port">The port's name.</param>
/// <param name="Vni">The tunnel's VNI (the same on both hosts' VTEPs of the pair).</param>
/// <param name="Local">The host's underlay address.</param>
/// <param name="RemoteIp">The remote host's underlay address.</param>
/// <param name="LinkCount">How many links use it (never 0).</param>
/// <param name="Links">Their ids, sorted.</param>
public sealed record TunnelView(
    string Host,
    string Remote,
    string Port,
    int Vni,
    string Local,
    [property: JsonPropertyName("remote_ip")] string RemoteIp,
    [property: JsonPropertyName("link_count")] int LinkCount,
    IReadOnlyList<string> Links)
{
    /// <summary>The view of <paramref name="tunnel"/>.</summary>
    public static TunnelView From(Tunnel tunnel) => new(
        tunnel.Vtep.Host.Value, tunnel.Vtep.Remote.Value, tunnel.Vtep.PortName, tunnel.Vtep.Vni, tunnel.Vtep.LocalUnderlay.ToString(), tunnel.Vtep.RemoteUnderlay.ToString(), tunnel.LinkCount, tunnel.Links);
}

/// <summary><c>POST /v1/overlay/detach-link</c> (the reference's explicit detach): link <c>link_id</c> of lab
/// <c>lab</c> leaves the VTEP on <c>host</c> towards <c>remote</c> (a host id) or <c>remote_ip</c> (that host's
/// underlay address: one of the two).</summary>
/// <param name="Lab">The lab.</param>
/// <param name="LinkId">The link's id.</param>
/// <param name="Host">The host whose VTEP it leaves.</param>
/// <param name="Remote">The VTEP's remote host, by id.</param>
/// <param name="RemoteIp">The VTEP's remote host, by underlay address.</param>
public sealed record DetachLinkRequest(
    string? Lab,
    [property: JsonPropertyName("link_id")] string? LinkId,
    string? Host,
    string? Remote,
    [property: JsonPropertyName("remote_ip")] string? RemoteIp);

/// <summary>What a detach did.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="LinkId">The link.</param>
/// <param name="Host">The VTEP's host.</param>
/// <param name="Remote">Its remote host.</param>
/// <param name="Detached">Whether the link was attached (and now is not).</param>
/// <param name="VtepDeleted">Whether the VTEP went with its last link (its agent deletes the port).</param>
/// <param name="LinkCount">The VTEP's links afterwards.</param>
public sealed record DetachLinkResponse(
    string Lab,
    [property: JsonPropertyName("link_id")] string LinkId,
    string Host,
    string Remote,
    bool Detached,
    [property: JsonPropertyName("vtep_deleted")] bool VtepDeleted,
    [property: JsonPropertyName("link_count")] int LinkCount);
