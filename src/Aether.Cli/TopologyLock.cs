using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;

namespace Aether.Cli;

/// <summary>
/// An exclusive <c>flock(2)</c> on <c>/run/aether/NAME.lock</c>, so two <c>apply</c>, <c>destroy</c> or <c>run</c>
/// of the same topology never work at once, across processes. Released when disposed (or when the process dies).
/// </summary>
/// <remarks><c>flock</c> through <see cref="Libc"/>: no library here takes one. <see cref="FileStream"/> cannot be used for
/// it: on Unix it takes its own non-blocking <c>flock</c> per open (shared unless <see cref="FileShare.None"/>) and
/// throws instead of waiting when another process holds the lock, so the file is opened with <c>open(2)</c>.</remarks>
internal sealed class TopologyLock : IDisposable
{
    /// <summary>Where the lock files live.</summary>
    public const string Directory = "/run/aether";

    private int _fd;

    private TopologyLock(int fd) => _fd = fd;

    /// <summary>The lock file of the topology <paramref name="name"/>.</summary>
    public static string PathOf(string name) => System.IO.Path.Combine(Directory, name.Replace('/', '_') + ".lock");

    /// <summary>Takes the lock; when another process holds it, says so on stderr and waits for it until
    /// <paramref name="cancellationToken"/> is cancelled (a signal: <c>run</c> stopped while it waited).</summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static TopologyLock Acquire(string name, CancellationToken cancellationToken = default)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(name);
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new IOException($"open {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (!TryLock(fd, path))
            {
                Console.Error.WriteLine($"aether: waiting for another aether working on {name} (lock {path})");

                // A blocking flock cannot be cancelled from another thread, so the wait tries again every 20 ms: waiting
                // is rare, and a signal must be able to end it.
                while (!TryLock(fd, path))
                {
                    cancellationToken.WaitHandle.WaitOne(20);
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            return new TopologyLock(fd);
        }
        catch
        {
            _ = Libc.Close(fd);
            throw;
        }
    }

    private static bool TryLock(int fd, string path)
    {
        while (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
        {
            switch (Marshal.GetLastPInvokeError())
            {
                case Errno.EINTR:
                    continue;
                case Errno.EWOULDBLOCK:
                    return false;
                case var errno:
                    throw new IOException($"flock {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = Libc.Close(fd);
        }
    }
}
