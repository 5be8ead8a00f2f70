using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Labs.Supervision;

/// <summary>
/// One node's process, supervised: started inside the node's network namespace (see <see cref="NodeSpawner"/>) as the
/// leader of a process group of its own, its output appended to the node's log with a line for each start and exit;
/// restarted when it exits, after the policy's backoff; stopped on <see cref="StopAsync"/> or dispose with SIGTERM to
/// its whole process group, then SIGKILL after the grace. A start that fails (a missing program) is written to the
/// log and the status, and waits its backoff like an exit. Supervision gives up when the namespace it was opened by
/// name no longer has that name: a process is never restarted into a namespace nobody can reach.
/// </summary>
/// <remarks>
/// Each supervised process has a small dedicated thread that waits on a pidfd (the process's exit) and an eventfd (a
/// stop) and sleeps the backoff; it never changes namespace. A child that makes a session of its own (<c>setsid</c>,
/// a daemon that double-forks) leaves the group and is not stopped with it: run daemons in the foreground.
/// </remarks>
public sealed partial class NodeProcess : IDisposable, IAsyncDisposable
{
    private const int ThreadStackSize = 256 * 1024;

    private readonly NetworkNamespace _namespace;
    private readonly SupervisionPolicy _policy;
    private readonly ILogger _logger;
    private readonly NodeLog _log;
    private readonly Backoff _backoff;
    private readonly Lock _lock = new();
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NodeProcessStatus _status = new(NodeProcessState.BackingOff);
    private Child? _child;
    private int _stopRequested;
    private int _disposed;

    private NodeProcess(NetworkNamespace target, NodeProcessSpec spec, SupervisionPolicy policy, ILogger logger)
    {
        Spec = spec;
        _policy = policy;
        _logger = logger;
        _log = new NodeLog(spec.LogPath);
        _backoff = new Backoff(policy);
        _wakeFd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_wakeFd < 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "eventfd", spec.Argv[0]);
        }

        try
        {
            _namespace = target.Duplicate();
        }
        catch
        {
            Libc.Close(_wakeFd);
            throw;
        }

        Namespace = _namespace.ToString();
        _thread = new Thread(Run, ThreadStackSize) { IsBackground = true, Name = "aether-node" };
    }

    /// <summary>What runs.</summary>
    public NodeProcessSpec Spec { get; }

    /// <summary>The namespace it runs in (its name, or the path it was opened by).</summary>
    public string Namespace { get; }

    /// <summary>What it is doing now.</summary>
    public NodeProcessStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>Completes when supervision has ended and the process group is gone.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Starts <paramref name="spec"/> inside <paramref name="target"/> and supervises it. The first start
    /// is tried before this returns: the status is then running, or backing off with the reason.</summary>
    /// <param name="target">The namespace (a duplicate handle is kept; the caller keeps its own).</param>
    /// <param name="spec">What to run.</param>
    /// <param name="policy">Backoff and grace; <see cref="SupervisionPolicy.Default"/> when null.</param>
    /// <param name="logger">Where starts, exits and failures are logged besides the node's log.</param>
    /// <exception cref="ArgumentOutOfRangeException">The policy is invalid.</exception>
    /// <exception cref="NetlinkException">The supervisor's own descriptors could not be made.</exception>
    public static NodeProcess Start(NetworkNamespace target, NodeProcessSpec spec, SupervisionPolicy? policy = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(spec);
        policy ??= SupervisionPolicy.Default;
        policy.Validate();
        var process = new NodeProcess(target, spec, policy, logger ?? NullLogger.Instance);
        process.TryStart();
        process._thread.UnsafeStart();
        return process;
    }

    /// <summary>Stops it: no more restarts; SIGTERM to its process group, SIGKILL after the grace. Completes when the
    /// group is gone. Calling it again returns the same wait.</summary>
    public Task StopAsync()
    {
        RequestStop();
        return _stopped.Task;
    }

    /// <summary>Stops it (see <see cref="StopAsync"/>), waiting on this thread, and releases its descriptors.</summary>
    public void Dispose()
    {
        RequestStop();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        Release();
    }

    /// <summary>Stops it (see <see cref="StopAsync"/>) and releases its descriptors.</summary>
    public async ValueTask DisposeAsync()
    {
        RequestStop();
        await _stopped.Task.ConfigureAwait(false);
        Release();
    }

    private bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    private void RequestStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) != 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        ulong one = 1;
        unsafe
        {
            Libc.Write(_wakeFd, &one, sizeof(ulong)); // stays readable: every later wait sees it
        }
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Libc.Close(_wakeFd);
        }
    }

    /// <summary>The supervision loop, on its own thread: wait for the exit (or a stop), back off, start again.</summary>
    private void Run()
    {
        try
        {
            while (true)
            {
                var ran = TimeSpan.Zero;
                if (_child is { } child)
                {
                    if (WaitForExitOrStop(child))
                    {
                        Stop(child);
                        return;
                    }

                    ran = Exited(child);
                }

                if (StopRequested)
                {
                    return;
                }

                if (NamespaceGone() is { } gone)
                {
                    _log.Write("not restarted: " + gone);
                    LogGaveUp(_logger, Spec.Argv[0], Namespace, gone);
                    Update(s => s with { LastError = gone });
                    return;
                }

                var delay = _backoff.After(ran);
                var next = DateTimeOffset.UtcNow + delay;
                Update(s => s with { State = NodeProcessState.BackingOff, Pid = null, NextStartAt = next });
                _log.Write(string.Create(CultureInfo.InvariantCulture, $"next start in {delay.TotalSeconds:0.###} s"));
                if (Sleep(delay))
                {
                    return;
                }

                Update(s => s with { Restarts = s.Restarts + 1 });
                TryStart();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug or a broken descriptor: whatever runs is stopped, and the reason kept.
            _log.Write("supervision failed: " + ex.Message);
            LogFailed(_logger, Spec.Argv[0], Namespace, ex.Message);
            Update(s => s with { LastError = "supervision failed: " + ex.Message });
            if (_child is { } child)
            {
                Stop(child);
            }
        }
        finally
        {
            _namespace.Dispose();
            Update(s => s with { State = NodeProcessState.Stopped, Pid = null, NextStartAt = null });
            _stopped.TrySetResult();
        }
    }

    /// <summary>Tries one start; on failure the reason goes to the log and the status, and the loop backs off.</summary>
    private void TryStart()
    {
        var startedAt = DateTimeOffset.UtcNow;
        var timestamp = Stopwatch.GetTimestamp();
        int pid;
        try
        {
            var logFd = _log.Open();
            try
            {
                pid = NodeSpawner.Spawn(_namespace, Spec, logFd);
            }
            finally
            {
                Libc.Close(logFd);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.Write("cannot start: " + ex.Message);
            LogCannotStart(_logger, Spec.Argv[0], Namespace, ex.Message);
            Update(s => s with { State = NodeProcessState.BackingOff, Pid = null, LastError = ex.Message });
            return;
        }

        var pidfd = Libc.PidfdOpen(pid, 0);
        if (pidfd < 0)
        {
            // Without a pidfd its exit cannot be awaited: it is not left running unsupervised.
            var error = new NetlinkException(Marshal.GetLastPInvokeError(), "pidfd_open", "pid " + pid.ToString(CultureInfo.InvariantCulture)).Message;
            Libc.Kill(-pid, Libc.SIGKILL);
            unsafe
            {
                int status;
                Libc.WaitPid(pid, &status, 0);
            }

            _log.Write("cannot supervise: " + error);
            Update(s => s with { State = NodeProcessState.BackingOff, Pid = null, LastError = error });
            return;
        }

        _child = new Child(pid, pidfd, timestamp);
        Update(s => s with { State = NodeProcessState.Running, Pid = pid, StartedAt = startedAt, LastError = null, NextStartAt = null });
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"started pid {pid} in {Namespace}: {string.Join(' ', Spec.Argv)}"));
        LogStarted(_logger, Spec.Argv[0], pid, Namespace);
    }

    /// <summary>The reason not to start again: the namespace was opened by a name that no longer names it.</summary>
    private string? NamespaceGone()
    {
        if (_namespace.Name is not { } name)
        {
            return null;
        }

        try
        {
            using var now = NetworkNamespace.Open(name);
            return now.Inode == _namespace.Inode ? null : $"namespace {name} is another namespace now";
        }
        catch (NetlinkException ex)
        {
            return $"namespace {name} is gone ({ex.Message})";
        }
    }

    private void Update(Func<NodeProcessStatus, NodeProcessStatus> change)
    {
        lock (_lock)
        {
            _status = change(_status);
        }
    }

    /// <summary>A running child: its pid (and process group), its pidfd, and when it started.</summary>
    private sealed record Child(int Pid, int Pidfd, long StartedTimestamp)
    {
        public bool Reaped { get; set; }
    }

    [LoggerMessage(EventId = 8100, Level = LogLevel.Information, Message = "{Program} started (pid {Pid}) in {Namespace}")]
    private static partial void LogStarted(ILogger logger, string program, int pid, string @namespace);

    [LoggerMessage(EventId = 8101, Level = LogLevel.Warning, Message = "{Program} in {Namespace} exited unasked: {Exit} after {Seconds:0.###} s")]
    private static partial void LogExited(ILogger logger, string program, string @namespace, string exit, double seconds);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Warning, Message = "{Program} in {Namespace} cannot start: {Error}")]
    private static partial void LogCannotStart(ILogger logger, string program, string @namespace, string error);

    [LoggerMessage(EventId = 8103, Level = LogLevel.Information, Message = "{Program} in {Namespace} stopped: {Exit}")]
    private static partial void LogStopped(ILogger logger, string program, string @namespace, string exit);

    [LoggerMessage(EventId = 8104, Level = LogLevel.Warning, Message = "{Program} in {Namespace} not restarted: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string program, string @namespace, string reason);

    [LoggerMessage(EventId = 8105, Level = LogLevel.Error, Message = "supervision of {Program} in {Namespace} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string program, string @namespace, string error);

    [LoggerMessage(EventId = 8106, Level = LogLevel.Warning, Message = "the process group of {Program} (pid {Pid}) in {Namespace} did not stop within the grace: SIGKILL")]
    private static partial void LogKilled(ILogger logger, string program, int pid, string @namespace);
}
