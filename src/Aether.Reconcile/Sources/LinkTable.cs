using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>
/// The links of one namespace as last read, kept up to date by reading again only the links said to have changed
/// (by ifindex, from the namespace's monitor, or by name, those a pass changed). Dumping every link costs the kernel
/// more than linear time in a namespace that holds thousands of veth ends (each dumped veth's peer namespace id is
/// looked up by a walk over every id the namespace knows), so a pass that follows events reads a handful instead.
/// Not thread-safe: one pass at a time uses it.
/// </summary>
internal sealed class LinkTable
{
    private readonly Dictionary<string, Link> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _nameByIndex = [];

    public LinkTable(IEnumerable<Link> links)
    {
        foreach (var link in links)
        {
            Put(link);
        }
    }

    public IReadOnlyList<Link> Links => [.. _byName.Values];

    /// <summary>Reads again the links at <paramref name="indexes"/> and named <paramref name="names"/>: what is gone
    /// is dropped, what is there replaces whatever held its name or its index.</summary>
    public async Task RefreshAsync(NetlinkHandle handle, IReadOnlyCollection<int> indexes, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        foreach (var index in indexes)
        {
            if (_nameByIndex.TryGetValue(index, out var old))
            {
                Drop(old);
            }

            if (await handle.FindLinkAsync(index, cancellationToken).ConfigureAwait(false) is { } link)
            {
                Put(link);
            }
        }

        foreach (var name in names)
        {
            Drop(name);
            if (await handle.FindLinkAsync(name, cancellationToken).ConfigureAwait(false) is { } link)
            {
                Put(link);
            }
        }
    }

    private void Put(Link link)
    {
        if (_nameByIndex.TryGetValue(link.Index, out var old))
        {
            Drop(old);
        }

        Drop(link.Name);
        _byName[link.Name] = link;
        _nameByIndex[link.Index] = link.Name;
    }

    private void Drop(string name)
    {
        if (_byName.Remove(name, out var link))
        {
            _nameByIndex.Remove(link.Index);
        }
    }
}
