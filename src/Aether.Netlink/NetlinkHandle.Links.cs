using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink;

/// <summary>Links: list, get, create, change, delete.</summary>
public sealed partial class NetlinkHandle
{
    /// <summary>Every link in the namespace.</summary>
    public Task<IReadOnlyList<Link>> ListLinksAsync(CancellationToken cancellationToken = default) =>
        DumpAsync(0, RtnlRequests.DumpLinks, RtnlRequests.ParseLink, "list links", cancellationToken);

    /// <summary>One link by index or name.</summary>
    /// <exception cref="NetlinkException"><c>ENODEV</c> when there is no such link.</exception>
    public Task<Link> GetLinkAsync(LinkRef link, CancellationToken cancellationToken = default) =>
        RequestAsync(link, RtnlRequests.GetLink, RtnlRequests.ParseLink, "get link", link.ToString(), cancellationToken);

    /// <summary>One link by index or name, or null when there is none.</summary>
    public async Task<Link?> FindLinkAsync(LinkRef link, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetLinkAsync(link, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>Creates a link of any kind. Validates the whole spec before sending.</summary>
    /// <exception cref="ArgumentException">A value in <paramref name="spec"/> is invalid; nothing was sent.</exception>
    /// <exception cref="NetlinkException">The kernel refused: <c>create veth veth-host: EEXIST (File exists)</c>.</exception>
    public Task CreateLinkAsync(LinkSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return ExecuteAsync(spec, RtnlRequests.CreateLink, RtnlRequests.CreateOperation(spec), spec.Name, cancellationToken);
    }

    /// <summary>Changes a link: up/down, MTU, name, alias, master, MAC, namespace.</summary>
    public Task SetLinkAsync(LinkRef link, LinkChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        change.Validate();
        return ExecuteAsync((link, change), RtnlRequests.ChangeLink, "set link", link.ToString(), cancellationToken);
    }

    /// <summary>Sets a link administratively up or down.</summary>
    public Task SetUpAsync(LinkRef link, bool up = true, CancellationToken cancellationToken = default) =>
        SetLinkAsync(link, up ? LinkChanges.Up : LinkChanges.Down, cancellationToken);

    /// <summary>Moves a link into another namespace (it keeps its name; its ifindex may change).</summary>
    public Task MoveToNamespaceAsync(LinkRef link, NetworkNamespace target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        return SetLinkAsync(link, new LinkChange { Namespace = target }, cancellationToken);
    }

    /// <summary>Deletes a link (for a veth, both ends go).</summary>
    /// <exception cref="NetlinkException"><c>ENODEV</c> when there is no such link.</exception>
    public Task DeleteLinkAsync(LinkRef link, CancellationToken cancellationToken = default) =>
        ExecuteAsync(link, RtnlRequests.DeleteLink, "delete link", link.ToString(), cancellationToken);

    private static class LinkChanges
    {
        public static readonly LinkChange Up = new() { Up = true };
        public static readonly LinkChange Down = new() { Up = false };
    }
}
