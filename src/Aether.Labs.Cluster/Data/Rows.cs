using System.Net;

namespace Aether.Labs.Cluster.Data;

/// <summary>A row of <c>cluster_hosts</c>.</summary>
internal sealed class HostRow
{
    public required string Id { get; set; }

    public required IPAddress Underlay { get; set; }

    public int? AgentPid { get; set; }

    public string? Version { get; set; }

    public DateTimeOffset RegisteredAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>The host's WireGuard public key (base64), or null before an agent that has one registered it.</summary>
    public string? WireGuardKey { get; set; }
}

/// <summary>A row of <c>cluster_wireguard_tunnels</c>: the WireGuard tunnel of a lab between two hosts (host_a sorts
/// before host_b), with its slot, unique in the cluster (its port and inner addresses follow from it).</summary>
internal sealed class WireGuardTunnelRow
{
    public required string Lab { get; set; }

    public required string HostA { get; set; }

    public required string HostB { get; set; }

    public int Slot { get; set; }

    public DateTimeOffset AllocatedAt { get; set; }
}

/// <summary>A row of <c>cluster_placements</c>.</summary>
internal sealed class PlacementRow
{
    public required string Lab { get; set; }

    public required string Node { get; set; }

    public required string HostId { get; set; }
}

/// <summary>A row of <c>cluster_vnis</c>.</summary>
internal sealed class VniRow
{
    public required string Lab { get; set; }

    public required string Scope { get; set; }

    public required string Key { get; set; }

    public int Vni { get; set; }

    public DateTimeOffset AllocatedAt { get; set; }
}

/// <summary>A row of <c>cluster_link_ends</c>.</summary>
internal sealed class LinkEndRow
{
    public required string Lab { get; set; }

    public required string LinkId { get; set; }

    public required string End { get; set; }

    public required string HostId { get; set; }

    public required string State { get; set; }

    public string? Message { get; set; }

    public DateTimeOffset CheckedAt { get; set; }
}

/// <summary>A row of <c>cluster_vteps</c>.</summary>
internal sealed class VtepRow
{
    public long Id { get; set; }

    public required string Lab { get; set; }

    public required string HostId { get; set; }

    public required string RemoteHostId { get; set; }

    public required string PortName { get; set; }

    public int Vni { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A row of <c>cluster_vtep_links</c>.</summary>
internal sealed class VtepLinkRow
{
    public long VtepId { get; set; }

    public required string LinkId { get; set; }

    public DateTimeOffset AttachedAt { get; set; }
}

/// <summary>A row of <c>cluster_vlan_tags</c>: the VLAN tag of a link of a lab on the ovs fabric, the same on every
/// host.</summary>
internal sealed class VlanTagRow
{
    public required string Lab { get; set; }

    public required string LinkId { get; set; }

    public int Tag { get; set; }

    public DateTimeOffset AllocatedAt { get; set; }
}

/// <summary>A row of <c>cluster_probes</c>: a frame probe of one link run by the agents of its ends' hosts.</summary>
internal sealed class ProbeRow
{
    public long Id { get; set; }

    public required string Lab { get; set; }

    public required string LinkId { get; set; }

    public required string SenderHost { get; set; }

    public required string SenderNamespace { get; set; }

    public required string SenderInterface { get; set; }

    public required string ReceiverHost { get; set; }

    public required string ReceiverNamespace { get; set; }

    public required string ReceiverInterface { get; set; }

    public required byte[] Nonce { get; set; }

    public int TimeoutMs { get; set; }

    public required string State { get; set; }

    public string? Problem { get; set; }

    public double? LatencyMs { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? ListeningAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public DateTimeOffset? ReceivedAt { get; set; }

    public DateTimeOffset? DoneAt { get; set; }
}
