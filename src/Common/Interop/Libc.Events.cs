using System.Runtime.InteropServices;

namespace Aether.Interop;

// Waiting for things: poll, eventfds that wake a reading thread, inotify and pidfds (see
// Libc.cs for the layout).
internal static unsafe partial class Libc
{
    public const short POLLIN = 0x1;

    // POLLPRI: exceptional condition (the mount table changed, for /proc/self/mountinfo).
    public const short POLLPRI = 0x2;
    public const short POLLERR = 0x8;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    // IN_NONBLOCK (= O_NONBLOCK).
    public const int IN_NONBLOCK = 0x800;

    // IN_CLOEXEC (= O_CLOEXEC).
    public const int IN_CLOEXEC = 0x80000;

    // IN_MOVED_FROM: an entry was renamed out of the watched directory.
    public const uint IN_MOVED_FROM = 0x40;

    // IN_MOVED_TO: an entry was renamed into the watched directory.
    public const uint IN_MOVED_TO = 0x80;

    // IN_CREATE: an entry was created in the watched directory.
    public const uint IN_CREATE = 0x100;

    // IN_DELETE: an entry was removed from the watched directory.
    public const uint IN_DELETE = 0x200;

    // IN_DELETE_SELF: the watched directory itself was removed.
    public const uint IN_DELETE_SELF = 0x400;

    // IN_MOVE_SELF: the watched directory itself was renamed.
    public const uint IN_MOVE_SELF = 0x800;

    // IN_UNMOUNT: the file system holding the watched directory was unmounted.
    public const uint IN_UNMOUNT = 0x2000;

    // IN_Q_OVERFLOW: the event queue overflowed and events were lost.
    public const uint IN_Q_OVERFLOW = 0x4000;

    // IN_IGNORED: the watch was removed (explicitly, or because its inode went away).
    public const uint IN_IGNORED = 0x8000;

    // IN_ONLYDIR: watch the path only if it is a directory.
    public const uint IN_ONLYDIR = 0x01000000;

    // IN_ISDIR: the event's subject is a directory.
    public const uint IN_ISDIR = 0x40000000;

    // The fixed part of struct inotify_event: wd, mask, cookie, len.
    public const int InotifyEventHeader = 16;

    // struct pollfd.
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Lib, EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    [LibraryImport(Lib, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport(Lib, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int wd);

    // pidfd_open (Linux 5.3, glibc 2.36): a descriptor that polls readable when the process exits.
    [LibraryImport(Lib, EntryPoint = "pidfd_open", SetLastError = true)]
    public static partial int PidfdOpen(int pid, uint flags);

    // pidfd_send_signal (Linux 5.1, glibc 2.36): signal 0 asks whether the process behind the pidfd still runs
    // (ESRCH once it exited), without the pid reuse that kill(2) by number is open to.
    [LibraryImport(Lib, EntryPoint = "pidfd_send_signal", SetLastError = true)]
    public static partial int PidfdSendSignal(int pidfd, int signal, nint info, uint flags);
}

// epoll: one descriptor that waits on many (the netlink reactor).
internal static unsafe partial class Libc
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;

    // struct epoll_event is packed on x86-64 (events at 0, data at 4: 12 bytes) and naturally aligned elsewhere (data
    // at 8: 16 bytes). Callers use these offsets over a byte buffer.
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Lib, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Lib, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport(Lib, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMs);
}

// Resource limits: the descriptor limit a process holding thousands of namespaces needs.
internal static unsafe partial class Libc
{
    public const int RLIMIT_NOFILE = 7;

    // struct rlimit.
    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport(Lib, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport(Lib, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);
}
