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
        using var session = new Session(this, store, createMissing: true);
        foreach (var created in session.Created)
        {
            Report(new ChangeLine(ChangeKind.Create, "namespace " + created, created, null));
        }

        foreach (var ns in _topology.Namespaces.Where(n => !session.Created.Contains(n.Name)))
        {
            Report(new ChangeLine(ChangeKind.InSync, "namespace " + ns.Name, ns.Name, null));
        }

        // Stage by stage (every namespace's links before any address: a veth made from one namespace puts its peer
        // in another), the namespaces of a stage in parallel; a failure stops apply after its stage. Each stage is
        // planned everywhere first, every plan's intent is recorded in one write, and then the plans are applied
        // (their record changes written once more, at the end of the stage).
        var progressLock = new Lock();
        foreach (var stage in StageOrder)
        {
            (ISplitPassSource Source, Plan Plan)?[] plans;
            using (PassCache.Begin()) // planning touches nothing: each namespace's links are read once for the stage
            {
                plans = await PerScopeAsync(async scope => session.SourceFor(stage, scope) is ISplitPassSource source
                    ? (source, await source.PlanPassAsync(cancellationToken).ConfigureAwait(false))
                    : ((ISplitPassSource, Plan)?)null, cancellationToken).ConfigureAwait(false);
            }

            using (store.Defer())
            {
                foreach (var (source, stagePlan) in plans.OfType<(ISplitPassSource, Plan)>())
                {
                    source.Prepare(stagePlan);
                }
            }

            var failures = new string?[plans.Length];
            List<ChangeLine>[] parts;
            using (store.Defer())
            {
                parts = await PerScopeAsync(async scope =>
                {
                    if (plans[ScopeIndex(scope)] is not var (source, stagePlan))
                    {
                        return [];
                    }

                    var result = await source.ApplyPlanAsync(stagePlan, cancellationToken).ConfigureAwait(false);
                    var done = LinesOf(stage, scope, result.Plan, result.Applied, session).ToList();
                    lock (progressLock)
                    {
                        foreach (var line in done)
                        {
                            progress?.Report(line);
                        }
                    }

                    if (result.Error is not null)
                    {
                        var failed = result.Pending.Count > 0 ? LineOf(result.Pending[0]).Subject + ": " : string.Empty;
                        failures[ScopeIndex(scope)] = failed + result.Error.Message;
                    }

                    return done;
                }, cancellationToken).ConfigureAwait(false);
            }

            foreach (var part in parts)
            {
                lines.AddRange(part);
            }

            if (failures.FirstOrDefault(f => f is not null) is { } failure)
            {
                return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, failure);
            }
        }

        return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, null);
    }
}
