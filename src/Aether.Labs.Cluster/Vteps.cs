using System.Net;

namespace Aether.Labs.Cluster;

/// <summary>What the caller of <see cref="ClusterStore.AttachAsync"/> or <see cref="ClusterStore.DetachAsync"/>
/// must do to the kernel (or the switch).</summary>
public enum VtepAction
{
    /// <summary>Nothing: the VTEP existed before and still does (or the link was not attached).</summary>
    None,

    /// <summary>The VTEP was created with this, its first link: create the port.</summary>
    CreatePort,

    /// <summary>The VTEP was deleted with this, its last link: delete the port.</summary>
    DeletePort,
}

/// <summary>A VTEP of a lab: the tunnel port on <see cref="Host"/> towards <see cref="Remote"/>, shared by the
/// lab's links between the two.</summary>
/// <param name="Id">The row's id.</param>
/// <param name="Lab">The lab.</param>
/// <param name="Host">Where the port is.</param>
/// <param name="Remote">The host at the tunnel's other end.</param>
/// <param name="PortName">The port's name (at most 15 bytes; see <see cref="VtepNames"/>).</param>
/// <param name="Vni">The VNI (flow key) of the tunnel: the same on both hosts' VTEPs of the pair.</param>
/// <param name="LocalUnderlay">The host's underlay address.</param>
/// <param name="RemoteUnderlay">The remote host's underlay address.</param>
public sealed record Vtep(long Id, string Lab, HostId Host, HostId Remote, string PortName, int Vni, IPAddress LocalUnderlay, IPAddress RemoteUnderlay);

/// <summary>What an attach or detach did.</summary>
/// <param name="Action">What to do to the port.</param>
/// <param name="Vtep">The VTEP (as it was, for <see cref="VtepAction.DeletePort"/>), or null when a detach found
/// none.</param>
/// <param name="LinkCount">The VTEP's links afterwards.</param>
/// <param name="Changed">Whether a link was attached or detached (false: it already was, or was not).</param>
public sealed record VtepChange(VtepAction Action, Vtep? Vtep, int LinkCount, bool Changed);

/// <summary>A VTEP with the links that use it (<c>GET /v1/labs/{lab}/tunnels</c>).</summary>
/// <param name="Vtep">The VTEP.</param>
/// <param name="Links">Its links' ids, sorted.</param>
public sealed record Tunnel(Vtep Vtep, IReadOnlyList<string> Links)
{
    /// <summary>How many links use it (never 0: the VTEP goes with its last link).</summary>
    public int LinkCount => Links.Count;
}
