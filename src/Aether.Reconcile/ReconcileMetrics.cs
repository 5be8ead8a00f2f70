using System.Diagnostics.Metrics;

namespace Aether.Reconcile;

/// <summary>Metrics of every loop in the process, under the meter <c>Aether.Reconcile</c>, named after OpenTelemetry's
/// semantic conventions (durations in seconds). Their attributes come from fixed sets: the source's
/// <see cref="IReconcileSource.Kind"/> (never its name, which names namespaces and owners), the pass's outcome and an
/// operation's kind.</summary>
public static class ReconcileMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aether.Reconcile";

    /// <summary>The attribute that says what kind of source a measurement is of.</summary>
    public const string SourceKindAttribute = "aether.reconcile.source.kind";

    /// <summary>The attribute that says how a pass ended.</summary>
    public const string OutcomeAttribute = "aether.reconcile.outcome";

    /// <summary>The attribute that says what an operation did.</summary>
    public const string OperationKindAttribute = "aether.reconcile.operation.kind";

    private static readonly Meter Meter = new(MeterName, typeof(ReconcileMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Passes = Meter.CreateCounter<long>(
        "aether.reconcile.passes", unit: "{pass}", description: "Reconcile passes, by source kind and outcome");

    private static readonly Counter<long> Operations = Meter.CreateCounter<long>(
        "aether.reconcile.operations", unit: "{operation}", description: "Operations applied, by source kind and operation kind");

    private static readonly Counter<long> Drift = Meter.CreateCounter<long>(
        "aether.reconcile.drift", unit: "{operation}", description: "Operations the diffs found necessary, by source kind");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "aether.reconcile.pass.duration",
        unit: "s",
        description: "Duration of reconcile passes, by source kind and outcome",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    private static long _lastSuccessUnixMs;

    private static readonly ObservableGauge<double> LastSuccess = Meter.CreateObservableGauge(
        "aether.reconcile.last_success.time",
        () => Volatile.Read(ref _lastSuccessUnixMs) / 1000.0,
        unit: "s",
        description: "Unix time of the last successful pass of any loop (0: none yet)");

    /// <summary>Makes the meter and its instruments exist (a listener that starts before the first pass then lists
    /// them).</summary>
    public static void EnsureCreated() => GC.KeepAlive(LastSuccess);

    internal static void Record(string kind, PassReport report)
    {
        var source = new KeyValuePair<string, object?>(SourceKindAttribute, kind);
        var outcome = new KeyValuePair<string, object?>(OutcomeAttribute, OutcomeName(report.Outcome));
        Passes.Add(1, source, outcome);
        Drift.Add(report.Drift.Count, source);
        Duration.Record(report.Duration.TotalSeconds, source, outcome);
        foreach (var op in report.Applied)
        {
            Operations.Add(1, source, new(OperationKindAttribute, OperationName(op.Kind)));
        }

        if (report.Outcome is PassOutcome.InSync or PassOutcome.Converged)
        {
            Volatile.Write(ref _lastSuccessUnixMs, (report.Started + report.Duration).ToUnixTimeMilliseconds());
        }
    }

    private static string OperationName(OperationKind kind) => kind switch
    {
        OperationKind.Create => "create",
        OperationKind.Update => "update",
        OperationKind.Delete => "delete",
        _ => "other",
    };

    /// <summary>An outcome as an attribute value: snake case, as OpenTelemetry's enumerations are.</summary>
    internal static string OutcomeName(PassOutcome outcome) => outcome switch
    {
        PassOutcome.InSync => "in_sync",
        PassOutcome.Converged => "converged",
        PassOutcome.Failed => "failed",
        PassOutcome.Terminal => "terminal",
        PassOutcome.NamespaceGone => "namespace_gone",
        _ => "other",
    };
}
