using Aether.Reconcile;

namespace Aether.Server.Api;

/// <summary><c>GET /v1/status</c>: the daemon and the hub's reconcile loops.</summary>
/// <param name="Version">The daemon's version.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="UptimeSeconds">Seconds since then.</param>
/// <param name="Backend">The WireGuard implementation the hub uses (<c>kernel</c> or <c>userspace</c>).</param>
/// <param name="Socket">The unix socket it listens on.</param>
/// <param name="Listen">The loopback TCP address it also listens on, or null.</param>
/// <param name="Namespace">The namespace the hub is bound to, or null for the daemon's own.</param>
/// <param name="Networks">How many networks the hub keeps.</param>
/// <param name="Loops">The reconcile loops, one per namespace the hub keeps.</param>
public sealed record DaemonStatus(
    string Version,
    int Pid,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    string Backend,
    string Socket,
    string? Listen,
    string? Namespace,
    int Networks,
    IReadOnlyList<LoopStatus> Loops);

/// <summary>A reconcile loop's snapshot.</summary>
/// <param name="Source">The source's name.</param>
/// <param name="Running">Whether the loop still runs.</param>
/// <param name="Passes">Passes so far.</param>
/// <param name="ConsecutiveFailures">Failed passes since the last success.</param>
/// <param name="LastSuccess">When a pass last ended in sync or converged.</param>
/// <param name="NextPass">When the next pass is due (absent hints).</param>
/// <param name="LastReport">The latest pass, or null before the first.</param>
public sealed record LoopStatus(string Source, bool Running, long Passes, int ConsecutiveFailures, DateTimeOffset? LastSuccess, DateTimeOffset? NextPass, LoopReport? LastReport)
{
    internal static LoopStatus From(ReconcileStatus s) => new(
        s.Source, s.Running, s.Passes, s.ConsecutiveFailures, s.LastSuccess, s.NextPass, s.LastReport is { } r ? LoopReport.From(r) : null);
}

/// <summary>A pass of a reconcile loop.</summary>
/// <param name="PassId">The pass's id (in the logs too).</param>
/// <param name="Outcome"><c>InSync</c>, <c>Converged</c>, <c>Failed</c>, ...</param>
/// <param name="Started">When it began.</param>
/// <param name="DurationMs">How long it took.</param>
/// <param name="Drift">What the diff found necessary, as people read it.</param>
/// <param name="Applied">What was carried out.</param>
/// <param name="Pending">What was left undone after a failure.</param>
/// <param name="Error">The failure, with errno and the kernel's text, or null.</param>
public sealed record LoopReport(long PassId, string Outcome, DateTimeOffset Started, double DurationMs, IReadOnlyList<string> Drift, IReadOnlyList<string> Applied, IReadOnlyList<string> Pending, string? Error)
{
    internal static LoopReport From(PassReport r) => new(
        r.PassId, r.Outcome.ToString(), r.Started, r.Duration.TotalMilliseconds,
        [.. r.Drift.Select(o => o.ToString())], [.. r.Applied.Select(o => o.ToString())], [.. r.Pending.Select(o => o.ToString())], r.Error);
}
