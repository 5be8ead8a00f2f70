using System.Runtime.InteropServices;

namespace Aether.Interop;

// Packet sockets: a raw Ethernet frame sent on one interface and read on another (see Libc.cs for the layout;
// socket() itself is in Libc.Sockets.cs). .NET's
// Socket opens AF_PACKET but has no sockaddr_ll to bind one to an interface or to send on one.
internal static unsafe partial class Libc
{
    public const int AF_PACKET = 17;
    public const int SOCK_NONBLOCK = 0x800;

    // struct sockaddr_ll.
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrLl
    {
        public ushort Family;
        public ushort Protocol; // network byte order
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public fixed byte Addr[8];
    }

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    public static partial int BindLl(int fd, SockaddrLl* addr, int len);

    [LibraryImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendToLl(int fd, byte* buf, nint len, int flags, SockaddrLl* addr, int addrLen);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buf, nint len, int flags);
}
