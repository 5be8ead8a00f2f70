using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// An open network namespace: a file descriptor on its nsfs inode. Named namespaces live under
/// <c>/run/netns</c> exactly as <c>ip netns</c> keeps them, so both tools see the same ones.
/// </summary>
public sealed partial class NetworkNamespace : SafeHandle
{
    /// <summary>The directory where named namespaces are bind-mounted (<c>NETNS_RUN_DIR</c>).</summary>
    public const string RunDirectory = "/run/netns";

    private NetworkNamespace(int fd, string? name, string path)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
        Name = name;
        Path = path;
        Inode = Libc.InodeOf(fd);
    }

    /// <summary>The name under <see cref="RunDirectory"/>, or null for one opened by path or pid.</summary>
    public string? Name { get; }

    /// <summary>The path it was opened from.</summary>
    public string Path { get; }

    /// <summary>The namespace's inode number: two handles with the same inode are the same namespace.</summary>
    public ulong Inode { get; }

    /// <summary>Which namespace this is for exactly its lifetime (see <see cref="NamespaceIdentity"/>): unlike its
    /// name or inode number, never the identity of another namespace. Read once, on first use.</summary>
    public NamespaceIdentity Identity
    {
        get
        {
            var cookie = Volatile.Read(ref _cookie);
            if (cookie == 0)
            {
                ObjectDisposedException.ThrowIf(IsClosed, this);
                cookie = NamespaceIdentity.Of((int)handle, this).Cookie;
                Volatile.Write(ref _cookie, cookie);
            }

            return new NamespaceIdentity(NamespaceIdentity.ThisBoot, cookie);
        }
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>The process's own network namespace (the one every thread-pool thread is in).</summary>
    public static NetworkNamespace OpenCurrent() => OpenPath("/proc/self/ns/net", name: null);

    /// <summary>Opens the named namespace <c>/run/netns/NAME</c>.</summary>
    /// <exception cref="ArgumentException">The name is not a valid namespace name.</exception>
    /// <exception cref="NetlinkException">It does not exist (<c>ENOENT</c>) or cannot be opened.</exception>
    public static NetworkNamespace Open(string name) =>
        TryOpen(name) ?? throw new NetlinkException(Errno.ENOENT, "open namespace", name);

    /// <summary>Opens the named namespace <c>/run/netns/NAME</c>, or returns null when there is no such name
    /// (<c>ENOENT</c>): an apply of a thousand new namespaces asks a thousand times, and an exception each is dear.</summary>
    /// <exception cref="ArgumentException">The name is not a valid namespace name.</exception>
    /// <exception cref="NetlinkException">It exists but cannot be opened.</exception>
    public static NetworkNamespace? TryOpen(string name)
    {
        ValidateName(name);
        var path = PathOf(name);
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            return new NetworkNamespace(fd, name, path);
        }

        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno == Errno.ENOENT ? null : throw new NetlinkException(errno, "open namespace", name);
    }

    /// <summary>Opens a namespace by path (<c>/proc/PID/ns/net</c>, a bind mount).</summary>
    public static NetworkNamespace OpenPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return OpenPath(path, name: null);
    }

    /// <summary>Opens the network namespace of process <paramref name="pid"/>.</summary>
    public static NetworkNamespace OpenPid(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        return OpenPath(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/ns/net"), name: null);
    }

    /// <summary>Whether a named namespace exists (its file under <see cref="RunDirectory"/> is a namespace mount).</summary>
    public static bool Exists(string name)
    {
        ValidateName(name);
        return File.Exists(PathOf(name));
    }

    /// <summary>The names under <see cref="RunDirectory"/>, sorted; empty when the directory does not exist.</summary>
    public static IReadOnlyList<string> List()
    {
        if (!Directory.Exists(RunDirectory))
        {
            return [];
        }

        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(RunDirectory))
        {
            names.Add(System.IO.Path.GetFileName(file));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// Creates the named namespace the way <c>ip netns add</c> does: makes <see cref="RunDirectory"/> a shared mount
    /// when needed, creates the file, and bind-mounts a fresh namespace onto it from a dedicated thread.
    /// </summary>
    /// <exception cref="NetlinkException"><c>EEXIST</c> when the name is taken; the kernel's errno otherwise.</exception>
    public static NetworkNamespace Create(string name) => Create(name, static _ => 0, 0, out _, batch: null);

    /// <summary>Creates the named namespace as <see cref="Create(string)"/> does, and runs <paramref name="inside"/>
    /// inside it on the same thread, before the namespace is mounted on its name: what it opens (a netlink socket) is
    /// bound to the new namespace without a second trip into it, and what it sets there (a mark) is there before anyone
    /// can find the namespace by name. When <paramref name="inside"/> throws, nothing is mounted and the file is
    /// removed; when the mount fails, a disposable result is disposed. With <paramref name="batch"/>, the file to mount
    /// on is the one the batch made.</summary>
    internal static NetworkNamespace Create<TState, TInside>(string name, Func<TState, TInside> inside, TState state, out TInside result, NamespaceBatch? batch)
    {
        var path = Prepare(name, batch);
        try
        {
            var (nsfd, made) = NamespaceThread.RunInNew(static s => MountHere(s.path, s.inside, s.state), (path, inside, state));
            result = made;
            return new NetworkNamespace(nsfd, name, path);
        }
        catch
        {
            Libc.Umount2(path, Libc.MNT_DETACH);
            Libc.Unlink(path);
            throw;
        }
    }

    /// <summary>Creates each of <paramref name="names"/> as <see cref="Create{TState, TInside}"/> does, several at once,
    /// each creating thread making its share one after the other without going home in between (see
    /// <see cref="NamespaceThread.RunInNewEach"/>). Each name is made on its batch's file, or on a file of its own when
    /// its batch is null. After the first failure no name is started: a name not started has neither a namespace nor
    /// an error (and its batch's file stays unclaimed).</summary>
    internal static (NetworkNamespace? Namespace, TInside? Inside, Exception? Error)[] CreateEach<TState, TInside>(IReadOnlyList<(string Name, NamespaceBatch? Batch)> names, Func<TState, TInside> inside, TState state)
    {
        foreach (var (name, _) in names)
        {
            ValidateName(name);
        }

        var made = NamespaceThread.RunInNewEach(
            names.Count,
            static (s, i) =>
            {
                var (name, batch) = s.names[i];
                var path = Prepare(name, batch);
                try
                {
                    return MountHere(path, s.inside, s.state);
                }
                catch
                {
                    Libc.Umount2(path, Libc.MNT_DETACH);
                    Libc.Unlink(path);
                    throw;
                }
            },
            (names, inside, state));
        var results = new (NetworkNamespace? Namespace, TInside? Inside, Exception? Error)[names.Count];
        for (var i = 0; i < made.Length; i++)
        {
            results[i] = made[i] switch
            {
                (var (fd, result), null, true) => (new NetworkNamespace(fd, names[i].Name, PathOf(names[i].Name)), result, null),
                (_, var error, _) => (null, default, error),
            };
        }

        return results;
    }

    /// <summary>The path <paramref name="name"/> is mounted on: its batch's file, or one made now.</summary>
    private static string Prepare(string name, NamespaceBatch? batch)
    {
        ValidateName(name);
        if (batch is null)
        {
            EnsureRunDirectory();
            CreateMountPoint(name);
        }
        else
        {
            batch.Claim(name);
        }

        return PathOf(name);
    }

    /// <summary>On a thread just moved into a new namespace: runs <paramref name="inside"/>, then bind-mounts the
    /// thread's namespace on <paramref name="path"/> and opens it. What <paramref name="inside"/> made is disposed
    /// when the mount or the open fails.</summary>
    private static (int Fd, TInside Made) MountHere<TState, TInside>(string path, Func<TState, TInside> inside, TState state)
    {
        var made = inside(state);
        try
        {
            if (Libc.Mount("/proc/thread-self/ns/net", path, "none", Libc.MS_BIND, 0) != 0)
            {
                throw NetlinkException.FromLastError("bind-mount namespace", path);
            }

            var opened = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            return opened >= 0 ? (opened, made) : throw NetlinkException.FromLastError("open namespace", path);
        }
        catch
        {
            (made as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>Deletes the named namespace as <c>ip netns del</c> does: detaches the mount and removes the file.
    /// The kernel frees the namespace (and the links in it) once nothing else holds it.</summary>
    /// <exception cref="NetlinkException"><c>ENOENT</c> when there is no such namespace.</exception>
    public static void Delete(string name)
    {
        ValidateName(name);
        var path = PathOf(name);
        Libc.Umount2(path, Libc.MNT_DETACH);
        if (Libc.Unlink(path) != 0)
        {
            throw NetlinkException.FromLastError("delete namespace", name);
        }
    }

    /// <summary>Checks a namespace name the way <c>ip netns</c> would accept it as a file name.</summary>
    /// <exception cref="ArgumentException">Empty, <c>.</c> or <c>..</c>, containing <c>/</c>, whitespace or NUL, or longer than 255 bytes.</exception>
    public static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsValidName(name, out _))
        {
            throw new ArgumentException($"invalid namespace name {Names.NameText.Quote(name)}: must be 1-255 bytes without '/', NUL or whitespace, and not '.' or '..'", nameof(name));
        }
    }

    /// <summary>Whether <paramref name="name"/> is a namespace name <c>ip netns</c> would accept, and if not, why.</summary>
    public static bool IsValidName(string? name, out string? why)
    {
        why = name switch
        {
            null or "" => "empty",
            "." or ".." => "'.' and '..' are reserved",
            _ when System.Text.Encoding.UTF8.GetByteCount(name) > 255 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{System.Text.Encoding.UTF8.GetByteCount(name)} bytes, the limit is 255"),
            _ when name.Contains('/', StringComparison.Ordinal) => "contains '/'",
            _ when Rtnl.InterfaceName.HasWhiteSpaceOrNul(name) => "contains whitespace or NUL",
            _ => null,
        };
        return why is null;
    }

    /// <summary>Runs <paramref name="work"/> on a dedicated thread inside this namespace and returns its result.
    /// Use it to open things that bind to the namespace at creation (sockets, /proc/sys/net files).</summary>
    /// <remarks>See <see cref="RunInside{TState, TResult}(Func{TState, TResult}, TState)"/>.</remarks>
    public T RunInside<T>(Func<T> work)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        return NamespaceThread.Run(this, work);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with <paramref name="state"/> on a dedicated thread inside this namespace and
    /// returns its result, blocking the caller until it is done; an exception it throws is rethrown here.
    /// </summary>
    /// <remarks>
    /// This is the one way into a namespace for code outside this library, such as a native library that opens its
    /// sockets in the calling thread's namespace (libnftables). <c>setns</c> is never called on the caller's thread
    /// or a thread-pool thread: the work runs on a short-lived thread that serves only such work and enters the
    /// namespace before every item. What the work opens stays bound to the namespace afterwards. The work must not
    /// change namespace itself, nor block on other work submitted here (the threads are few, one per core).
    /// </remarks>
    /// <typeparam name="TState">The state's type (pass a static lambda and the state to avoid a closure).</typeparam>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="work">What to run inside the namespace.</param>
    /// <param name="state">Handed to <paramref name="work"/>.</param>
    /// <exception cref="ObjectDisposedException">This handle is closed.</exception>
    /// <exception cref="NetlinkException">The namespace cannot be entered (<c>setns</c> failed).</exception>
    public TResult RunInside<TState, TResult>(Func<TState, TResult> work, TState state)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(IsClosed, this);
        return NamespaceThread.Run(this, work, state);
    }

    /// <summary>A second, independent handle on the same namespace.</summary>
    public NetworkNamespace Duplicate()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        var fd = Libc.Dup((int)handle);
        return fd < 0 ? throw NetlinkException.FromLastError("dup namespace", ToString()) : new NetworkNamespace(fd, Name, Path) { _cookie = Volatile.Read(ref _cookie) };
    }

    /// <summary>The file descriptor, for attributes such as <c>IFLA_NET_NS_FD</c>.</summary>
    internal int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name ?? Path;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;

    /// <summary>The path of the named namespace.</summary>
    internal static string PathOf(string name) => RunDirectory + "/" + name;

    /// <summary>Makes the empty file a namespace is mounted on, as <c>ip netns add</c> does (mode 0, and never over
    /// an existing one).</summary>
    /// <exception cref="NetlinkException"><c>EEXIST</c> when the name is taken.</exception>
    internal static void CreateMountPoint(string name)
    {
        var fd = Libc.Open(PathOf(name), Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw NetlinkException.FromLastError("create namespace", name);
        }

        Libc.Close(fd);
    }

    private static NetworkNamespace OpenPath(string path, string? name)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        return fd < 0 ? throw NetlinkException.FromLastError("open namespace", name ?? path) : new NetworkNamespace(fd, name, path);
    }

    /// <summary>Makes /run/netns exist and be a shared mount, as iproute2 does, so namespaces mounted
    /// there propagate to every mount namespace that later sees the directory.</summary>
    internal static void EnsureRunDirectory()
    {
        var made = Libc.Mkdir(RunDirectory, 0x1ED /* 0755 */) == 0;
        if (!made && Marshal.GetLastPInvokeError() != Errno.EEXIST)
        {
            throw NetlinkException.FromLastError("create directory", RunDirectory);
        }

        // iproute2 re-shares the directory on every add. MS_REC walks every namespace mounted below it, so doing
        // that each time makes creating N namespaces cost O(N^2); once per process (and again whenever the
        // directory had to be made anew) keeps the same propagation.
        var inode = Libc.InodeOf(RunDirectory);
        if (!made && Volatile.Read(ref _sharedRunDirectoryInode) == inode)
        {
            return;
        }

        var madeBind = false;
        while (Libc.Mount("", RunDirectory, "none", Libc.MS_SHARED | Libc.MS_REC, 0) != 0)
        {
            if (Marshal.GetLastPInvokeError() != Errno.EINVAL || madeBind)
            {
                throw NetlinkException.FromLastError("make shared mount", RunDirectory);
            }

            // Not a mount point yet: bind it onto itself, then share it.
            if (Libc.Mount(RunDirectory, RunDirectory, "none", Libc.MS_BIND | Libc.MS_REC, 0) != 0)
            {
                throw NetlinkException.FromLastError("bind-mount directory", RunDirectory);
            }

            madeBind = true;
        }

        Volatile.Write(ref _sharedRunDirectoryInode, Libc.InodeOf(RunDirectory));
    }

    private static ulong _sharedRunDirectoryInode;

    private ulong _cookie; // 0 until read: the kernel's cookies start at 1
}
