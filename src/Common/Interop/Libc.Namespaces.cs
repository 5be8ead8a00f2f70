using System.Runtime.InteropServices;

namespace Aether.Interop;

// Namespaces: entering and creating them, and the bind mounts that name them under /run/netns (see
// Libc.cs for the layout).
internal static partial class Libc
{
    public const int CLONE_NEWNET = 0x40000000;

    public const ulong MS_BIND = 4096;
    public const ulong MS_REC = 16384;
    public const ulong MS_SHARED = 1 << 20;
    public const int MNT_DETACH = 2;

    // NS_GET_NSTYPE (_IO(0xb7, 0x3)): the CLONE_NEW* type of an nsfs file.
    public const uint NS_GET_NSTYPE = 0xb703;

    // NS_GET_ID (_IOR(0xb7, 0xd, __u64), kernel 6.18): the namespace's 64-bit id, for a network namespace its cookie.
    public const uint NS_GET_ID = 0x8008b70d;

    [LibraryImport(Lib, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    [LibraryImport(Lib, EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport(Lib, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fsType, ulong flags, nint data);

    [LibraryImport(Lib, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint arg);
}
