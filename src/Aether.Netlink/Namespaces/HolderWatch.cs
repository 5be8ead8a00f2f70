using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// A pidfd on one process holding each unnamed namespace: it becomes readable when that process exits, so the watcher
/// looks again at once instead of at the next rescan (a namespace held only by processes dies with the last one, and
/// without an nsid nothing else announces it). Where the kernel has no <c>pidfd_open</c> (before 5.3), nothing is
/// tracked and the rescan covers it.
/// </summary>
internal sealed class HolderWatch : IDisposable
{
    private readonly Dictionary<int, int> _fds = [];
    private bool _unsupported;

    /// <summary>The pidfds to poll for <c>POLLIN</c>.</summary>
    public IReadOnlyCollection<int> Fds => _fds.Values;

    /// <summary>Tracks exactly <paramref name="pids"/>; false when one of them had exited already (look again).</summary>
    public bool Track(IEnumerable<int> pids)
    {
        var want = pids.ToHashSet();
        foreach (var pid in _fds.Keys.Where(p => !want.Contains(p)).ToList())
        {
            Libc.Close(_fds[pid]);
            _fds.Remove(pid);
        }

        if (_unsupported)
        {
            return true;
        }

        var allThere = true;
        foreach (var pid in want.Where(p => !_fds.ContainsKey(p)))
        {
            int fd;
            try
            {
                fd = Libc.PidfdOpen(pid, 0);
            }
            catch (EntryPointNotFoundException)
            {
                _unsupported = true; // a C library without the wrapper
                return true;
            }

            if (fd >= 0)
            {
                _fds[pid] = fd;
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ESRCH)
            {
                allThere = false;
            }
            else if (errno == Errno.ENOSYS)
            {
                _unsupported = true;
                return true;
            }
        }

        return allThere;
    }

    public void Dispose()
    {
        foreach (var fd in _fds.Values)
        {
            Libc.Close(fd);
        }

        _fds.Clear();
    }
}
