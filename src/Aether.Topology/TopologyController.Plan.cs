using System.Diagnostics;
using Aether.Reconcile;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>What apply would do, touching nothing: namespaces that do not exist yet show everything in them as
    /// to be created.</summary>
    public async Task<TopologyResult> PlanAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var activity = AetherDiagnostics.ActivitySource.StartActivity("aether.topology.plan");
        activity?.SetTag("aether.topology.name", Owner);
        var store = OpenStore();
        PhaseTimings.End("plan: read records");
        using var session = new Session(this, store, createMissing: false);
        session.OpenHandles();
        PhaseTimings.End("plan: open namespaces");
        using var cache = PassCache.Begin(); // nothing is applied while planning: each namespace's links are read once
        var lines = new List<ChangeLine>();
        foreach (var ns in _topology.Namespaces)
        {
            // Existing namespaces are listed in sync, as apply lists them, so a plan and its apply count the same objects.
            lines.Add(new ChangeLine(session.Exists(Reconcile.Scope.Namespace(ns.Name)) ? ChangeKind.InSync : ChangeKind.Create, "namespace " + ns.Name, ns.Name, session.NoteOf(Reconcile.Scope.Namespace(ns.Name))));
        }

        // Nothing is applied while planning, so every stage of every namespace is observed at once (the host's links,
        // with a peer to look up in every namespace, overlap the rest); lines keep stage order, then file order.
        var scopes = Scopes.ToArray();
        var units = StageOrder.SelectMany(stage => scopes.Select(scope => (Stage: stage, Scope: scope))).ToArray();
        var parts = await ForEachAsync(units, async unit =>
        {
            var (stage, scope) = unit;
            if (!session.Exists(scope))
            {
                return Expected(stage, scope).Select(e => new ChangeLine(ChangeKind.Create, e.Subject, scope.Name, null)).ToList();
            }

            if (session.SourceFor(stage, scope) is not { } source)
            {
                return [];
            }

            var plan = await DiffAsync(source, cancellationToken).ConfigureAwait(false);
            var found = LinesOf(stage, scope, plan, plan, session).ToList();
            if (stage == Stage.Links)
            {
                // Veths whose peer's namespace is still to be created: apply creates them once it exists.
                found.AddRange(_linksByScope[scope]
                    .Where(l => session.Planned(stage, scope, ObjectKey.Link(scope, l.Name)))
                    .Select(l => new ChangeLine(ChangeKind.Create, Describe(l, scope), scope.Name, null)));
            }

            return found;
        }, unit => unit.Scope.IsHost, cancellationToken).ConfigureAwait(false);
        PhaseTimings.End("plan: read every stage");
        foreach (var part in parts)
        {
            lines.AddRange(part);
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }
}
