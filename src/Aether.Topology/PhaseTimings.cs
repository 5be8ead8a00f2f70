using System.Diagnostics;
using System.Globalization;
using Aether.Reconcile;

namespace Aether.Topology;

/// <summary>Where a command's time goes, phase by phase, on stderr when the environment variable
/// <c>AETHER_TIMINGS</c> is <c>1</c> (for profiling a whole process: process start, file read, record read, namespace
/// opens, reads, changes); silent otherwise. Each phase is also a child activity of the current <c>Aether</c>
/// activity when something listens to them (<see cref="AetherDiagnostics.Phase"/>), with or without the variable.</summary>
public static class PhaseTimings
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static TimeSpan _last;

    /// <summary>Whether timings are printed.</summary>
    public static bool Enabled { get; } = string.Equals(Environment.GetEnvironmentVariable("AETHER_TIMINGS"), "1", StringComparison.Ordinal);

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
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"timing: {phase,-28} {(now - _last).TotalMilliseconds,8:F1} ms  (process {sinceStart.TotalMilliseconds:F0} ms)"));
        _last = now;
    }
}
