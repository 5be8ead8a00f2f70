using System.Runtime.InteropServices;

namespace Aether.Netlink.Interop;

/// <summary>
/// Every libc entry point the library uses, in one place. .NET's <see cref="System.Net.Sockets.Socket"/>
/// does not speak AF_NETLINK, and it has no setns, unshare or mount, so these are called directly.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_SNDBUFFORCE = 32;
    public const int SO_RCVTIMEO = 20;
    public const int SO_RCVBUFFORCE = 33;
    public const int SO_PROTOCOL = 38;
    public const int SO_DOMAIN = 39;
    public const int SO_NETNS_COOKIE = 71;
    public const int SOL_NETLINK = 270;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_PEEK = 0x02;

    public const int CLONE_NEWNET = 0x40000000;

    public const int O_RDONLY = 0;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_CLOEXEC = 0x80000;

    public const ulong MS_BIND = 4096;
    public const ulong MS_REC = 16384;
    public const ulong MS_SHARED = 1 << 20;
    public const int MNT_DETACH = 2;

    public const short POLLIN = 0x1;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_INO = 0x100;

    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public nint Seconds;
        public nint Microseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, SockaddrNl* addr, int len);

    [LibraryImport(Lib, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, SockaddrNl* addr, int* len);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, int len);

    [LibraryImport(Lib, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, int* len);

    [LibraryImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, byte* buf, nint len, int flags, SockaddrNl* addr, int addrLen);

    [LibraryImport(Lib, EntryPoint = "recvfrom", SetLastError = true)]
    public static partial nint RecvFrom(int fd, byte* buf, nint len, int flags, SockaddrNl* addr, int* addrLen);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(Lib, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(Lib, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string existing, string path);

    [LibraryImport(Lib, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    [LibraryImport(Lib, EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport(Lib, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fsType, ulong flags, nint data);

    [LibraryImport(Lib, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxBuf);

    [LibraryImport(Lib, EntryPoint = "gettid")]
    public static partial int GetTid();

    /// <summary>The inode of the file behind <paramref name="fd"/> (statx's layout is the same on every architecture).</summary>
    public static ulong InodeOf(int fd)
    {
        byte* buf = stackalloc byte[256];
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_INO, buf) != 0)
        {
            return 0;
        }

        return *(ulong*)(buf + 32); // struct statx: stx_ino at offset 32
    }

    /// <summary>The inode of <paramref name="path"/> without opening it.</summary>
    public static ulong InodeOf(string path)
    {
        byte* buf = stackalloc byte[256];
        return Statx(-100 /* AT_FDCWD */, path, 0, STATX_INO, buf) != 0 ? 0 : *(ulong*)(buf + 32);
    }
}
