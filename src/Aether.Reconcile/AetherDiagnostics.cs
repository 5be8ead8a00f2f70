using System.Diagnostics;

namespace Aether.Reconcile;

/// <summary>
/// The traces of every Aether library, under one <see cref="System.Diagnostics.ActivitySource"/> named
/// <c>Aether</c>: reconcile passes, staged applies, topology and lab operations, the hub's calls and their phases.
/// Activities are made only while something listens (an OpenTelemetry tracer provider with
/// <c>AddSource("Aether")</c>, or an <see cref="ActivityListener"/>); otherwise starting one costs a null check.
/// </summary>
public static class AetherDiagnostics
{
    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "Aether";

    /// <summary>The custom property of an activity that holds when its last phase ended (<see cref="Phase"/>).</summary>
    private const string LastPhaseEnd = "aether.phase.end";

    /// <summary>The activity source of every Aether library.</summary>
    public static ActivitySource ActivitySource { get; } = new(ActivitySourceName, typeof(AetherDiagnostics).Assembly.GetName().Version?.ToString());

    /// <summary>Starts an activity that is the root of its trace, whatever is current (a loop started inside a call
    /// must not make every pass of its life a child of that call).</summary>
    /// <param name="name">The activity's name (low cardinality: what it is, not which object).</param>
    /// <returns>The activity, or null when nothing listens.</returns>
    public static Activity? StartRoot(string name)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            return ActivitySource.StartActivity(name, ActivityKind.Internal);
        }
        finally
        {
            Activity.Current = current;
        }
    }

    /// <summary>Records a phase of the current activity that has just ended: a child activity from the end of the
    /// previous phase (or the start of the parent) until now. For code that marks where phases end rather than
    /// where they begin (<c>AETHER_TIMINGS</c>'s phases).</summary>
    /// <param name="phase">The phase's name.</param>
    public static void Phase(string phase)
    {
        if (Activity.Current is not { } parent || !ReferenceEquals(parent.Source, ActivitySource))
        {
            return;
        }

        var now = DateTime.UtcNow;
        var started = parent.GetCustomProperty(LastPhaseEnd) is DateTime last ? last : parent.StartTimeUtc;
        using (var child = ActivitySource.StartActivity(phase, ActivityKind.Internal, parent.Context, startTime: new DateTimeOffset(started, TimeSpan.Zero)))
        {
            child?.SetEndTime(now);
        }

        parent.SetCustomProperty(LastPhaseEnd, now);
    }

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="error"/>'s message.</summary>
    /// <param name="activity">The activity, or null.</param>
    /// <param name="error">What went wrong.</param>
    public static void Fail(Activity? activity, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddTag("error.type", error.GetType().FullName);
    }
}
