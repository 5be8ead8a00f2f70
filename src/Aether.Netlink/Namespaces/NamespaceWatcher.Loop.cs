using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Namespaces;

/// <summary>The watching thread: one poll over every source, what each readable one says, the directory watch re-armed,
/// the rescan timer.</summary>
public sealed partial class NamespaceWatcher
{
    private unsafe void Run()
    {
        ThreadId = Libc.GetTid();
        var fds = new Libc.PollFd[8];
        var receive = _nsids is null ? null : NetlinkSocket.RentReceiveBuffer();
        try
        {
            while (Volatile.Read(ref _disposed) == 0)
            {
                var holders = _holders.Fds;
                if (fds.Length < 4 + holders.Count)
                {
                    fds = new Libc.PollFd[(4 + holders.Count) * 2];
                }

                var count = 0;
                fds[count++] = new Libc.PollFd { Fd = _wakeFd, Events = POLLIN };
                fds[count++] = new Libc.PollFd { Fd = _watch.Fd, Events = POLLIN };

                // The mount table is only waited on when an entry waits for its mount (or unnamed namespaces are
                // wanted): other mounts on the machine do not wake an idle watcher.
                var mountsAt = _pending.Count > 0 || _nsids is not null ? count++ : -1;
                if (mountsAt >= 0)
                {
                    fds[mountsAt] = new Libc.PollFd { Fd = _mounts.Fd, Events = Libc.POLLPRI };
                }

                var nsidsAt = _nsids is not null ? count++ : -1;
                if (nsidsAt >= 0)
                {
                    fds[nsidsAt] = new Libc.PollFd { Fd = _nsids!.Fd, Events = POLLIN };
                }

                var holdersAt = count;
                foreach (var fd in holders)
                {
                    fds[count++] = new Libc.PollFd { Fd = fd, Events = POLLIN };
                }

                int polled;
                fixed (Libc.PollFd* p = fds)
                {
                    polled = Libc.Poll(p, (nuint)count, TimeoutMilliseconds());
                }

                if (polled < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new NetlinkException(errno, "poll", "namespace watcher");
                }

                if (fds[0].REvents != 0)
                {
                    ulong value;
                    Libc.Read(_wakeFd, &value, sizeof(ulong));
                    if (Volatile.Read(ref _disposed) != 0)
                    {
                        return;
                    }
                }

                var exited = false;
                for (var i = holdersAt; i < count; i++)
                {
                    exited |= fds[i].REvents != 0;
                }

                lock (_lock)
                {
                    Step(fds[1].REvents != 0, mountsAt >= 0 && fds[mountsAt].REvents != 0, nsidsAt >= 0 && fds[nsidsAt].REvents != 0, exited, receive);
                }

                foreach (var e in _batch)
                {
                    _events.Writer.TryWrite(e);
                }

                _batch.Clear();
            }
        }
        catch (Exception ex)
        {
            // Whatever stopped the thread ends the stream with it, so the reader learns why instead of waiting for ever.
            _events.Writer.TryComplete(ex);
        }
        finally
        {
            if (receive is not null)
            {
                NetlinkSocket.ReturnReceiveBuffer(receive);
            }
        }
    }

    /// <summary>One round after poll: what each readable source says, in the order that keeps events right.
    /// <paramref name="exited"/>: a process holding an unnamed namespace exited.</summary>
    private void Step(bool inotify, bool mounts, bool nsids, bool exited, byte[]? receive)
    {
        var rescan = Interlocked.Exchange(ref _rescanRequested, 0) == 1 || Environment.TickCount64 >= _nextRescan;
        var rearm = false;
        if (inotify)
        {
            var follow = _watch.Drain(Probe, Removed);
            rearm = follow.HasFlag(DirectoryWatch.Follow.Rearm);
            rescan |= follow.HasFlag(DirectoryWatch.Follow.Rescan);
        }

        var unnamed = false;
        if (mounts)
        {
            // Something was mounted or unmounted: the entries waiting for their mount may be ready, and the directory
            // itself may now be under another mount (its inode at the path changed).
            foreach (var name in _pending.ToList())
            {
                Probe(name);
            }

            rearm |= _watch.Present && (Libc.Identify(_directory, out var id) != 0 || id != _watch.Identity);
            unnamed = _nsids is not null;
        }

        if (nsids)
        {
            unnamed |= DrainNsIds(receive!);
        }

        unnamed |= exited;

        if (rearm)
        {
            Rearm();
        }
        else if (rescan && _watch.Present)
        {
            ScanNamed();
        }

        if (rescan && !rearm)
        {
            // The safety net also checks that the directory is still the one watched (a mount over it, a rename).
            var present = Libc.Identify(_directory, out var now) == 0 && now.IsDirectory;
            if (present != _watch.Present || (present && now != _watch.Identity))
            {
                Rearm();
            }
        }

        if ((unnamed || rescan) && _nsids is not null)
        {
            ScanUnnamed();
        }

        if (rescan)
        {
            ScheduleRescan();
        }
    }

    /// <summary>Re-arms the directory watch and reports the switch, then rescans (what appeared before the new watch
    /// took hold, such as a namespace made in the same instant as the directory, is found that way).</summary>
    private void Rearm()
    {
        var was = _watch.Present;
        var identity = _watch.Identity;
        _watch.Arm();
        var replaced = was && _watch.Present && identity != _watch.Identity;
        if (was && (!_watch.Present || replaced))
        {
            _table.RemoveAllNamed(_batch);
            _pending.Clear();
            _batch.Add(new NamespaceEvent(NamespaceEventKind.DirectoryRemoved, null, _directory, 0));
        }

        if (_watch.Present && (!was || replaced))
        {
            _batch.Add(new NamespaceEvent(NamespaceEventKind.DirectoryCreated, null, _directory, 0));
        }

        if (_watch.Present)
        {
            ScanNamed();
        }
    }

    private int TimeoutMilliseconds()
    {
        if (_options.RescanInterval == Timeout.InfiniteTimeSpan)
        {
            return -1;
        }

        var left = _nextRescan - Environment.TickCount64;
        return left <= 0 ? 0 : (int)Math.Min(left, int.MaxValue);
    }

    private void ScheduleRescan() => _nextRescan = _options.RescanInterval == Timeout.InfiniteTimeSpan
        ? long.MaxValue
        : Environment.TickCount64 + (long)_options.RescanInterval.TotalMilliseconds;
}
