using System.Diagnostics;
using Aether.Reconcile;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>Makes the kernel match the topology. A conflict anywhere (someone else's object where ours should
    /// be) stops it before anything is touched; a failure stops it at the failing operation, with the kernel's text.</summary>
    public async Task<TopologyResult> ApplyAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default) =>
        await ApplyAsync(await PlanAsync(cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false);

    /// <summary>Applies after <paramref name="plan"/>, a <see cref="PlanAsync"/> made just before (a caller that
    /// shows a plan first does not pay for a second one). A plan with conflicts stops here; a plan that is all in
    /// sync is the answer (it was read from the kernel a moment ago); anything else is applied stage by stage, each
    /// stage observed afresh.</summary>
    public async Task<TopologyResult> ApplyAsync(TopologyResult plan, IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var clock = Stopwatch.StartNew();
        using var activity = AetherDiagnostics.ActivitySource.StartActivity("aether.topology.apply");
        activity?.SetTag("aether.topology.name", Owner);
        if (plan.Conflicts > 0)
        {
            return plan with { Elapsed = plan.Elapsed + clock.Elapsed, Error = $"{plan.Conflicts} conflict(s) with objects that are not ours: nothing was changed" };
        }

        if (plan.InSync)
        {
            foreach (var line in plan.Lines)
            {
                progress?.Report(line);
            }

            return plan with { Elapsed = plan.Elapsed + clock.Elapsed };
        }

        var lines = new List<ChangeLine>();
        void Report(ChangeLine line)
        {
            lines.Add(line);
            progress?.Report(line);
        }

        var store = OpenStore();
        using var presence = PassCache.KeepPresence(); // the namespaces the session opens or makes: not looked up again by the stages
        using var session = new Session(this, store, createMissing: true) { FreshAddresses = true, WritesKeys = true };
        PhaseTimings.End("apply: open/create namespaces");
        foreach (var created in session.Created)
        {
            Report(new ChangeLine(ChangeKind.Create, "namespace " + created, created, null));
        }

        foreach (var ns in _topology.Namespaces.Where(n => !session.Created.Contains(n.Name)))
        {
            Report(new ChangeLine(ChangeKind.InSync, "namespace " + ns.Name, ns.Name, session.NoteOf(Reconcile.Scope.Namespace(ns.Name))));
        }

        // Stage by stage, the namespaces of a stage in parallel, each stage planned everywhere and its intent recorded
        // in one write before it is applied; a failure stops apply after its stage. Lines are reported as each
        // namespace's part of a stage is done, and kept in stage order, then scope order.
        var scopes = Scopes.ToArray();
        var parts = new List<ChangeLine>[StageOrder.Length, scopes.Length];
        var progressLock = new Lock();
        var engine = new StagedApply(scopes, (stage, scope) => session.SourceFor(stage, scope) as ISplitPassSource, store) { Stages = StageOrder, ContainExceptions = true, PhaseEnded = (stage, planned) => PhaseTimings.End((planned ? PlanTimings : ApplyTimings)[(int)stage]) };
        var applied = await engine.RunAsync(done =>
        {
            session.EndFresh(); // the links stage was planned everywhere before anything of it was applied
            if (done.Stage != Stage.Links)
            {
                session.EndFreshAddresses(); // and so was the addresses stage, once one of its parts is done
            }
            var part = LinesOf(done.Stage, done.Scope, done.Result.Plan, done.Result.Applied, session).ToList();
            lock (progressLock)
            {
                foreach (var line in part)
                {
                    progress?.Report(line);
                }
            }

            parts[Array.IndexOf(StageOrder, done.Stage), ScopeIndex(done.Scope)] = part;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var part in parts)
        {
            if (part is not null)
            {
                lines.AddRange(part);
            }
        }

        if (applied.Failure is { } failure)
        {
            var at = failure.Operation is { } failed ? LineOf(failed).Subject + ": " : string.Empty;
            var rolledBack = await RollBackAsync(applied, session, Report).ConfigureAwait(false);
            return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, at + failure.Error.Message + "; " + rolledBack);
        }

        return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, null);
    }

    /// <summary>Each stage's planning and applying phase names in <see cref="PhaseTimings"/>, made once.</summary>
    private static readonly string[] PlanTimings = PhaseTimings.StageNames("apply: plan "), ApplyTimings = PhaseTimings.StageNames("apply: ");
}
