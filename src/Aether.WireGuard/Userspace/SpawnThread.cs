using System.Collections.Concurrent;
using System.Diagnostics;

namespace Aether.WireGuard.Userspace;

/// <summary>
/// One thread, alive as long as the process, that starts every wireguard-go. A parent-death signal is sent when the
/// thread that forked the child ends, not the process: a child started from a pool thread would be killed when the
/// pool retires that thread. Started from here, wireguard-go gets its signal only when the daemon itself is gone.
/// </summary>
internal static class SpawnThread
{
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process?> Result)> Queue = [];
    private static readonly Lazy<Thread> Thread = new(() =>
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "wireguard-go spawner" };
        thread.Start();
        return thread;
    });

    /// <summary>Starts <paramref name="info"/> from the spawner thread; <see cref="Process.Start(ProcessStartInfo)"/>'s
    /// result or exception.</summary>
    public static Process? Start(ProcessStartInfo info)
    {
        _ = Thread.Value;
        var result = new TaskCompletionSource<Process?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add((info, result));
        return result.Task.GetAwaiter().GetResult();
    }

    private static void Run()
    {
        foreach (var (info, result) in Queue.GetConsumingEnumerable())
        {
            try
            {
                result.SetResult(Process.Start(info));
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }
    }
}
