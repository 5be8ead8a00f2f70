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
    /// <exception cref="ArgumentException">The spec is invalid, or sets <see cref="LinkSpec.Alias"/>: the kernel ignores an
    /// alias in a create request; queue a <see cref="SetLink"/> for it after the creation.</exception>
    public RouteBatch CreateLink(LinkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (spec.Alias is not null)
        {
            throw new ArgumentException($"the kernel ignores the alias of '{spec.Name}' in a create request: queue SetLink(\"{spec.Name}\", new LinkChange {{ Alias = ... }}) after it", nameof(spec));
        }

        Add(spec, RtnlRequests.CreateLink, RtnlRequests.CreateOperation(spec), spec.Name);
        return this;
    }

    /// <summary>Queues a link change.</summary>
    /// <exception cref="ArgumentException">The change is invalid, or renames a link given by name (a rename needs the ifindex).</exception>
    public RouteBatch SetLink(LinkRef link, LinkChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        change.Validate();
        if (link.Name is not null && change.Name is not null)
        {
            throw new ArgumentException($"renaming '{link.Name}' to '{change.Name}' in a batch needs the link's ifindex, not its name", nameof(link));
        }

        Add((link, change), RtnlRequests.ChangeLink, "set link", link.Name, link.Index);
        return this;
    }

    /// <summary>Queues a link deletion.</summary>
    public RouteBatch DeleteLink(LinkRef link)
    {
        Add(link, RtnlRequests.DeleteLink, "delete link", link.Name, link.Index);
        return this;
    }

    /// <summary>Queues an address addition.</summary>
    public RouteBatch AddAddress(AddressSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Add(spec, RtnlRequests.AddAddress, "add address", spec);
        return this;
    }

    /// <summary>Queues an address replacement.</summary>
    public RouteBatch ReplaceAddress(AddressSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Add(spec, RtnlRequests.ReplaceAddress, "replace address", spec);
        return this;
    }

    /// <summary>Queues a route addition.</summary>
    public RouteBatch AddRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        Add(route, RtnlRequests.AddRoute, "add route", route);
        return this;
    }

    /// <summary>Queues a route replacement.</summary>
    public RouteBatch ReplaceRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        Add(route, RtnlRequests.ReplaceRoute, "replace route", route);
        return this;
    }

    /// <inheritdoc/>
    protected override string? Describe(object? target, int targetIndex) => target switch
    {
        AddressSpec address => RtnlRequests.AddressTarget(address),
        Route route => RtnlRequests.RouteTarget(route),
        _ => base.Describe(target, targetIndex),
    };
}
