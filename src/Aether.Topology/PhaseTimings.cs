using System.Diagnostics;
using System.Globalization;
using Aether.Reconcile;

namespace Aether.Topology;

/// <summary>Where a command's time goes, phase by phase, on stderr when the environment variable
/// <c>AETHER_TIMINGS</c> is <c>1</c> (for profiling a whole process: process start, file read, record read, namespace
/// opens, reads, changes; each with its CPU time, the bytes it allocated and the time the collector paused it); silent otherwise. Each phase is also a
/// child activity of the current <c>Aether</c> activity when something listens to them
/// (<see cref="AetherDiagnostics.Phase"/>), with or without the variable.</summary>
public static class PhaseTimings
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static TimeSpan _last;
    private static long _allocated;
    private static TimeSpan _cpu;
    private static TimeSpan _paused;

    /// <summary>Whether timings are printed.</summary>
    public static bool Enabled { get; } = string.Equals(Environment.GetEnvironmentVariable("AETHER_TIMINGS"), "1", StringComparison.Ordinal);

    /// <summary>A phase name for each stage, <paramref name="prefix"/> and the stage in lower case
    /// (<c>apply: plan links</c>), indexed by the stage's number: made once by each command that times its stages.</summary>
    internal static string[] StageNames(string prefix) => [.. Enum.GetValues<Stage>().Select(s => prefix + s.ToString().ToLowerInvariant())];

    /// <summary>Prints the time since the previous phase ended (or since this class was first used) and since the
    /// process started, under <paramref name="phase"/>.</summary>
    public static void End(string phase)
    {
        AetherDiagnostics.Phase(phase);
        if (!Enabled)
        {
            return;
        }

        var now = Clock.Elapsed;
        using var process = Process.GetCurrentProcess();
        var sinceStart = DateTime.Now - process.StartTime;
        var allocated = GC.GetTotalAllocatedBytes();
        var cpu = process.TotalProcessorTime;
        var paused = GC.GetTotalPauseDuration();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"timing: {phase,-28} {(now - _last).TotalMilliseconds,8:F1} ms  cpu {(cpu - _cpu).TotalMilliseconds,6:F1} ms  {(allocated - _allocated) / 1e6,6:F1} MB  gc {(paused - _paused).TotalMilliseconds,5:F1} ms  (process {sinceStart.TotalMilliseconds:F0} ms, {GC.CollectionCount(0)} collections, heap {GC.GetTotalMemory(forceFullCollection: false) / 1e6:F1} MB)"));
        _last = now;
        _allocated = allocated;
        _cpu = cpu;
        _paused = paused;
    }
}
