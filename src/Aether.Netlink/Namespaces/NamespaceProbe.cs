using System.Globalization;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>Whether a path is a network namespace that can be used now, and which processes hold which namespace.</summary>
internal static class NamespaceProbe
{
    /// <summary>What a path is.</summary>
    public enum State
    {
        /// <summary>Nothing there (or a directory, which no namespace is mounted on).</summary>
        Missing,

        /// <summary>A file that is not (or not yet) a network namespace: <c>ip netns add</c> creates the entry, then
        /// bind-mounts the namespace onto it about a millisecond later; <c>setns</c> rejects the plain file.</summary>
        NotYet,

        /// <summary>An nsfs mount of a network namespace: opening it and <c>setns</c> work.</summary>
        Usable,
    }

    /// <summary>nsfs: the one pseudo file system every namespace file lives on.</summary>
    public static readonly Libc.FileId Nsfs = Identify("/proc/self/ns/net");

    /// <summary>The inode of the process's own network namespace.</summary>
    public static ulong OwnInode { get; } = Nsfs.Inode;

    /// <summary>Probes <paramref name="path"/>: one <c>statx</c>, plus an open and <c>NS_GET_NSTYPE</c> for an nsfs
    /// inode not seen before (<paramref name="knownInode"/> is the one already confirmed for this path, or 0).</summary>
    public static State Probe(string path, ulong knownInode, out ulong inode)
    {
        inode = 0;
        var errno = Libc.Identify(path, out var id);
        if (errno != 0)
        {
            return errno is Errno.ENOENT or Errno.ENOTDIR ? State.Missing : State.NotYet;
        }

        if (id.IsDirectory)
        {
            return State.Missing; // a directory is never a namespace, and never becomes one by a mount of a namespace
        }

        if (!id.SameDevice(Nsfs))
        {
            return State.NotYet;
        }

        if (id.Inode != knownInode && !IsNetworkNamespace(path))
        {
            return State.NotYet; // a namespace of another kind mounted there: never usable as a network namespace
        }

        inode = id.Inode;
        return State.Usable;
    }

    /// <summary>The network namespace inode of every process, with the pids in it (ascending), from
    /// <c>/proc/PID/ns/net</c>. Processes that exit meanwhile, and kernel threads without one, are skipped.</summary>
    public static Dictionary<ulong, List<int>> ProcessNamespaces()
    {
        var result = new Dictionary<ulong, List<int>>();
        var pids = new List<int>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(dir.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        pids.Sort();
        foreach (var pid in pids)
        {
            if (Libc.Identify(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/ns/net"), out var id) != 0 || !id.SameDevice(Nsfs))
            {
                continue;
            }

            if (!result.TryGetValue(id.Inode, out var holders))
            {
                holders = [];
                result[id.Inode] = holders;
            }

            holders.Add(pid);
        }

        return result;
    }

    private static bool IsNetworkNamespace(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return Libc.Ioctl(fd, Libc.NS_GET_NSTYPE, 0) == Libc.CLONE_NEWNET;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    private static Libc.FileId Identify(string path)
    {
        var errno = Libc.Identify(path, out var id);
        return errno == 0 ? id : throw new NetlinkException(errno, "stat", path);
    }
}
