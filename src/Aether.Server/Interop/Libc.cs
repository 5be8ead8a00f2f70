using System.Runtime.InteropServices;

namespace Aether.Server.Interop;

/// <summary>The libc entry points the daemon uses: <c>statx</c>, to tell a socket file from any other (.NET's file
/// APIs have no socket type) and to know it is still the one we bound.</summary>
internal static unsafe partial class Libc
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int SIfMt = 0xF000;
    private const int SIfSock = 0xC000;

    /// <summary>Whether <paramref name="path"/> (not followed) is a socket, and its inode; false when it does not
    /// exist.</summary>
    public static bool TryStatSocket(string path, out bool isSocket, out ulong inode)
    {
        byte* buf = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxIno, buf) != 0)
        {
            isSocket = false;
            inode = 0;
            return false;
        }

        // statx's layout is the same on every architecture: stx_mode (u16) at 28, stx_ino (u64) at 32.
        isSocket = (*(ushort*)(buf + 28) & SIfMt) == SIfSock;
        inode = *(ulong*)(buf + 32);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxBuf);
}
