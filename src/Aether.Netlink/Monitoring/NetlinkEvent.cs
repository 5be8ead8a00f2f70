using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Monitoring;

/// <summary>Which rtnetlink multicast groups a monitor joins.</summary>
[Flags]
public enum MonitorGroups
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary><c>RTNLGRP_LINK</c>.</summary>
    Links = 1,

    /// <summary><c>RTNLGRP_IPV4_IFADDR</c>.</summary>
    IPv4Addresses = 2,

    /// <summary><c>RTNLGRP_IPV6_IFADDR</c>.</summary>
    IPv6Addresses = 4,

    /// <summary><c>RTNLGRP_IPV4_ROUTE</c>.</summary>
    IPv4Routes = 8,

    /// <summary><c>RTNLGRP_IPV6_ROUTE</c>.</summary>
    IPv6Routes = 16,

    /// <summary><c>RTNLGRP_NEIGH</c>.</summary>
    Neighbours = 32,

    /// <summary><c>RTNLGRP_NSID</c>.</summary>
    NsIds = 64,

    /// <summary>Both address families.</summary>
    Addresses = IPv4Addresses | IPv6Addresses,

    /// <summary>Both route families.</summary>
    Routes = IPv4Routes | IPv6Routes,

    /// <summary>Everything above.</summary>
    All = Links | Addresses | Routes | Neighbours | NsIds,
}

/// <summary>How a monitor is set up.</summary>
public sealed record MonitorOptions
{
    /// <summary>The defaults: no listing, the kernel's receive buffer size.</summary>
    public static MonitorOptions Default { get; } = new();

    /// <summary>First list what exists (links, addresses, routes, neighbours of the joined groups) on the already
    /// subscribed socket, so nothing changes unseen between the list and the watch; then <see cref="ListingComplete"/>.</summary>
    public bool ListExisting { get; init; }

    /// <summary>The socket's receive buffer in bytes; small values make overruns likely.</summary>
    public int? ReceiveBufferSize { get; init; }
}

/// <summary>Something the kernel announced (or listed, when <see cref="MonitorOptions.ListExisting"/> is set).</summary>
public abstract record NetlinkEvent
{
    /// <summary>True for an <c>RTM_DEL*</c> announcement.</summary>
    public bool Deleted { get; init; }
}

/// <summary>A link appeared, changed or went away.</summary>
/// <param name="Link">The link as announced.</param>
public sealed record LinkEvent(Link Link) : NetlinkEvent;

/// <summary>An address was added or removed.</summary>
/// <param name="Address">The address.</param>
public sealed record AddressEvent(Address Address) : NetlinkEvent;

/// <summary>A route was added, replaced or removed.</summary>
/// <param name="Route">The route.</param>
public sealed record RouteEvent(Route Route) : NetlinkEvent;

/// <summary>A neighbour entry changed.</summary>
/// <param name="Neighbour">The entry.</param>
public sealed record NeighbourEvent(Neighbour Neighbour) : NetlinkEvent;

/// <summary>A namespace id was assigned or released in the watched namespace.</summary>
/// <param name="NsId">The id.</param>
public sealed record NsIdEvent(int NsId) : NetlinkEvent;

/// <summary>
/// The kernel dropped announcements because the socket's receive queue was full (<c>ENOBUFS</c>). The stream goes
/// on; the consumer must re-read the state it cares about (resync), since some changes were not seen.
/// </summary>
public sealed record OverrunEvent : NetlinkEvent;

/// <summary>The listing asked for with <see cref="MonitorOptions.ListExisting"/> is complete; what follows is live.</summary>
public sealed record ListingComplete : NetlinkEvent;
