using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;

namespace Aether.Hub;

/// <summary>
/// Tells when one process exits: a pidfd (<c>pidfd_open</c>, Linux 5.3) polled on a small dedicated thread, which
/// calls back once when the pidfd becomes readable. The hub holds one per container given by pid, so a container
/// whose process exits is let go at once rather than at the next resync. The thread never changes namespace.
/// </summary>
internal sealed unsafe class ProcessExitWatch : IDisposable
{
    private readonly int _pidfd;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly Action _exited;
    private int _disposed;

    private ProcessExitWatch(int pid, int pidfd, int wakeFd, Action exited)
    {
        Pid = pid;
        _pidfd = pidfd;
        _wakeFd = wakeFd;
        _exited = exited;
        _thread = new Thread(Run, 64 * 1024) { IsBackground = true, Name = "aether-hub-pidfd" };
        _thread.UnsafeStart();
    }

    /// <summary>The process watched.</summary>
    public int Pid { get; }

    /// <summary>Starts watching <paramref name="pid"/>; <paramref name="exited"/> is called once, on the watch's
    /// thread, when it exits (at once when it has exited already).</summary>
    /// <param name="pid">The process.</param>
    /// <param name="exited">Called once it exited.</param>
    /// <param name="pinned">A pidfd already held on the process (the one its namespace was opened under), which
    /// is duplicated rather than a new one opened by number (a reused pid would be another process); or -1.</param>
    /// <returns>The watch, or null where the kernel or the C library has no pidfds (the resync's probe covers
    /// it).</returns>
    public static ProcessExitWatch? Start(int pid, Action exited, int pinned = -1)
    {
        ArgumentNullException.ThrowIfNull(exited);
        int pidfd;
        try
        {
            pidfd = pinned >= 0 ? Libc.Dup(pinned) : Libc.PidfdOpen(pid, 0);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        if (pidfd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ESRCH)
            {
                exited();
                return null;
            }

            return errno == Errno.ENOSYS ? null : throw new NetlinkException(errno, "pidfd_open", "process " + pid);
        }

        var wakeFd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (wakeFd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Libc.Close(pidfd);
            throw new NetlinkException(errno, "eventfd", "process " + pid);
        }

        return new ProcessExitWatch(pid, pidfd, wakeFd, exited);
    }

    /// <summary>Stops watching (no call back after this returns) and closes the descriptors.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ulong one = 1;
        Libc.Write(_wakeFd, &one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        Libc.Close(_pidfd);
        Libc.Close(_wakeFd);
    }

    private void Run()
    {
        var fds = stackalloc Libc.PollFd[2];
        while (true)
        {
            fds[0] = new Libc.PollFd { Fd = _pidfd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
            var n = Libc.Poll(fds, 2, -1);
            if (n < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
                continue;
            }

            if (fds[1].REvents != 0 || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            if (n < 0 || fds[0].REvents != 0)
            {
                _exited();
                return;
            }
        }
    }
}
