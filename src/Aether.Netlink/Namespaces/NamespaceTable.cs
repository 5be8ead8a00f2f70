namespace Aether.Netlink.Namespaces;

/// <summary>
/// What the watcher has reported, and the de-duplication that turns many sightings into one event: every mechanism
/// (an inotify event, a mount-table change, an nsid, a rescan) tells the table what it found, and the table emits
/// only what differs from what it reported before. Named namespaces are keyed by name and inode (a re-created name is
/// a Deleted and a Created); unnamed ones by inode, and an inode that has a name is never also reported unnamed.
/// Pure: no I/O, tested on its own.
/// </summary>
internal sealed class NamespaceTable
{
    private readonly Dictionary<string, NamespaceInfo> _named = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, NamespaceInfo> _unnamed = [];

    /// <summary>How many named namespaces it holds.</summary>
    public int NamedCount => _named.Count;

    /// <summary>The inode reported for <paramref name="name"/>, or 0.</summary>
    public ulong InodeOf(string name) => _named.TryGetValue(name, out var ns) ? ns.Inode : 0;

    /// <summary>Whether <paramref name="inode"/> is reported under some name.</summary>
    public bool HasNamedInode(ulong inode) => _named.Values.Any(n => n.Inode == inode);

    /// <summary>Everything reported and not deleted: named first (by name), then unnamed (by inode).</summary>
    public List<NamespaceInfo> Snapshot() =>
        [.. _named.Values.OrderBy(n => n.Name, StringComparer.Ordinal), .. _unnamed.Values.OrderBy(n => n.Inode)];

    /// <summary>A named namespace is usable as <paramref name="ns"/>.</summary>
    public void Found(NamespaceInfo ns, List<NamespaceEvent> output)
    {
        var name = ns.Name ?? throw new ArgumentException("a named namespace needs a name", nameof(ns));
        if (_named.TryGetValue(name, out var known))
        {
            if (known.Inode == ns.Inode)
            {
                return; // seen already: the same namespace
            }

            _named.Remove(name);
            output.Add(NamespaceEvent.Of(NamespaceEventKind.Deleted, known));
        }

        if (_unnamed.Remove(ns.Inode, out var unnamed))
        {
            output.Add(NamespaceEvent.Of(NamespaceEventKind.Deleted, unnamed)); // it has a name now
        }

        _named[name] = ns;
        output.Add(NamespaceEvent.Of(NamespaceEventKind.Created, ns));
    }

    /// <summary>The named namespace <paramref name="name"/> is gone or no longer usable.</summary>
    public void Gone(string name, List<NamespaceEvent> output)
    {
        if (_named.Remove(name, out var known))
        {
            output.Add(NamespaceEvent.Of(NamespaceEventKind.Deleted, known));
        }
    }

    /// <summary>A complete listing of the directory: what is not in <paramref name="found"/> is gone, what is new
    /// (or has a new inode) is created.</summary>
    public void ReconcileNamed(IReadOnlyDictionary<string, NamespaceInfo> found, List<NamespaceEvent> output)
    {
        foreach (var name in _named.Keys.Where(n => !found.TryGetValue(n, out var f) || f.Inode != _named[n].Inode).ToList())
        {
            Gone(name, output);
        }

        foreach (var ns in found.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            Found(ns, output);
        }
    }

    /// <summary>The directory is gone: every named namespace with it.</summary>
    public void RemoveAllNamed(List<NamespaceEvent> output)
    {
        foreach (var name in _named.Keys.Order(StringComparer.Ordinal).ToList())
        {
            Gone(name, output);
        }
    }

    /// <summary>A complete listing of unnamed namespaces (by inode). Inodes that have a name are skipped; the path and
    /// pids of known ones are refreshed without an event.</summary>
    public void ReconcileUnnamed(IReadOnlyDictionary<ulong, NamespaceInfo> found, List<NamespaceEvent> output)
    {
        var named = _named.Values.Select(n => n.Inode).ToHashSet();
        foreach (var inode in _unnamed.Keys.Where(i => !found.ContainsKey(i) || named.Contains(i)).Order().ToList())
        {
            output.Add(NamespaceEvent.Of(NamespaceEventKind.Deleted, _unnamed[inode]));
            _unnamed.Remove(inode);
        }

        foreach (var ns in found.Values.OrderBy(n => n.Inode))
        {
            if (named.Contains(ns.Inode))
            {
                continue;
            }

            if (_unnamed.ContainsKey(ns.Inode))
            {
                _unnamed[ns.Inode] = ns; // the same namespace: where it is held may have changed, but that is no event
                continue;
            }

            _unnamed[ns.Inode] = ns;
            output.Add(NamespaceEvent.Of(NamespaceEventKind.Created, ns));
        }
    }
}
