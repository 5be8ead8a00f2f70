namespace Aether.Netlink.Rtnl;

/// <summary>
/// rtnetlink requests queued on one handle and sent together (see <see cref="NetlinkBatch"/>). Each request is
/// validated as it is queued; the kernel runs them in order, so a link created early in a batch can be named by
/// later requests in it.
/// </summary>
public sealed class RouteBatch : NetlinkBatch
{
    internal RouteBatch(NetlinkSocket socket)
        : base(socket)
    {
    }

    /// <summary>Queues a link creation.</summary>
    public RouteBatch CreateLink(LinkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Add(spec, RtnlRequests.CreateLink, RtnlRequests.CreateOperation(spec), spec.Name);
        return this;
    }

    /// <summary>Queues a link change.</summary>
    public RouteBatch SetLink(LinkRef link, LinkChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        change.Validate();
        Add((link, change), RtnlRequests.ChangeLink, "set link", link.ToString());
        return this;
    }

    /// <summary>Queues a link deletion.</summary>
    public RouteBatch DeleteLink(LinkRef link)
    {
        Add(link, RtnlRequests.DeleteLink, "delete link", link.ToString());
        return this;
    }

    /// <summary>Queues an address addition.</summary>
    public RouteBatch AddAddress(AddressSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Add(spec, RtnlRequests.AddAddress, "add address", RtnlRequests.AddressTarget(spec));
        return this;
    }

    /// <summary>Queues an address replacement.</summary>
    public RouteBatch ReplaceAddress(AddressSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Add(spec, RtnlRequests.ReplaceAddress, "replace address", RtnlRequests.AddressTarget(spec));
        return this;
    }

    /// <summary>Queues a route addition.</summary>
    public RouteBatch AddRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        Add(route, RtnlRequests.AddRoute, "add route", RtnlRequests.RouteTarget(route));
        return this;
    }

    /// <summary>Queues a route replacement.</summary>
    public RouteBatch ReplaceRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        Add(route, RtnlRequests.ReplaceRoute, "replace route", RtnlRequests.RouteTarget(route));
        return this;
    }
}
