using System.Runtime.InteropServices;
using System.Text;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// An inotify watch on a directory that may not exist. When it exists, its entries are watched; when it does not,
/// its nearest existing ancestor is watched for the next path component to appear, and <see cref="Arm"/> moves the
/// watch down (or back up when the directory goes). Arming closes the race between "does it exist?" and "watch it":
/// the ancestor is watched first and the child looked for afterwards, so a directory made in between is either seen
/// by the look or reported by the watch. Whatever appeared inside before the new watch took hold is the caller's to
/// find by rescanning after every switch.
/// </summary>
internal sealed class DirectoryWatch : IDisposable
{
    /// <summary>On the directory itself: entries coming and going, and the directory going.</summary>
    private const uint DirectoryMask = Libc.IN_CREATE | Libc.IN_MOVED_TO | Libc.IN_DELETE | Libc.IN_MOVED_FROM
        | Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_ONLYDIR;

    /// <summary>On an ancestor: the next component appearing, and the ancestor going.</summary>
    private const uint AncestorMask = Libc.IN_CREATE | Libc.IN_MOVED_TO | Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_ONLYDIR;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _targetWd = -1;
    private int _ancestorWd = -1;
    private string? _next;

    public DirectoryWatch(string target)
    {
        Target = target;
        Fd = Libc.InotifyInit1(Libc.IN_CLOEXEC | Libc.IN_NONBLOCK);
        if (Fd < 0)
        {
            throw NetlinkException.FromLastError("inotify_init1", target);
        }
    }

    /// <summary>What is watched for.</summary>
    public string Target { get; }

    /// <summary>The inotify descriptor to poll.</summary>
    public int Fd { get; }

    /// <summary>Whether the directory exists and its entries are watched.</summary>
    public bool Present => _targetWd >= 0;

    /// <summary>The watched directory's identity (device and inode), when <see cref="Present"/>.</summary>
    public Libc.FileId Identity { get; private set; }

    /// <summary>The ancestor watched while the directory is missing, else null.</summary>
    public string? Ancestor { get; private set; }

    /// <summary>Watches the directory if it exists, else its nearest existing ancestor (dropping the other watch).</summary>
    /// <exception cref="NetlinkException">inotify refused for another reason than the path missing (<c>ENOSPC</c>:
    /// out of watches; <c>EACCES</c>).</exception>
    public void Arm()
    {
        while (true)
        {
            var wd = Libc.InotifyAddWatch(Fd, Target, DirectoryMask);
            if (wd >= 0)
            {
                if (_targetWd >= 0 && _targetWd != wd)
                {
                    Libc.InotifyRmWatch(Fd, _targetWd); // the old directory (renamed away, or under a mount now)
                }

                _targetWd = wd;
                Identity = Libc.Identify(Target, out var id) == 0 ? id : default;
                DropAncestor();
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (Errno.ENOENT or Errno.ENOTDIR))
            {
                throw new NetlinkException(errno, "inotify_add_watch", Target);
            }

            if (_targetWd >= 0)
            {
                Libc.InotifyRmWatch(Fd, _targetWd);
                _targetWd = -1;
                Identity = default;
            }

            var (ancestor, next) = NearestExisting(Target);
            var awd = Libc.InotifyAddWatch(Fd, ancestor, AncestorMask);
            if (awd < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno is Errno.ENOENT or Errno.ENOTDIR)
                {
                    continue; // the ancestor went meanwhile: look again
                }

                throw new NetlinkException(errno, "inotify_add_watch", ancestor);
            }

            if (_ancestorWd >= 0 && _ancestorWd != awd)
            {
                Libc.InotifyRmWatch(Fd, _ancestorWd);
            }

            _ancestorWd = awd;
            Ancestor = ancestor;
            _next = next;

            // Watching first, then looking: a component made before the watch took hold is found here, one made after
            // it is an event.
            if (Directory.Exists(Path.Join(ancestor, next)))
            {
                continue;
            }

            return;
        }
    }

    /// <summary>Reads every queued event (non-blocking) and sorts them out.</summary>
    /// <param name="created">Called with the name of each entry created in (or moved into) the directory.</param>
    /// <param name="removed">Called with the name of each entry removed from (or moved out of) the directory.</param>
    /// <returns>What the caller must do next: re-<see cref="Arm"/> (the directory or an ancestor changed), rescan
    /// everything (the queue overflowed), or nothing more.</returns>
    public unsafe Follow Drain(Action<string> created, Action<string> removed)
    {
        var follow = Follow.None;
        fixed (byte* buf = _buffer)
        {
            while (true)
            {
                var n = Libc.Read(Fd, buf, _buffer.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno == Errno.EAGAIN)
                    {
                        return follow;
                    }

                    throw new NetlinkException(errno, "read inotify events", Target);
                }

                for (var at = 0; at + Libc.InotifyEventHeader <= n;)
                {
                    var wd = *(int*)(buf + at);
                    var mask = *(uint*)(buf + at + 4);
                    var len = *(int*)(buf + at + 12);
                    var name = len > 0 ? Encoding.UTF8.GetString(new ReadOnlySpan<byte>(buf + at + Libc.InotifyEventHeader, len)).TrimEnd('\0') : string.Empty;
                    at += Libc.InotifyEventHeader + len;
                    follow |= Sort(wd, mask, name, created, removed);
                }
            }
        }
    }

    public void Dispose() => Libc.Close(Fd);

    /// <summary>The deepest existing directory above <paramref name="target"/>, and the component under it.</summary>
    internal static (string Ancestor, string Next) NearestExisting(string target)
    {
        var child = target;
        var parent = Path.GetDirectoryName(target) ?? "/";
        while (!string.Equals(parent, "/", StringComparison.Ordinal) && !Directory.Exists(parent))
        {
            child = parent;
            parent = Path.GetDirectoryName(parent) ?? "/";
        }

        return (parent, Path.GetFileName(child));
    }

    private Follow Sort(int wd, uint mask, string name, Action<string> created, Action<string> removed)
    {
        if ((mask & Libc.IN_Q_OVERFLOW) != 0)
        {
            return Follow.Rescan;
        }

        if (wd == _targetWd && wd >= 0)
        {
            if ((mask & (Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_IGNORED | Libc.IN_UNMOUNT)) != 0)
            {
                return Follow.Rearm;
            }

            if (name.Length > 0 && (mask & (Libc.IN_CREATE | Libc.IN_MOVED_TO)) != 0)
            {
                created(name);
            }
            else if (name.Length > 0 && (mask & (Libc.IN_DELETE | Libc.IN_MOVED_FROM)) != 0)
            {
                removed(name);
            }

            return Follow.None;
        }

        if (wd == _ancestorWd && wd >= 0)
        {
            if ((mask & (Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_IGNORED | Libc.IN_UNMOUNT)) != 0)
            {
                return Follow.Rearm;
            }

            if (string.Equals(name, _next, StringComparison.Ordinal) && (mask & (Libc.IN_CREATE | Libc.IN_MOVED_TO)) != 0)
            {
                return Follow.Rearm;
            }
        }

        return Follow.None; // a watch dropped earlier (its IN_IGNORED), or an unrelated entry of the ancestor
    }

    private void DropAncestor()
    {
        if (_ancestorWd >= 0)
        {
            Libc.InotifyRmWatch(Fd, _ancestorWd);
            _ancestorWd = -1;
        }

        Ancestor = null;
        _next = null;
    }

    /// <summary>What <see cref="Drain"/> asks of the caller.</summary>
    [Flags]
    public enum Follow
    {
        /// <summary>Nothing more.</summary>
        None = 0,

        /// <summary>Events were lost: rescan everything.</summary>
        Rescan = 1,

        /// <summary>The directory or an ancestor changed: <see cref="Arm"/> again, then rescan.</summary>
        Rearm = 2,
    }
}
