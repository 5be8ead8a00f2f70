using System.Runtime.InteropServices;

namespace Aether.Interop;

// Sockets: netlink sockets opened, bound, tuned and read (see Libc.cs for the layout).
internal static unsafe partial class Libc
{
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

    // struct sockaddr_nl.
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    // struct timeval.
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public nint Seconds;
        public nint Microseconds;
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
}
