using System.Diagnostics.Metrics;

namespace Aether.Reconcile;

/// <summary>Metrics of every loop in the process, under the meter <c>Aether.Reconcile</c>.</summary>
public static class ReconcileMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aether.Reconcile";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Passes = Meter.CreateCounter<long>("aether.reconcile.passes", description: "Passes, by source and outcome");
    private static readonly Counter<long> Operations = Meter.CreateCounter<long>("aether.reconcile.operations", description: "Operations applied, by source and kind");
    private static readonly Counter<long> Drift = Meter.CreateCounter<long>("aether.reconcile.drift", description: "Operations the diffs found necessary");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("aether.reconcile.pass.duration", unit: "ms", description: "Pass duration");
    private static long _lastSuccessUnixMs;
    private static readonly ObservableGauge<long> LastSuccess = Meter.CreateObservableGauge("aether.reconcile.last_success", () => Volatile.Read(ref _lastSuccessUnixMs), unit: "ms", description: "Unix time of the last successful pass of any loop");

    internal static void Record(PassReport report)
    {
        var source = new KeyValuePair<string, object?>("source", report.Source);
        Passes.Add(1, source, new("outcome", report.Outcome.ToString()));
        Drift.Add(report.Drift.Count, source);
        Duration.Record(report.Duration.TotalMilliseconds, source);
        foreach (var op in report.Applied)
        {
            Operations.Add(1, source, new("kind", op.Kind.ToString()));
        }

        if (report.Outcome is PassOutcome.InSync or PassOutcome.Converged)
        {
            Volatile.Write(ref _lastSuccessUnixMs, (report.Started + report.Duration).ToUnixTimeMilliseconds());
        }

        GC.KeepAlive(LastSuccess);
    }
}
