using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Aether.Interop;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Namespaces;

/// <summary>Probing entries and scanning: named namespaces in the directory, unnamed ones held by processes or mounted
/// elsewhere, and the nsid announcements that trigger a scan.</summary>
public sealed partial class NamespaceWatcher
{
    /// <summary>An entry appeared (or may have become a mount): report it if usable, else wait for its mount.</summary>
    private void Probe(string name)
    {
        var path = _directory + "/" + name;
        switch (NamespaceProbe.Probe(path, _table.InodeOf(name), out var inode))
        {
            case NamespaceProbe.State.Usable:
                _pending.Remove(name);
                _table.Found(new NamespaceInfo(name, path, inode), _batch);
                break;
            case NamespaceProbe.State.NotYet:
                _pending.Add(name);
                _table.Gone(name, _batch); // unmounted (ip netns del unmounts before it unlinks)
                break;
            default:
                _pending.Remove(name);
                _table.Gone(name, _batch);
                break;
        }
    }

    private void Removed(string name)
    {
        _pending.Remove(name);
        _table.Gone(name, _batch);
    }

    private void ScanNamed()
    {
        _pending.Clear();
        _table.ReconcileNamed(ListNamed(_directory, _table, _pending), _batch);
    }

    /// <summary>Looks for unnamed namespaces, then watches one holder of each for its exit (again at once, a few times,
    /// when a holder exited before it could be watched).</summary>
    private void ScanUnnamed()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            _table.ReconcileUnnamed(ListUnnamed(_directory, NamespaceProbe.ProcessNamespaces()), _batch);
            var holders = _table.Snapshot().Where(n => n.Name is null && n.Pids.Count > 0).Select(n => n.Pids[0]);
            if (_holders.Track(holders))
            {
                return;
            }
        }
    }

    /// <summary>Drains the nsid socket; true when an nsid came or went (or announcements were lost).</summary>
    private bool DrainNsIds(byte[] buffer)
    {
        var changed = false;
        while (true)
        {
            int n;
            try
            {
                n = _nsids!.Receive(buffer, nonBlocking: true);
            }
            catch (NetlinkException ex) when (ex.Errno == Errno.ENOBUFS)
            {
                changed = true;
                continue;
            }

            if (n <= 0)
            {
                return changed;
            }

            try
            {
                var messages = new NetlinkMessageEnumerator(buffer.AsSpan(0, n));
                while (messages.MoveNext())
                {
                    changed |= NetlinkMonitor.ToEvent(messages.Current) is NsIdEvent;
                }
            }
            catch (NetlinkParseException)
            {
                changed = true; // unreadable: look anyway
            }
        }
    }

    /// <summary>Every usable entry of <paramref name="directory"/>; entries not mounted yet go to <paramref name="pending"/>.</summary>
    private static Dictionary<string, NamespaceInfo> ListNamed(string directory, NamespaceTable table, HashSet<string>? pending)
    {
        var found = new Dictionary<string, NamespaceInfo>(StringComparer.Ordinal);
        IEnumerable<string> entries;
        try
        {
            entries = System.IO.Directory.EnumerateFileSystemEntries(directory).ToList();
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or IOException)
        {
            return found; // gone meanwhile: the watch reports it
        }

        foreach (var path in entries)
        {
            var name = Path.GetFileName(path);
            switch (NamespaceProbe.Probe(path, table.InodeOf(name), out var inode))
            {
                case NamespaceProbe.State.Usable:
                    found[name] = new NamespaceInfo(name, path, inode);
                    break;
                case NamespaceProbe.State.NotYet:
                    pending?.Add(name);
                    break;
            }
        }

        return found;
    }

    /// <summary>Network namespaces held by processes or mounted outside <paramref name="directory"/>, keyed by inode,
    /// without the process's own.</summary>
    private static Dictionary<ulong, NamespaceInfo> ListUnnamed(string directory, Dictionary<ulong, List<int>> processes)
    {
        var found = new Dictionary<ulong, NamespaceInfo>();
        var inside = directory + "/";
        foreach (var (mountPoint, inode) in MountTableWatch.NetworkNamespaceMounts())
        {
            if (inode != NamespaceProbe.OwnInode && !mountPoint.StartsWith(inside, StringComparison.Ordinal) && !found.ContainsKey(inode))
            {
                found[inode] = new NamespaceInfo(null, mountPoint, inode);
            }
        }

        foreach (var (inode, pids) in processes)
        {
            if (inode == NamespaceProbe.OwnInode)
            {
                continue;
            }

            found[inode] = found.TryGetValue(inode, out var mounted)
                ? mounted with { Pids = pids }
                : new NamespaceInfo(null, string.Create(CultureInfo.InvariantCulture, $"/proc/{pids[0]}/ns/net"), inode) { Pids = pids };
        }

        return found;
    }
}
