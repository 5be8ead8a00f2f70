using System.Runtime.InteropServices;

namespace Aether.Interop;

// File identities through statx: inodes, devices and types, whose layout is the same on every
// architecture (see Libc.cs for the layout of these files).
internal static unsafe partial class Libc
{
    public const int AT_FDCWD = -100;

    // AT_EMPTY_PATH: the descriptor itself, when the path is empty.
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_INO = 0x100;
    public const uint STATX_SIZE = 0x200;

    // S_IFMT: the file type bits of a mode.
    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFREG = 0x8000;
    public const int S_IFLNK = 0xA000;
    public const int S_IFBLK = 0x6000;
    public const int S_IFCHR = 0x2000;
    public const int S_IFIFO = 0x1000;

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxBuf);

    // The inode of the file behind fd, or 0.
    public static ulong InodeOf(int fd)
    {
        byte* buf = stackalloc byte[256];
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_INO, buf) != 0)
        {
            return 0;
        }

        return *(ulong*)(buf + 32); // struct statx: stx_ino at offset 32
    }

    // The inode of path without opening it, or 0.
    public static ulong InodeOf(string path)
    {
        byte* buf = stackalloc byte[256];
        return Statx(AT_FDCWD, path, 0, STATX_INO, buf) != 0 ? 0 : *(ulong*)(buf + 32);
    }

    // Whether path (not followed) is a socket, and its inode; false when it does not
    // exist. .NET's file APIs have no socket type.
    public static bool TryStatSocket(string path, out bool isSocket, out ulong inode)
    {
        byte* buf = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, buf) != 0)
        {
            isSocket = false;
            inode = 0;
            return false;
        }

        // struct statx: stx_mode (u16) at 28, stx_ino (u64) at 32.
        isSocket = (*(ushort*)(buf + 28) & S_IFMT) == S_IFSOCK;
        inode = *(ulong*)(buf + 32);
        return true;
    }

    // A file's identity as statx reports it: the device it lives on, its inode, and its type bits.
    // Major and Minor name the device, Mode holds the file type bits of stx_mode (S_IFMT).
    [StructLayout(LayoutKind.Auto)]
    public readonly record struct FileId(uint Major, uint Minor, ulong Inode, int Mode)
    {
        // Whether it is a directory (S_IFDIR).
        public bool IsDirectory => (Mode & S_IFMT) == S_IFDIR;

        // Whether two identities are on the same device.
        public bool SameDevice(FileId other) => Major == other.Major && Minor == other.Minor;
    }

    // The identity of path (symlinks followed), or the errno when it cannot be had.
    public static int Identify(string path, out FileId id)
    {
        // struct statx: stx_mode u16 at 28, stx_ino u64 at 32, stx_dev_major/minor u32 at 136/140.
        byte* buf = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_INO, buf) != 0)
        {
            id = default;
            return Marshal.GetLastPInvokeError();
        }

        id = new FileId(*(uint*)(buf + 136), *(uint*)(buf + 140), *(ulong*)(buf + 32), *(ushort*)(buf + 28));
        return 0;
    }

    // The identity of the file behind fd (an O_PATH descriptor too), or the errno when it cannot be had.
    public static int Identify(int fd, out FileId id)
    {
        byte* buf = stackalloc byte[256];
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_INO, buf) != 0)
        {
            id = default;
            return Marshal.GetLastPInvokeError();
        }

        id = new FileId(*(uint*)(buf + 136), *(uint*)(buf + 140), *(ulong*)(buf + 32), *(ushort*)(buf + 28));
        return 0;
    }

    // The type bits (S_IFMT) and the size of the file behind fd, or the errno when it cannot be had.
    public static int TypeAndSize(int fd, out int type, out long size)
    {
        // struct statx: stx_mode u16 at 28, stx_size u64 at 40.
        byte* buf = stackalloc byte[256];
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, buf) != 0)
        {
            type = 0;
            size = 0;
            return Marshal.GetLastPInvokeError();
        }

        type = *(ushort*)(buf + 28) & S_IFMT;
        size = (long)*(ulong*)(buf + 40);
        return 0;
    }
}
