using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;

namespace Aether.Labs.Supervision;

// Waiting for the child, reaping it, and ending its process group.
public sealed partial class NodeProcess
{
    /// <summary>How long the group has to vanish after SIGKILL before it is reported as surviving (a process in an
    /// uninterruptible sleep).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    /// <summary>How often a group that has been signalled is looked at again.</summary>
    private static readonly TimeSpan GroupPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until the child exits (false) or a stop is asked for (true).</summary>
    private unsafe bool WaitForExitOrStop(Child child)
    {
        var fds = stackalloc Libc.PollFd[2];
        while (true)
        {
            fds[0] = new Libc.PollFd { Fd = child.Pidfd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
            if (Libc.Poll(fds, 2, -1) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new NetlinkException(errno, "poll", "pid " + child.Pid.ToString(CultureInfo.InvariantCulture));
            }

            if (fds[1].REvents != 0)
            {
                return true;
            }

            if (fds[0].REvents != 0)
            {
                return false;
            }
        }
    }

    /// <summary>Sleeps <paramref name="delay"/>; true when a stop cut it short.</summary>
    private unsafe bool Sleep(TimeSpan delay)
    {
        var until = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        var fd = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
        while (true)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
            if (left <= TimeSpan.Zero)
            {
                return StopRequested;
            }

            fd.REvents = 0;
            var n = Libc.Poll(&fd, 1, (int)Math.Ceiling(left.TotalMilliseconds));
            if (n > 0 || StopRequested)
            {
                return true;
            }
        }
    }

    /// <summary>The child exited unasked: reaps it, records how, stops what it left in its group. Returns how long it
    /// ran.</summary>
    private TimeSpan Exited(Child child)
    {
        var exit = Reap(child);
        var ran = Stopwatch.GetElapsedTime(child.StartedTimestamp);
        _child = null;
        Update(s => s with { Pid = null, LastExit = exit });
        var seconds = ran.TotalSeconds;
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"pid {child.Pid} exited: {exit} after {seconds:0.###} s"));
        LogExited(_logger, Spec.Argv[0], Namespace, exit.ToString(), seconds);
        if (ProcStat.LivingMembers(child.Pid) is { Count: > 0 } left)
        {
            _log.Write(string.Create(CultureInfo.InvariantCulture, $"its process group {child.Pid} still has {left.Count} process(es): SIGTERM"));
            TerminateGroup(child);
        }

        Libc.Close(child.Pidfd);
        return ran;
    }

    /// <summary>A stop was asked for while the child runs: SIGTERM to its group, SIGKILL after the grace.</summary>
    private void Stop(Child child)
    {
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"stopping pid {child.Pid}: SIGTERM to its process group"));
        var exit = TerminateGroup(child);
        _child = null;
        Update(s => s with { Pid = null, LastExit = exit ?? s.LastExit });
        var what = exit?.ToString() ?? "not reaped";
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"stopped pid {child.Pid}: {what}"));
        LogStopped(_logger, Spec.Argv[0], Namespace, what);
        Libc.Close(child.Pidfd);
    }

    /// <summary>Ends the process group led by <paramref name="child"/>: SIGTERM, and SIGKILL when a member (not a
    /// zombie) is left after the grace. The child is reaped on the way; its exit is returned when it was reaped
    /// here.</summary>
    /// <remarks>The group is signalled only while a member is alive: its id is then still in use, and so cannot
    /// have been given to another group.</remarks>
    private ProcessExit? TerminateGroup(Child child)
    {
        ProcessExit? exit = null;
        var pgid = child.Pid;
        _ = Libc.Kill(-pgid, Libc.SIGTERM);
        if (WaitForGroup(child, _policy.StopGrace, ref exit))
        {
            return exit;
        }

        var grace = _policy.StopGrace.TotalSeconds;
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"process group {pgid} did not stop within {grace:0.###} s: SIGKILL"));
        LogKilled(_logger, Spec.Argv[0], pgid, Namespace);
        _ = Libc.Kill(-pgid, Libc.SIGKILL);
        if (!WaitForGroup(child, KillWait, ref exit))
        {
            var left = string.Join(' ', ProcStat.LivingMembers(pgid));
            _log.Write(string.Create(CultureInfo.InvariantCulture, $"process group {pgid} survived SIGKILL for {KillWait.TotalSeconds:0} s: pids {left}"));
        }

        return exit;
    }

    /// <summary>Waits up to <paramref name="timeout"/> until no member of the child's group is alive, reaping the
    /// child when it exits; true when the group is gone.</summary>
    private static unsafe bool WaitForGroup(Child child, TimeSpan timeout, ref ProcessExit? exit)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (!child.Reaped && IsReadable(child.Pidfd))
            {
                exit = Reap(child);
            }

            if (ProcStat.LivingMembers(child.Pid).Count == 0)
            {
                if (!child.Reaped)
                {
                    exit = Reap(child); // a zombie by now
                }

                return true;
            }

            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            // Wake when the child exits, or to look at the rest of the group again. (A reaped child's pidfd polls
            // as hung up at once, so it is not waited on any more.)
            var wait = (int)Math.Ceiling(Math.Min(left.TotalMilliseconds, GroupPoll.TotalMilliseconds));
            if (child.Reaped)
            {
                Thread.Sleep(wait);
            }
            else
            {
                var fd = new Libc.PollFd { Fd = child.Pidfd, Events = Libc.POLLIN };
                Libc.Poll(&fd, 1, wait);
            }
        }
    }

    private static unsafe bool IsReadable(int fd)
    {
        var poll = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
        return Libc.Poll(&poll, 1, 0) > 0 && poll.REvents != 0;
    }

    /// <summary>Collects the child's exit status; null when something else in this process reaped it first (the
    /// runtime does when SIGCHLD was ignored at its start).</summary>
    /// <remarks>Called once the child has exited (its pidfd is readable, or it is a zombie), so it does not block.</remarks>
    private static unsafe ProcessExit Reap(Child child)
    {
        int status;
        while (true)
        {
            var pid = Libc.WaitPid(child.Pid, &status, 0);
            if (pid == child.Pid)
            {
                child.Reaped = true;
                return ProcessExit.FromWaitStatus(status);
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                child.Reaped = true; // ECHILD: not ours to reap any more
                return new ProcessExit(null, null);
            }
        }
    }
}
