using System.Diagnostics;
using System.Globalization;
using Aether.Labs;
using Aether.Labs.Supervision;

namespace Aether.Cli;

/// <summary>
/// <c>aether lab run NAME</c>: what keeps a deployed lab alive without the daemon. It supervises the nodes' processes
/// (<see cref="ProcessSupervisor"/>: restarted with backoff, logs in <c>STATE/labs/NAME/NODE.log</c>) and runs the
/// lab's runtime (<see cref="LabRuntime"/>: repairs from the kernel's hints, the reconciliation every period), until
/// SIGINT or SIGTERM, which stop the processes too. <c>lab deploy</c> starts one in the background for a lab whose
/// nodes run processes (its pid in <c>STATE/labs/NAME/run.pid</c>, its output in <c>run.log</c>); <c>lab destroy</c>
/// stops it first.
/// </summary>
internal static class LabRunner
{
    public static async Task<int> RunAsync(LabContext context, LabController controller, TimeSpan reconcileEvery)
    {
        var lab = controller.Lab;
        Directory.CreateDirectory(controller.LabDirectory);
        var pidFile = PidFile(controller);
        await File.WriteAllTextAsync(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        using var stop = StopSignals.Listen();
        await using var supervisor = new ProcessSupervisor();
        try
        {
            foreach (var node in lab.Nodes.Where(n => n.Exec.Count > 0))
            {
                supervisor.Start(lab, node, StateOf(context));
                Output.Line($"{Now()} started {node.Name}: {string.Join(' ', node.Exec)} (log {NodeProcessSpec.LogPathOf(StateOf(context), lab.Name, node.Name)})");
            }

            Output.Line(string.Create(CultureInfo.InvariantCulture, $"running: lab {lab.Name}, reconciling every {reconcileEvery.TotalSeconds:F0} s; SIGINT or SIGTERM stops"));
            await LabRuntime.RunAsync(
                controller,
                new LabRuntimeOptions { ReconcileEvery = reconcileEvery },
                report =>
                {
                    var links = report.Result.Links;
                    var counts = report.Result.Counts is { } c ? string.Create(CultureInfo.InvariantCulture, $": checked {c.Checked}, valid {c.Valid}, repaired {c.Repaired}, errors {c.Errors}") : string.Empty;
                    Output.Line($"{Now()} [{report.Trigger}] {links.Count(l => l.Status == LinkStatus.Up)}/{links.Count} links up{counts}");
                    foreach (var broken in links.Where(l => l.Status == LinkStatus.Error))
                    {
                        Output.Line($"{Now()} [{report.Trigger}] error {broken.A} ↔ {broken.B}: {broken.Error}");
                    }
                },
                line => Output.Line($"{Now()} [runtime] {line}"),
                cancellationToken: stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await supervisor.StopLabAsync(lab.Name).ConfigureAwait(false);
            File.Delete(pidFile);
            Output.Line($"{Now()} stopped");
        }

        return ExitCodes.Ok;
    }

    /// <summary>Starts <c>lab run</c> for the lab in the background (its own session, output to <c>run.log</c>), unless
    /// one runs already.</summary>
    public static void StartDetached(LabContext context, LabController controller)
    {
        if (RunningPid(controller) is { } pid)
        {
            Output.Line($"lab runner already running (pid {pid})");
            return;
        }

        Directory.CreateDirectory(controller.LabDirectory);
        var log = Path.Combine(controller.LabDirectory, "run.log");
        string[] args = ["lab", "run", controller.Lab.Name, "--state-dir", StateOf(context), .. context.Database is { } db ? new[] { "--db", db } : [], .. context.Profiles is { } profiles ? new[] { "--profiles", profiles } : [], .. context.Ovsdb is { } ovsdb ? new[] { "--ovsdb", ovsdb } : [], .. context.OvsNamespace is { } ovsNs ? new[] { "--ovs-namespace", ovsNs } : []];

        // setsid: the runner leads a session of its own, so it outlives this command and its terminal; the shell only
        // puts it in the background with its output appended to the log.
        var shell = new ProcessStartInfo("/bin/sh", ["-c", "setsid \"$@\" </dev/null >>\"$LOG\" 2>&1 &", "sh", Environment.ProcessPath!, .. args]) { UseShellExecute = false };
        shell.Environment["LOG"] = log;
        using var launcher = Process.Start(shell)!;
        launcher.WaitForExit();
        var clock = Stopwatch.StartNew();
        while (RunningPid(controller) is null && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(20);
        }

        Output.Line(RunningPid(controller) is { } started
            ? $"lab runner started (pid {started}): supervises the nodes' processes and repairs the lab; log {log}"
            : $"lab runner did not start within 10 s: see {log}");
    }

    /// <summary>Stops the lab's runner, if one runs (SIGTERM, then waits for it to stop the processes).</summary>
    public static async Task StopAsync(LabController controller)
    {
        if (RunningPid(controller) is not { } pid)
        {
            return;
        }

        using var process = Process.GetProcessById(pid);
        _ = Aether.Interop.Libc.Kill(pid, Aether.Interop.Libc.SIGTERM);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(patience.Token).ConfigureAwait(false);
        Output.Line($"lab runner stopped (pid {pid})");
    }

    /// <summary>The pid of the lab's runner when it is alive and is one (its command line says <c>lab run NAME</c>).</summary>
    private static int? RunningPid(LabController controller) => LabRunnerFile.RunningPid(controller.LabDirectory, controller.Lab.Name);

    private static string PidFile(LabController controller) => LabRunnerFile.PathIn(controller.LabDirectory);

    private static string StateOf(LabContext context) => context.StateDirectory is { Length: > 0 } dir ? dir : new LabOptions().StateDirectory;

    private static string Now() => DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
