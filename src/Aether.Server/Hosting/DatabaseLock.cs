using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Aether.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aether.Server;

/// <summary>
/// One daemon per database: an exclusive <c>flock</c> on <c>DB.lock</c> beside the database, held for the daemon's
/// life (the kernel drops it when the process dies, SIGKILL included), with the holder's pid written in it so a second
/// daemon can say who has it. Before locking, the database's directory and file are checked: neither may be a
/// symbolic link or owned by another user, and the directory may not be writable by group or others (whoever can
/// write there can swap the file that holds the private keys).
/// </summary>
internal sealed partial class DatabaseLock : IDisposable
{
    private const int O_NOFOLLOW = 0x20000; // x86_64 and most architectures; arm64 below
    private const int O_NOFOLLOW_ARM64 = 0x8000;
    private const int S_IFLNK = 0xA000;
    private const int S_IFREG = 0x8000;
    private const uint STATX_MODE_UID = 0x2 | 0x8; // STATX_MODE | STATX_UID
    private const int EWOULDBLOCK = 11;
    private const int ELOOP = 40;

    private readonly SafeFileHandle _handle;

    private DatabaseLock(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Checks the database's directory (creating it with mode 0700 when missing) and file, then takes the
    /// lock.</summary>
    /// <exception cref="ServerOptionsException">A check failed, or another daemon holds the lock (its pid named).</exception>
    public static DatabaseLock Acquire(string databasePath)
    {
        var db = System.IO.Path.GetFullPath(databasePath);
        var directory = System.IO.Path.GetDirectoryName(db)!;
        if (!Directory.Exists(directory) && !File.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var euid = GetEuid();
        CheckOwned(databasePath, directory, euid, isDirectory: true);
        CheckOwned(databasePath, db, euid, isDirectory: false);

        var lockPath = db + ".lock";
        var flags = Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC | (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? O_NOFOLLOW_ARM64 : O_NOFOLLOW);
        var fd = Libc.Open(lockPath, flags, 0x180); // 0600
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ServerOptionsException(errno == ELOOP
                ? $"--db {databasePath}: the lock file {lockPath} is a symbolic link: not following it"
                : $"--db {databasePath}: cannot open the lock file {lockPath}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            CheckOwned(databasePath, lockPath, euid, isDirectory: false);
            if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EWOULDBLOCK)
                {
                    var holder = ReadPid(handle);
                    throw new ServerOptionsException(
                        $"--db {databasePath}: another daemon ({(holder is { } pid ? "pid " + pid.ToString(CultureInfo.InvariantCulture) : "pid unknown")}) uses this database: it holds {lockPath}. Stop it, or give this one another --db");
                }

                throw new ServerOptionsException($"--db {databasePath}: cannot lock {lockPath}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }

            var text = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, text, 0);
            return new DatabaseLock(lockPath, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Releases the lock (closing the file drops it); the file stays, so a next daemon takes the same one.</summary>
    public void Dispose() => _handle.Dispose();

    private static int? ReadPid(SafeFileHandle handle)
    {
        var buffer = new byte[32];
        var n = RandomAccess.Read(handle, buffer, 0);
        return int.TryParse(Encoding.ASCII.GetString(buffer, 0, n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    /// <summary>Refuses <paramref name="path"/> when it is a symbolic link, owned by another user than the daemon's,
    /// of the wrong type, or (a directory) writable by group or others. A missing file passes (it is created).</summary>
    private static unsafe void CheckOwned(string option, string path, uint euid, bool isDirectory)
    {
        byte* buf = stackalloc byte[256];
        if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, STATX_MODE_UID, buf) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == 2 && !isDirectory)
            {
                return; // ENOENT: created with mode 0600
            }

            throw new ServerOptionsException($"--db {option}: cannot stat {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }

        // struct statx: stx_uid u32 at 20, stx_mode u16 at 28.
        var uid = *(uint*)(buf + 20);
        var mode = (int)*(ushort*)(buf + 28);
        var what = isDirectory ? "the database's directory" : "the file";
        if ((mode & Libc.S_IFMT) == S_IFLNK)
        {
            throw new ServerOptionsException($"--db {option}: {what} {path} is a symbolic link: give the real path (a link could point the private keys anywhere)");
        }

        if ((mode & Libc.S_IFMT) != (isDirectory ? Libc.S_IFDIR : S_IFREG))
        {
            throw new ServerOptionsException($"--db {option}: {path} is not a {(isDirectory ? "directory" : "regular file")}");
        }

        if (uid != euid)
        {
            throw new ServerOptionsException($"--db {option}: {what} {path} is owned by uid {uid}, not by the daemon's user (uid {euid})");
        }

        if (isDirectory && (mode & 0x12) != 0)
        {
            throw new ServerOptionsException(
                $"--db {option}: the database's directory {path} has mode {Convert.ToString(mode & 0xFFF, 8)}: it must not be writable by group or others (0700 or 0755)");
        }
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
