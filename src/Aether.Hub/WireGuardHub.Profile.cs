using System.Diagnostics;
using Aether.Reconcile;

namespace Aether.Hub;

/// <summary>Profiling: the phases of a call and each source's plan and apply, timed when
/// <see cref="WireGuardHubOptions.PhaseTimings"/> is set (and not otherwise).</summary>
public sealed partial class WireGuardHub
{
    /// <summary>The call whose phases are being timed (<c>add</c>, <c>remove</c>, <c>loop</c>), for their names.</summary>
    private static readonly AsyncLocal<string?> CurrentCall = new();

    /// <summary>Starts timing a phase; the returned value reports it when disposed (a no-op without a listener). The
    /// phase is also a child activity of the call's (<c>Aether</c> source) while something listens to them.</summary>
    private PhaseTimer Phase(string name)
    {
        if (_options.PhaseTimings is not null && name.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
        {
            CurrentCall.Value = name[..colon];
        }

        return new(_options.PhaseTimings, name, AetherDiagnostics.ActivitySource.StartActivity(name, ActivityKind.Internal));
    }

    /// <summary>The units, each source wrapped to report its plan and apply when profiling.</summary>
    private Dictionary<(Stage Stage, Scope Scope), Unit> Timed(Dictionary<(Stage Stage, Scope Scope), Unit> units)
    {
        if (_options.PhaseTimings is not { } report)
        {
            return units;
        }

        return units.ToDictionary(u => u.Key, u => u.Value with { Source = new TimedSource(u.Value.Source, StepName(u.Key.Stage, u.Key.Scope), report) });
    }

    /// <summary>Reports how long it lived.</summary>
    private readonly struct PhaseTimer(Action<string, TimeSpan>? report, string name, Activity? activity) : IDisposable
    {
        private readonly long _started = report is null ? 0 : Stopwatch.GetTimestamp();

        public void Dispose()
        {
            activity?.Dispose();
            report?.Invoke(name, Stopwatch.GetElapsedTime(_started));
        }
    }

    /// <summary>A source whose plan and apply are timed.</summary>
    private sealed class TimedSource(ISplitPassSource inner, string name, Action<string, TimeSpan> report) : ISplitPassSource, IDisposable
    {
        public ISplitPassSource Inner => inner;

        public async Task<Plan> PlanPassAsync(CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                return await inner.PlanPassAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                report(CurrentCall.Value + ": plan " + name, Stopwatch.GetElapsedTime(started));
            }
        }

        public void Prepare(Plan plan) => inner.Prepare(plan);

        public async Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                return await inner.ApplyPlanAsync(plan, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                report(CurrentCall.Value + ": apply " + name, Stopwatch.GetElapsedTime(started));
            }
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }
}
