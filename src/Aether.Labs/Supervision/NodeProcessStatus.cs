using System.Globalization;
using System.Runtime.InteropServices;

namespace Aether.Labs.Supervision;

/// <summary>Where a supervised process is in its life.</summary>
public enum NodeProcessState
{
    /// <summary>It runs (<see cref="NodeProcessStatus.Pid"/> is its pid).</summary>
    Running,

    /// <summary>It exited, or could not be started, and waits for its next start
    /// (<see cref="NodeProcessStatus.NextStartAt"/>).</summary>
    BackingOff,

    /// <summary>It is stopped: asked to stop, disposed, or given up on (its namespace is gone; see
    /// <see cref="NodeProcessStatus.LastError"/>).</summary>
    Stopped,
}

/// <summary>How a process ended: an exit status, or the signal that killed it; neither when it is not known (another
/// part of the process reaped it first).</summary>
/// <param name="Code">The exit status (0-255), or null.</param>
/// <param name="Signal">The number of the signal that killed it, or null.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct ProcessExit(int? Code, int? Signal)
{
    /// <summary>Reads a <c>waitpid</c> status word: <c>WIFEXITED</c> gives <c>WEXITSTATUS</c>, <c>WIFSIGNALED</c>
    /// gives <c>WTERMSIG</c>.</summary>
    public static ProcessExit FromWaitStatus(int status)
    {
        var low = status & 0x7f;
        return low switch
        {
            0 => new ProcessExit((status >> 8) & 0xff, null),
            0x7f => new ProcessExit(null, null), // stopped, not ended: never asked for (no WUNTRACED)
            _ => new ProcessExit(null, low),
        };
    }

    /// <summary>The name of a signal (<c>SIGTERM</c>), or <c>SIGn</c>.</summary>
    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "SIG" + signal.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary><c>exit status 3</c>, <c>signal 9 (SIGKILL)</c> or <c>exit status unknown</c>.</summary>
    public override string ToString() => (Code, Signal) switch
    {
        ({ } code, _) => string.Create(CultureInfo.InvariantCulture, $"exit status {code}"),
        (_, { } signal) => string.Create(CultureInfo.InvariantCulture, $"signal {signal} ({SignalName(signal)})"),
        _ => "exit status unknown",
    };
}

/// <summary>What a supervised process is doing, as of one moment.</summary>
/// <param name="State">Running, backing off, or stopped.</param>
public sealed record NodeProcessStatus(NodeProcessState State)
{
    /// <summary>The pid of the running process (the leader of its process group), or null.</summary>
    public int? Pid { get; init; }

    /// <summary>How many starts were tried after the first one.</summary>
    public int Restarts { get; init; }

    /// <summary>How the last run ended, or null before the first end.</summary>
    public ProcessExit? LastExit { get; init; }

    /// <summary>When the running process (or the last one) was started, or null before the first start.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Why the last start failed (<c>start /usr/lib/frr/zebra: ENOENT (No such file or directory)</c>), or
    /// why supervision gave up; null after a successful start.</summary>
    public string? LastError { get; init; }

    /// <summary>When the next start is due, while backing off.</summary>
    public DateTimeOffset? NextStartAt { get; init; }
}
