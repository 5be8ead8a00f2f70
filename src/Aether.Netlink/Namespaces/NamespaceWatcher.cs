using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Aether.Interop;
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
public sealed partial class NamespaceWatcher : IDisposable
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
}
