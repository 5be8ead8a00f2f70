using System.Diagnostics;
using Aether.Interop;
using Aether.Labs;
using Aether.Labs.Supervision;
using Aether.Netlink;

namespace Aether.Server;

/// <summary>What keeps a lab: its node processes and runtime started, restarted after a failure, stopped; a CLI runner
/// taken over.</summary>
internal sealed partial class LabHost
{
    /// <summary>Starts the lab's node processes (those not running yet) and its runtime (under the gate).</summary>
    private void StartKeeping(LabSlot slot, LabController controller)
    {
        slot.Controller = controller;
        if (!options.LabRuntimes)
        {
            slot.Set(Off, "the daemon runs no lab runtimes: the lab changes only by request");
            return;
        }

        var lab = controller.Lab;
        lock (slot.ProcessErrors)
        {
            slot.ProcessErrors.Clear();
        }

        foreach (var node in lab.Nodes.Where(n => n.Exec.Count > 0 && Supervisor.Find(new NodeProcessKey(lab.Name, n.Name)) is null))
        {
            try
            {
                Supervisor.Start(lab, node, StateDirectory);
            }
            catch (Exception ex) when (ex is NetlinkException or InvalidOperationException or ArgumentException or IOException)
            {
                lock (slot.ProcessErrors)
                {
                    slot.ProcessErrors[node.Name] = ex.Message;
                }

                LogProcessFailed(_log, lab.Name, node.Name, ex.Message);
            }
        }

        var stop = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
        slot.Set(Running, "repairs from the kernel's hints; reconciles every " + options.LabRuntime.ReconcileEvery.TotalSeconds + " s");
        slot.Run = (stop, Task.Run(() => KeepAsync(slot, controller, stop.Token), CancellationToken.None));
    }

    /// <summary>The lab's runtime, started again after a backoff when it fails, until cancelled.</summary>
    private async Task KeepAsync(LabSlot slot, LabController controller, CancellationToken cancellationToken)
    {
        // Held while the runtime runs: `aether lab deploy`, `destroy` and `run` refuse the lab meanwhile.
        using var keeper = HoldKeeper(slot.Name, controller);
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await LabRuntime.RunAsync(
                    controller,
                    options.LabRuntime,
                    report =>
                    {
                        slot.Report(report);
                        Changed?.Invoke(this, new LabChangedEventArgs(slot.Name));
                        var errors = report.Result.Links.Count(l => l.Status == LinkStatus.Error);
                        LogReport(_log, slot.Name, report.Trigger, report.Result.Links.Count - errors, report.Result.Links.Count, report.Result.Counts?.Repaired ?? 0);
                    },
                    line => LogChange(_log, slot.Name, line),
                    loggers,
                    cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                slot.Set(Failed, $"the runtime stopped: {ex.Message}; started again in {backoff.TotalSeconds:F0} s");
                LogRuntimeFailed(_log, slot.Name, ex.Message, backoff.TotalSeconds);
            }

            try
            {
                await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            slot.Set(Running, "started again after a failure");
        }
    }

    /// <summary>The keeper's lock of the lab, or null (logged) when it cannot be had: the runtime runs anyway, only
    /// unguarded against a CLI command.</summary>
    private LabKeeper? HoldKeeper(string lab, LabController controller)
    {
        try
        {
            return LabKeeper.Hold(controller.LabDirectory) ?? throw new IOException($"{LabKeeper.FileName} is held by pid {LabKeeper.Holder(controller.LabDirectory)}");
        }
        catch (IOException ex)
        {
            LogKeeperFailed(_log, lab, ex.Message);
            return null;
        }
    }

    /// <summary>Stops the lab's runtime, if the daemon runs one (its processes keep running).</summary>
    private static async Task StopRuntimeAsync(LabSlot slot)
    {
        if (slot.Run is not { } run)
        {
            return;
        }

        slot.Run = null;
        await run.Stop.CancelAsync().ConfigureAwait(false);
        await run.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        run.Stop.Dispose();
        slot.Set(Stopped, "stopped");
    }

    /// <summary>Before a change (under the gate): stops the daemon's runtime of the lab, and a CLI runner that keeps it
    /// (SIGTERM; it stops the processes it supervises), so that nothing applies the lab as it was meanwhile.</summary>
    private async Task TakeOverAsync(LabSlot slot)
    {
        await StopRuntimeAsync(slot).ConfigureAwait(false);
        if (LabRunnerFile.RunningPid(LabDirectory(slot.Name), slot.Name) is not { } pid)
        {
            return;
        }

        LogTakingOver(_log, slot.Name, pid);
        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return; // gone meanwhile
        }

        using (process)
        {
            _ = Libc.Kill(pid, Libc.SIGTERM);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            wait.CancelAfter(RunnerStopWait);
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!Stopping.IsCancellationRequested)
            {
                throw LabRequestException.Conflict(slot.Name, $"the lab's runner 'aether lab run {slot.Name}' (pid {pid}) did not stop within {RunnerStopWait.TotalSeconds:F0} s of SIGTERM; nothing was changed");
            }
        }
    }

    /// <summary>Stops the processes of nodes that <paramref name="next"/> no longer has, or runs differently (another
    /// program, namespace or directory); the others keep running.</summary>
    private async Task StopChangedProcessesAsync(LabSpec? previous, LabSpec next)
    {
        if (previous is null)
        {
            return;
        }

        var kept = next.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        foreach (var node in previous.Nodes.Where(n => n.Exec.Count > 0))
        {
            if (!kept.TryGetValue(node.Name, out var now) || !now.Exec.SequenceEqual(node.Exec, StringComparer.Ordinal)
                || !string.Equals(now.Namespace, node.Namespace, StringComparison.Ordinal) || !string.Equals(previous.SourcePath, next.SourcePath, StringComparison.Ordinal))
            {
                await Supervisor.StopAsync(new NodeProcessKey(previous.Name, node.Name)).ConfigureAwait(false);
            }
        }
    }
}
