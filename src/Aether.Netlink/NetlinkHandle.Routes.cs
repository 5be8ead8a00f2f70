using System.Net;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink;

/// <summary>Routes, neighbours and namespace ids.</summary>
public sealed partial class NetlinkHandle
{
    /// <summary>Routes, filtered in the kernel by family, table and output device.</summary>
    public Task<IReadOnlyList<Route>> ListRoutesAsync(RouteFilter? filter = null, CancellationToken cancellationToken = default) =>
        DumpAsync(filter ?? RouteFilter.All, RtnlRequests.DumpRoutes, RtnlRequests.ParseRoute, "list routes", cancellationToken);

    /// <summary>Adds a route; <c>EEXIST</c> when an equal one is there.</summary>
    public Task AddRouteAsync(Route route, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        return ExecuteAsync(route, RtnlRequests.AddRoute, "add route", RtnlRequests.RouteTarget(route), cancellationToken);
    }

    /// <summary>Adds a route or replaces the one with the same destination, table and metric.</summary>
    public Task ReplaceRouteAsync(Route route, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        return ExecuteAsync(route, RtnlRequests.ReplaceRoute, "replace route", RtnlRequests.RouteTarget(route), cancellationToken);
    }

    /// <summary>Deletes a route; <c>ESRCH</c> when there is none.</summary>
    public Task DeleteRouteAsync(Route route, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        return ExecuteAsync(route, RtnlRequests.DeleteRoute, "delete route", RtnlRequests.RouteTarget(route), cancellationToken);
    }

    /// <summary>Neighbour entries, optionally of one link.</summary>
    public Task<IReadOnlyList<Neighbour>> ListNeighboursAsync(int index = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return DumpAsync(index, RtnlRequests.DumpNeighbours, RtnlRequests.ParseNeighbour, "list neighbours", cancellationToken);
    }

    /// <summary>Adds (or replaces) a permanent neighbour entry.</summary>
    public Task AddNeighbourAsync(int index, IPAddress address, string linkLayerAddress, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentNullException.ThrowIfNull(address);
        MacAddress.Parse(linkLayerAddress);
        return ExecuteAsync((index, address, (string?)linkLayerAddress), RtnlRequests.AddNeighbour, "add neighbour", address.ToString(), cancellationToken);
    }

    /// <summary>Deletes a neighbour entry.</summary>
    public Task DeleteNeighbourAsync(int index, IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentNullException.ThrowIfNull(address);
        return ExecuteAsync((index, address, (string?)null), RtnlRequests.DeleteNeighbour, "delete neighbour", address.ToString(), cancellationToken);
    }

    /// <summary>The nsid this namespace uses for <paramref name="other"/>, or <see cref="NsId.NotAssigned"/>.</summary>
    public Task<int> GetNsIdAsync(NetworkNamespace other, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(other);
        return RequestAsync(other.Fd, RtnlRequests.GetNsId, RtnlRequests.ParseNsId, "get nsid", other.ToString(), cancellationToken);
    }

    /// <summary>The nsids this namespace uses for each of <paramref name="others"/> (<see cref="NsId.NotAssigned"/> where
    /// there is none), asked in one batch: a few sends instead of one round trip per namespace.</summary>
    public Task<int[]> GetNsIdsAsync(IReadOnlyList<NetworkNamespace> others, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(others);
        ThrowIfClosed();
        return _socket.RequestManyAsync(others, static (ref w, ns, seq, pid) => RtnlRequests.GetNsId(ref w, ns.Fd, seq, pid), RtnlRequests.ParseNsId, "get nsid", static ns => ns.ToString(), cancellationToken);
    }

    /// <summary>Gives <paramref name="other"/> an nsid in this namespace, the kernel's choice (<c>ip netns set NAME
    /// auto</c>); <c>EEXIST</c> when it has one.</summary>
    internal Task AssignNsIdAsync(NetworkNamespace other, CancellationToken cancellationToken = default) =>
        ExecuteAsync((other.Fd, NsId.NotAssigned), RtnlRequests.SetNsId, "set nsid", other.ToString(), cancellationToken);

    /// <summary>Assigns <paramref name="nsid"/> to <paramref name="other"/> in this namespace.</summary>
    public Task SetNsIdAsync(NetworkNamespace other, int nsid, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentOutOfRangeException.ThrowIfNegative(nsid);
        return ExecuteAsync((other.Fd, nsid), RtnlRequests.SetNsId, "set nsid", other.ToString(), cancellationToken);
    }
}
