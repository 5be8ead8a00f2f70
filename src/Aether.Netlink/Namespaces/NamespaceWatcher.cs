using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Aether.Interop;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// Discovers network namespaces as they come and go, and reports each once it can be used.
/// <list type="bullet">
/// <item>Named ones: inotify on the directory (<c>/run/netns</c>), or, while it does not exist, on its nearest
/// ancestor until it appears (then on the directory at once, and back when it is removed), rescanning after every
/// switch. An entry is reported only when it is an nsfs mount of a network namespace: <c>ip netns add</c> creates
/// the file about a millisecond before it bind-mounts the namespace onto it, so an entry seen too early waits for the
/// mount table to change (<c>POLLPRI</c> on <c>/proc/self/mountinfo</c>), never for a timer.</item>
/// <item>Unnamed ones (<see cref="NamespaceWatcherOptions.IncludeUnnamed"/>): <c>RTM_NEWNSID</c>/<c>RTM_DELNSID</c>,
/// mount-table changes and the exit of a process holding one (a pidfd on one holder each) trigger a scan of
/// <c>/proc/*/ns/net</c> and of nsfs mounts outside the directory.</item>
/// <item>A rescan every <see cref="NamespaceWatcherOptions.RescanInterval"/> as the safety net; nothing else runs
/// on a timer, so an idle watcher does not wake up between rescans.</item>
/// </list>
/// Everything funnels into one de-duplicated stream (<see cref="Events"/>). <see cref="ListAndWatch"/> arms the
/// watches before it lists, so the listing (<see cref="Initial"/>) and the stream have no gap between them: a namespace
/// is either in the listing or reported after it, once. One dedicated thread polls every source; it never changes
/// namespace.
/// </summary>
public sealed class NamespaceWatcher : IDisposable
{
    private const short POLLIN = Libc.POLLIN;

    private readonly NamespaceWatcherOptions _options;
    private readonly string _directory;
    private readonly DirectoryWatch _watch;
    private readonly MountTableWatch _mounts;
    private readonly NetlinkSocket? _nsids;
    private readonly HolderWatch _holders = new();
    private readonly int _wakeFd;
    private readonly NamespaceTable _table = new();
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly Channel<NamespaceEvent> _events = Channel.CreateUnbounded<NamespaceEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly List<NamespaceEvent> _batch = [];
    private readonly Lock _lock = new();
    private readonly Thread _thread;
    private long _nextRescan;
    private int _rescanRequested;
    private int _disposed;

    private NamespaceWatcher(NamespaceWatcherOptions options)
    {
        options.Validate();
        _options = options;
        _directory = options.NormalizedDirectory;
        _wakeFd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_wakeFd < 0)
        {
            throw NetlinkException.FromLastError("eventfd", "namespace watcher");
        }

        try
        {
            _watch = new DirectoryWatch(_directory);
            _mounts = new MountTableWatch();
            if (options.IncludeUnnamed)
            {
                _nsids = NetlinkSocket.Open(NetlinkProtocol.Route);
                _nsids.JoinGroup(RtnlGroup.NsId);
            }

            // Watch first, then list: whatever changes from here on is an event, and events about what the listing
            // already holds are de-duplicated away.
            _watch.Arm();
            DirectoryExisted = _watch.Present;
            if (_watch.Present)
            {
                ScanNamed();
            }

            if (options.IncludeUnnamed)
            {
                ScanUnnamed();
            }

            _batch.Clear();
            Initial = _table.Snapshot();
        }
        catch
        {
            _nsids?.Dispose();
            _holders.Dispose();
            _mounts?.Dispose();
            _watch?.Dispose();
            Libc.Close(_wakeFd);
            throw;
        }

        ScheduleRescan();
        _thread = new Thread(Run, 256 * 1024) { IsBackground = true, Name = "aether-netns-watch" };
        _thread.UnsafeStart();
    }

    /// <summary>The namespaces that existed (and were usable) when watching began.</summary>
    public IReadOnlyList<NamespaceInfo> Initial { get; }

    /// <summary>Whether the directory existed when watching began.</summary>
    public bool DirectoryExisted { get; }

    /// <summary>The directory watched for named namespaces.</summary>
    public string Directory => _directory;

    /// <summary>Every change after <see cref="Initial"/>, in order. Unbounded: read it. It completes when the watcher is
    /// disposed, or with the exception that stopped the watcher.</summary>
    public ChannelReader<NamespaceEvent> Events => _events.Reader;

    /// <summary>The namespaces the watcher knows of now (what <see cref="Initial"/> was, with every event since applied).</summary>
    public IReadOnlyList<NamespaceInfo> Current
    {
        get
        {
            lock (_lock)
            {
                return _table.Snapshot();
            }
        }
    }

    /// <summary>The watcher thread's kernel thread id (to count its wake-ups in <c>/proc/self/task/TID</c>).</summary>
    internal int ThreadId { get; private set; }

    /// <summary>
    /// Starts watching and returns the current set (<see cref="Initial"/>) and the stream of everything after it
    /// (<see cref="Events"/>), with no gap between them.
    /// </summary>
    /// <exception cref="NetlinkException">inotify, the mount table or the nsid socket could not be set up (errno).</exception>
    public static NamespaceWatcher ListAndWatch(NamespaceWatcherOptions? options = null) => new(options ?? NamespaceWatcherOptions.Default);

    /// <summary>
    /// One listing without watching: named namespaces in <see cref="NamespaceWatcherOptions.Directory"/> that are
    /// usable now, then (with <see cref="NamespaceWatcherOptions.IncludeUnnamed"/>) unnamed ones held by processes or
    /// mounted elsewhere. Every entry carries the pids of the processes in it.
    /// </summary>
    public static IReadOnlyList<NamespaceInfo> Scan(NamespaceWatcherOptions? options = null)
    {
        options ??= NamespaceWatcherOptions.Default;
        options.Validate();
        var directory = options.NormalizedDirectory;
        var table = new NamespaceTable();
        var ignored = new List<NamespaceEvent>();
        table.ReconcileNamed(ListNamed(directory, table, pending: null), ignored);
        var processes = NamespaceProbe.ProcessNamespaces();
        if (options.IncludeUnnamed)
        {
            table.ReconcileUnnamed(ListUnnamed(directory, processes), ignored);
        }

        return [.. table.Snapshot().Select(n => n.Name is null ? n : n with { Pids = processes.TryGetValue(n.Inode, out var pids) ? pids : [] })];
    }

    /// <summary>The events as an async stream, until the watcher is disposed or <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<NamespaceEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <summary>Asks for a rescan now (it runs on the watcher's thread, soon).</summary>
    public void Rescan()
    {
        Volatile.Write(ref _rescanRequested, 1);
        Wake();
    }

    /// <summary>Stops watching, closes every descriptor and completes <see cref="Events"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Wake();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _nsids?.Dispose();
        _holders.Dispose();
        _mounts.Dispose();
        _watch.Dispose();
        Libc.Close(_wakeFd);
        _events.Writer.TryComplete();
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        Libc.Write(_wakeFd, &one, sizeof(ulong));
    }

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
