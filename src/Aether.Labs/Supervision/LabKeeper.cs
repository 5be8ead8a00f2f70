using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Aether.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aether.Labs.Supervision;

/// <summary>
/// Says that a long-running process (the daemon) keeps a lab: an exclusive <c>flock</c> on
/// <c>STATE/labs/NAME/keeper.lock</c>, held while its runtime runs, with the holder's pid written in it. The kernel drops
/// the lock when the process dies (SIGKILL too), so a stale file means nothing. A short command that would change the
/// lab under it (<c>aether lab deploy</c>, <c>destroy</c>, <c>run</c>) asks <see cref="Holder"/> first and refuses while
/// someone keeps it: the keeper would otherwise repair what the command removes, or apply the lab as it was.
/// </summary>
public sealed class LabKeeper : IDisposable
{
    /// <summary>The file's name in the lab's directory.</summary>
    public const string FileName = "keeper.lock";

    private const int EWOULDBLOCK = 11;

    private readonly SafeFileHandle _handle;

    private LabKeeper(SafeFileHandle handle) => _handle = handle;

    /// <summary>Takes the lock for this process (creating the directory and file), or returns null when another
    /// process holds it.</summary>
    /// <param name="labDirectory">The lab's directory (<see cref="LabController.LabDirectory"/>).</param>
    /// <exception cref="IOException">The file could not be opened or locked.</exception>
    public static LabKeeper? Hold(string labDirectory)
    {
        Directory.CreateDirectory(labDirectory);
        var handle = Open(labDirectory);
        try
        {
            if (!TryLock(handle))
            {
                handle.Dispose();
                return null;
            }

            var text = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, text, 0);
            return new LabKeeper(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The pid of the process that keeps the lab, or null when none does (no file, or nobody holds its
    /// lock). Takes nothing: a free lock is let go at once.</summary>
    /// <param name="labDirectory">The lab's directory.</param>
    public static int? Holder(string labDirectory)
    {
        if (!File.Exists(Path.Combine(labDirectory, FileName)))
        {
            return null;
        }

        using var handle = Open(labDirectory);
        if (TryLock(handle))
        {
            return null; // closing the file lets it go
        }

        var buffer = new byte[32];
        var n = RandomAccess.Read(handle, buffer, 0);
        return int.TryParse(Encoding.ASCII.GetString(buffer, 0, n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
    }

    /// <summary>Lets the lab go (closing the file drops the lock; the file stays).</summary>
    public void Dispose() => _handle.Dispose();

    private static SafeFileHandle Open(string labDirectory)
    {
        var path = Path.Combine(labDirectory, FileName);
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4); // 0644: others may read who keeps it
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Whether the exclusive lock was taken (false: another process holds it).</summary>
    private static bool TryLock(SafeFileHandle handle)
    {
        if (Libc.Flock((int)handle.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EWOULDBLOCK ? false : throw new IOException($"cannot lock {FileName}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
