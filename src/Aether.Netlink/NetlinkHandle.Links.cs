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
    public async Task CreateLinkAsync(LinkSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (spec.Alias is not null && spec.Namespace is null)
        {
            await CreateMarkedAsync(spec, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ExecuteAsync(spec, RtnlRequests.CreateLink, RtnlRequests.CreateOperation(spec), spec.Name, cancellationToken).ConfigureAwait(false);
        if (spec.Alias is null)
        {
            return;
        }

        // The kernel does not apply IFLA_IFALIAS when it creates a link: set it now, where the link is, and take
        // the link back out if that fails, so that creation stays all or nothing.
        var where = spec.Namespace is null ? this : OpenAt(spec.Namespace, _options);
        try
        {
            await where.SetLinkAsync(spec.Name, new LinkChange { Alias = spec.Alias }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RollBackCreateAsync(where, spec.Name).ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (where != this)
            {
                where.Dispose();
            }
        }
    }

    /// <summary>
    /// Creates the link and sets its alias in one send: the kernel ignores IFLA_IFALIAS in a create, and a process
    /// killed between two sends would leave a link without the alias that says whose it is (found by killing the
    /// daemon at random points of a hub AddNetwork: the unmarked pair then blocked the same request for good). The
    /// kernel handles every message of one send before the sender's signal is delivered, so both happen or neither.
    /// The alias is set by name, and netlink has no "only if the create succeeded": a name already taken goes the
    /// two-send way (the create fails, nothing is marked); a link another process made under the name between that
    /// look and the send has the alias this set taken off again. An alias the kernel refuses takes the link back out.
    /// </summary>
    private async Task CreateMarkedAsync(LinkSpec spec, CancellationToken cancellationToken)
    {
        if (await FindLinkAsync(spec.Name, cancellationToken).ConfigureAwait(false) is not null)
        {
            await ExecuteAsync(spec, RtnlRequests.CreateLink, RtnlRequests.CreateOperation(spec), spec.Name, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"create {spec.Name}: the kernel made a link under a name that is taken"); // EEXIST above
        }

        NetlinkBatchResult result;
        using (var batch = CreateBatch())
        {
            batch.CreateLink(spec with { Alias = null });
            batch.SetLink(spec.Name, new LinkChange { Alias = spec.Alias });
            result = await batch.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

        if (result.Errors[0] is { } created)
        {
            if (result.Errors[1] is null)
            {
                // Someone else's link took the name meanwhile, and the second message marked it: unmark it.
                await SetLinkAsync(spec.Name, new LinkChange { Alias = string.Empty }, CancellationToken.None).ConfigureAwait(false);
            }

            throw created;
        }

        if (result.Errors[1] is { } marked)
        {
            await RollBackCreateAsync(this, spec.Name).ConfigureAwait(false);
            throw marked;
        }
    }

    /// <summary>Changes a link: up/down, MTU, name, alias, master, MAC, namespace.</summary>
    /// <remarks>A rename of a link given by name looks its ifindex up first: the kernel cannot find a link by its
    /// old name in a request that carries the new one.</remarks>
    public async Task SetLinkAsync(LinkRef link, LinkChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        change.Validate();
        var target = link.ToString();
        if (link.Name is not null && change.Name is not null)
        {
            link = (await GetLinkAsync(link, cancellationToken).ConfigureAwait(false)).Index;
        }

        await ExecuteAsync((link, change), RtnlRequests.ChangeLink, "set link", target, cancellationToken).ConfigureAwait(false);
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

    private static async Task RollBackCreateAsync(NetlinkHandle where, string name)
    {
        try
        {
            await where.DeleteLinkAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NetlinkException)
        {
            // The failure the caller sees is the one that made the creation fail.
        }
    }

    private static class LinkChanges
    {
        public static readonly LinkChange Up = new() { Up = true };
        public static readonly LinkChange Down = new() { Up = false };
    }
}
