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
        // Nothing is applied while planning: each namespace's links are read once, and each namespace the session
        // opens by name is known present for the whole plan.
        using var cache = PassCache.Begin();
        using var session = new Session(this, store, createMissing: false);
        session.OpenHandles();
        PhaseTimings.End("plan: open namespaces");
        var lines = new List<ChangeLine>();
        foreach (var ns in _topology.Namespaces)
        {
            // Existing namespaces are listed in sync, as apply lists them, so a plan and its apply count the same objects.
            lines.Add(new ChangeLine(session.Exists(Reconcile.Scope.Namespace(ns.Name)) ? ChangeKind.InSync : ChangeKind.Create, "namespace " + ns.Name, ns.Name, session.NoteOf(Reconcile.Scope.Namespace(ns.Name))));
        }

        // Nothing is applied while planning, so every namespace is observed at once, one job per scope going through
        // its stages (a scope with no source for a stage costs nothing there). The host first: its links and addresses,
        // a thousand of each and the kernel's slowest dumps, then overlap the namespaces' reads instead of trailing
        // them (a peer's namespace it reaches before that namespace's own job is read then, once, for both). Lines
        // keep stage order, then file order.
        var scopes = Scopes.ToArray();
        var parts = await ForEachAsync(scopes, async scope =>
        {
            if (scope.IsHost)
            {
                // The host's stages each hold a thousand objects or so: read side by side, not one after the other.
                return await Task.WhenAll(StageOrder.Select(stage => Task.Run(() => PlanLinesAsync(stage, scope, session, cancellationToken), cancellationToken))).ConfigureAwait(false);
            }

            var found = new IReadOnlyList<ChangeLine>[StageOrder.Length];
            for (var i = 0; i < StageOrder.Length; i++)
            {
                found[i] = await PlanLinesAsync(StageOrder[i], scope, session, cancellationToken).ConfigureAwait(false);
            }

            return found;
        }, scope => !scope.IsHost, cancellationToken).ConfigureAwait(false);
        PhaseTimings.End("plan: read every stage");
        for (var i = 0; i < StageOrder.Length; i++)
        {
            foreach (var part in parts)
            {
                lines.AddRange(part[i]);
            }
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }

    /// <summary>The plan's lines of one stage in one scope; none where the stage has no source there (a completed
    /// task, shared: most of a thousand namespaces have a source for two stages of six).</summary>
    private Task<IReadOnlyList<ChangeLine>> PlanLinesAsync(Stage stage, Scope scope, Session session, CancellationToken cancellationToken)
    {
        if (!session.Exists(scope))
        {
            return LinesToCreate(stage, scope);
        }

        return session.SourceFor(stage, scope) is { } source ? PlanLinesAsync(stage, scope, source, session, cancellationToken) : NoLines;
    }

    /// <summary>A namespace still to be made: everything the file puts in a stage of it, to be created.</summary>
    private Task<IReadOnlyList<ChangeLine>> LinesToCreate(Stage stage, Scope scope)
    {
        List<ChangeLine>? lines = null;
        foreach (var (_, subject) in Expected(stage, scope))
        {
            (lines ??= []).Add(new ChangeLine(ChangeKind.Create, subject, scope.Name, null));
        }

        return lines is null ? NoLines : Task.FromResult<IReadOnlyList<ChangeLine>>(lines);
    }

    private static readonly Task<IReadOnlyList<ChangeLine>> NoLines = Task.FromResult<IReadOnlyList<ChangeLine>>([]);

    private async Task<IReadOnlyList<ChangeLine>> PlanLinesAsync(Stage stage, Scope scope, IReconcileSource source, Session session, CancellationToken cancellationToken)
    {
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
    }
}
