using System.Threading.Channels;
using Aether.Reconcile;
using Aether.Topology;
using Microsoft.Extensions.Logging;

namespace Aether.Labs;

/// <summary>What <see cref="LabRuntime"/> reports: a reconciliation's counts, or the states a hint-driven repair left.</summary>
/// <param name="Trigger">What set it off: <c>resync</c> (the periodic reconciliation) or <c>repair</c> (a loop
/// repaired something a hint showed broken).</param>
/// <param name="Result">The links' states afterwards, with the counts for a reconciliation.</param>
public sealed record LabRuntimeReport(string Trigger, LabResult Result);

/// <summary>
/// Keeps a deployed lab whole and its stored states true. The lab's topology runs under the topology engine's runtime
/// (one reconcile loop per node namespace, woken by rtnetlink hints, following namespaces as they come and go), so a
/// broken link is repaired as soon as the kernel says so; each repair is followed by a verification that stores the
/// links' states; and every <see cref="LabRuntimeOptions.ReconcileEvery"/> the reference's reconciliation runs
/// (verify, repair, count).
/// </summary>
public static class LabRuntime
{
    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunAsync(LabController controller, LabRuntimeOptions options, Action<LabRuntimeReport>? onReport = null, Action<ChangeLine>? onChange = null, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(options);
        var repairs = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (topology, ovsSource) = await controller.RuntimePartsAsync(stop.Token).ConfigureAwait(false);
        var run = topology.RunAsync(
            new ReconcileLoopOptions { Resync = options.Resync },
            report =>
            {
                if (report.Applied.Count > 0)
                {
                    repairs.Writer.TryWrite(true);
                }
            },
            onChange,
            loggers,
            stop.Token);
        // On the ovs fabric, the bridge has a loop of its own, woken by OVSDB's monitor.
        using var ovsLoop = ovsSource is null ? null : new ReconcileLoop(ovsSource, new ReconcileLoopOptions { Resync = options.Resync }, logger: loggers?.CreateLogger<ReconcileLoop>());
        var ovsReports = Task.CompletedTask;
        if (ovsLoop is not null)
        {
            await ovsLoop.StartAsync(stop.Token).ConfigureAwait(false);
            ovsReports = Task.Run(
                async () =>
                {
                    await foreach (var report in ovsLoop.Reports.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        if (report.Applied.Count > 0)
                        {
                            repairs.Writer.TryWrite(true);
                        }
                    }
                },
                CancellationToken.None);
        }

        var verify = Task.Run(
            async () =>
            {
                while (await repairs.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                {
                    repairs.Reader.TryRead(out _);
                    onReport?.Invoke(new LabRuntimeReport("repair", await controller.VerifyAsync(deep: false, stop.Token).ConfigureAwait(false)));
                }
            },
            stop.Token);
        try
        {
            using var timer = new PeriodicTimer(options.ReconcileEvery);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                onReport?.Invoke(new LabRuntimeReport("resync", await controller.ReconcileAsync(progress: null, stop.Token).ConfigureAwait(false)));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (ovsLoop is not null)
            {
                await ovsLoop.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await Task.WhenAll(run.ContinueWith(_ => { }, TaskScheduler.Default), verify.ContinueWith(_ => { }, TaskScheduler.Default), ovsReports).ConfigureAwait(false);
            if (ovsSource is not null)
            {
                await ovsSource.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>How often <see cref="LabRuntime"/> reconciles.</summary>
public sealed record LabRuntimeOptions
{
    /// <summary>The reference's reconciliation period (default 60 s).</summary>
    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The node loops' resync (the safety net under the hints; default 30 s).</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);
}
