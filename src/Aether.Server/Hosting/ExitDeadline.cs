using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Aether.Server;

/// <summary>
/// The last resort of a stop: once the daemon is asked to stop, the process exits at the deadline whatever still runs
/// (a handler that ignores its cancellation, a hub or lab runtime stuck in a kernel call), with exit code 1 and a line
/// saying so. <c>_exit</c>, not <see cref="Environment.Exit(int)"/>: the host's own exit handler waits for the stop
/// that is stuck. Only for a process that is the daemon (<c>aether serve</c>), never an app inside a test.
/// </summary>
internal static partial class ExitDeadline
{
    /// <summary>Arms the deadline when <paramref name="lifetime"/> begins to stop; <paramref name="cleanup"/> runs
    /// before the exit (the socket's removal).</summary>
    public static void Arm(IHostApplicationLifetime lifetime, TimeSpan deadline, Action cleanup)
    {
        lifetime.ApplicationStopping.Register(() =>
        {
            var timer = new Timer(_ => Expire(deadline, cleanup), null, deadline, Timeout.InfiniteTimeSpan);
            lifetime.ApplicationStopped.Register(timer.Dispose);
        });
    }

    private static void Expire(TimeSpan deadline, Action cleanup)
    {
        try
        {
            cleanup();
            Console.Error.WriteLine($"aether: serve: still stopping {deadline.TotalSeconds:0} s after being asked to stop (a request or a runtime is stuck): exiting now");
            Console.Error.Flush();
        }
        finally
        {
            Exit(1);
        }
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int status);
}
