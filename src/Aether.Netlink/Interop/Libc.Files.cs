using System.Runtime.InteropServices;

namespace Aether.Netlink.Interop;

/// <summary>The file-system side of libc the namespace watcher uses: inotify, reads, statx identities, the nsfs
/// ioctl and pidfds. Kept beside <c>Libc.cs</c> as a partial so the socket and namespace calls stay readable.</summary>
internal static unsafe partial class Libc
{
    /// <summary><c>IN_NONBLOCK</c> (= <c>O_NONBLOCK</c>).</summary>
    public const int IN_NONBLOCK = 0x800;

    /// <summary><c>IN_CLOEXEC</c> (= <c>O_CLOEXEC</c>).</summary>
    public const int IN_CLOEXEC = 0x80000;

    /// <summary><c>IN_MOVED_FROM</c>: an entry was renamed out of the watched directory.</summary>
    public const uint IN_MOVED_FROM = 0x40;

    /// <summary><c>IN_MOVED_TO</c>: an entry was renamed into the watched directory.</summary>
    public const uint IN_MOVED_TO = 0x80;

    /// <summary><c>IN_CREATE</c>: an entry was created in the watched directory.</summary>
    public const uint IN_CREATE = 0x100;

    /// <summary><c>IN_DELETE</c>: an entry was removed from the watched directory.</summary>
    public const uint IN_DELETE = 0x200;

    /// <summary><c>IN_DELETE_SELF</c>: the watched directory itself was removed.</summary>
    public const uint IN_DELETE_SELF = 0x400;

    /// <summary><c>IN_MOVE_SELF</c>: the watched directory itself was renamed.</summary>
    public const uint IN_MOVE_SELF = 0x800;

    /// <summary><c>IN_UNMOUNT</c>: the file system holding the watched directory was unmounted.</summary>
    public const uint IN_UNMOUNT = 0x2000;

    /// <summary><c>IN_Q_OVERFLOW</c>: the event queue overflowed and events were lost.</summary>
    public const uint IN_Q_OVERFLOW = 0x4000;

    /// <summary><c>IN_IGNORED</c>: the watch was removed (explicitly, or because its inode went away).</summary>
    public const uint IN_IGNORED = 0x8000;

    /// <summary><c>IN_ONLYDIR</c>: watch the path only if it is a directory.</summary>
    public const uint IN_ONLYDIR = 0x01000000;

    /// <summary><c>IN_ISDIR</c>: the event's subject is a directory.</summary>
    public const uint IN_ISDIR = 0x40000000;

    /// <summary><c>NS_GET_NSTYPE</c> (<c>_IO(0xb7, 0x3)</c>): the <c>CLONE_NEW*</c> type of an nsfs file.</summary>
    public const uint NS_GET_NSTYPE = 0xb703;

    /// <summary><c>NS_GET_ID</c> (<c>_IOR(0xb7, 0xd, __u64)</c>, kernel 6.18): the namespace's 64-bit id, for a network
    /// namespace its cookie.</summary>
    public const uint NS_GET_ID = 0x8008b70d;

    /// <summary><c>POLLPRI</c>: exceptional condition (the mount table changed, for <c>/proc/self/mountinfo</c>).</summary>
    public const short POLLPRI = 0x2;

    /// <summary><c>POLLERR</c>.</summary>
    public const short POLLERR = 0x8;

    /// <summary><c>AT_FDCWD</c>.</summary>
    public const int AT_FDCWD = -100;

    /// <summary><c>STATX_TYPE | STATX_INO</c>: what <see cref="Identify"/> asks for.</summary>
    private const uint STATX_TYPE_INO = 0x1 | 0x100;

    /// <summary>The fixed part of <c>struct inotify_event</c>: wd, mask, cookie, len.</summary>
    public const int InotifyEventHeader = 16;

    [LibraryImport(Lib, EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    [LibraryImport(Lib, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport(Lib, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint arg);

    /// <summary><c>pidfd_open</c> (Linux 5.3, glibc 2.36): a descriptor that polls readable when the process exits.</summary>
    [LibraryImport(Lib, EntryPoint = "pidfd_open", SetLastError = true)]
    public static partial int PidfdOpen(int pid, uint flags);

    /// <summary>A file's identity as <c>statx</c> reports it: the device it lives on, its inode, and its type bits.</summary>
    /// <param name="Major">The device's major number.</param>
    /// <param name="Minor">The device's minor number.</param>
    /// <param name="Inode">The inode number.</param>
    /// <param name="Mode">The file type bits of <c>stx_mode</c> (<c>S_IFMT</c>).</param>
    [StructLayout(LayoutKind.Auto)]
    public readonly record struct FileId(uint Major, uint Minor, ulong Inode, int Mode)
    {
        /// <summary>Whether it is a directory (<c>S_IFDIR</c>).</summary>
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;

        /// <summary>Whether two identities are on the same device.</summary>
        public bool SameDevice(FileId other) => Major == other.Major && Minor == other.Minor;
    }

    /// <summary>The identity of <paramref name="path"/> (symlinks followed), or the errno when it cannot be had.</summary>
    public static int Identify(string path, out FileId id)
    {
        // struct statx: stx_mode u16 at 28, stx_ino u64 at 32, stx_dev_major/minor u32 at 136/140.
        byte* buf = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, 0, STATX_TYPE_INO, buf) != 0)
        {
            id = default;
            return Marshal.GetLastPInvokeError();
        }

        id = new FileId(*(uint*)(buf + 136), *(uint*)(buf + 140), *(ulong*)(buf + 32), *(ushort*)(buf + 28));
        return 0;
    }
}
