namespace Aether.Reconcile;

/// <summary>
/// The staged apply of many scopes, written once: for each stage in order, every scope's source of that stage is
/// planned (observe and diff, touching nothing), the intent of every plan is recorded in one write, and then the
/// plans are applied, the scopes of a stage in parallel (the host last: its link source looks up peers in every
/// namespace, and finds most of them among the links the namespaces' own sources have just read). Each scope's
/// outcome is reported as soon as it is known; the first stage with a failure ends the apply (unless told to go
/// on), and what it did not carry out is reported as pending.
/// </summary>
/// <remarks>Stages run one after another because each needs what the one before made (every namespace's links before
/// any address: a veth made from one namespace puts its peer in another), and each stage is observed afresh after the
/// one before it applied.</remarks>
public sealed class StagedApply
{
    private readonly Scope[] _scopes;
    private readonly Func<Stage, Scope, ISplitPassSource?> _sources;
    private readonly AppliedRecordStore? _records;

    /// <summary>Creates the apply of <paramref name="scopes"/>.</summary>
    /// <param name="scopes">The scopes, in the order results are given in.</param>
    /// <param name="sources">The source of a stage in a scope, or null where that stage has nothing there. Called once
    /// per stage and scope, when the stage is reached, for several scopes at once.</param>
    /// <param name="records">The store the sources keep their last-applied records in, whose writes are deferred so
    /// that a stage's intent is one write and what its apply changed one more; null when the sources keep none (or
    /// keep them elsewhere).</param>
    public StagedApply(IReadOnlyList<Scope> scopes, Func<Stage, Scope, ISplitPassSource?> sources, AppliedRecordStore? records = null)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(sources);
        _scopes = [.. scopes];
        if (_scopes.Distinct().Count() != _scopes.Length)
        {
            throw new ArgumentException("a scope is given twice", nameof(scopes));
        }

        _sources = sources;
        _records = records;
    }

    /// <summary>The stages, in the order they run (every stage, in dependency order, unless set).</summary>
    public IReadOnlyList<Stage> Stages { get; init; } = Enum.GetValues<Stage>();

    /// <summary>Whether the first stage with a failure ends the apply (the default), or every stage runs whatever
    /// failed before it (a repair pass that fixes what it can).</summary>
    public bool StopAtFirstFailure { get; init; } = true;

    /// <summary>Whether an exception a source throws (its namespace gone, a read that failed) is that scope's failure,
    /// reported like any other, instead of ending the apply by propagating (the default).</summary>
    public bool ContainExceptions { get; init; }

    /// <summary>Called as each stage's planning (with <c>true</c>) and then its applying (<c>false</c>) ends, on the
    /// thread that runs the stages: for timing a whole apply phase by phase.</summary>
    public Action<Stage, bool>? PhaseEnded { get; init; }

    /// <summary>How many scopes of a stage are planned or applied at once.</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount * 4;

    /// <summary>Runs the stages.</summary>
    /// <param name="onApplied">Called once for each scope of each stage reached that had a source, as soon as its plan
    /// was applied (or failed), from several threads at once: a caller that collects must synchronise.</param>
    /// <param name="cancellationToken">Stops the apply.</param>
    /// <returns>Every scope's outcome, in stage order then scope order; the failures; what was left pending.</returns>
    public async Task<StagedApplyResult> RunAsync(Action<StageResult>? onApplied = null, CancellationToken cancellationToken = default)
    {
        var results = new List<StageResult>();
        var failures = new List<StagedApplyFailure>();
        var pending = new List<Operation>();
        using var presence = PassCache.KeepPresence(); // each stage is a pass: a namespace is looked up once for all
        using var activity = AetherDiagnostics.ActivitySource.StartActivity("aether.apply");
        activity?.SetTag("aether.apply.scopes", _scopes.Length);
        for (var s = 0; s < Stages.Count; s++)
        {
            var stage = Stages[s];
            StageResult?[] stageResults;
            using (var stageActivity = AetherDiagnostics.ActivitySource.StartActivity("aether.apply.stage"))
            {
                stageActivity?.SetTag("aether.apply.stage", stage.ToString());
                stageResults = await RunStageAsync(stage, onApplied, cancellationToken).ConfigureAwait(false);
                if (stageActivity is not null && stageResults.Any(r => r?.Result.Error is not null))
                {
                    stageActivity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, stageResults.First(r => r?.Result.Error is not null)!.Result.Error!.Message);
                }
            }

            var failed = false;
            foreach (var result in stageResults.OfType<StageResult>())
            {
                results.Add(result);
                if (result.Result.Error is { } error)
                {
                    failed = true;
                    var at = result.Result.Pending.Count > 0 ? result.Result.Pending[0] : null;
                    failures.Add(new StagedApplyFailure(result.Stage, result.Scope, at, error));
                    pending.AddRange(result.Result.Pending);
                }
            }

            if (failed && StopAtFirstFailure)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failures[0].Error.Message);
                return new StagedApplyResult(results, failures, pending, [.. Stages.Skip(s + 1)]);
            }
        }

        return new StagedApplyResult(results, failures, pending, []);
    }

    private async Task<StageResult?[]> RunStageAsync(Stage stage, Action<StageResult>? onApplied, CancellationToken cancellationToken)
    {
        // Planning touches nothing: each namespace's links are read once for the stage. The sources are asked for
        // here, in parallel too: making one may open a handle inside its namespace.
        var sources = new ISplitPassSource?[_scopes.Length];
        var plans = new (Plan? Plan, Exception? Error)[_scopes.Length];
        using (PassCache.Begin())
        {
            await ForEachScopeAsync(static _ => true, async i =>
            {
                try
                {
                    if ((sources[i] = _sources(stage, _scopes[i])) is { } source)
                    {
                        plans[i] = (await source.PlanPassAsync(cancellationToken).ConfigureAwait(false), null);
                    }
                }
                catch (Exception ex) when (Contained(ex, cancellationToken))
                {
                    plans[i] = (null, ex);
                }
            }, cancellationToken).ConfigureAwait(false);
        }

        // Every plan's intent in one write, before any of them touches the kernel.
        using (_records?.Defer())
        {
            for (var i = 0; i < sources.Length; i++)
            {
                if (plans[i].Plan is { Count: > 0 } plan)
                {
                    sources[i]!.Prepare(plan);
                }
            }
        }

        PhaseEnded?.Invoke(stage, true);

        // What applying changes in the records is written once more, at the end of the stage.
        var results = new StageResult?[_scopes.Length];
        using (_records?.Defer())
        {
            await ForEachScopeAsync(i => sources[i] is not null || plans[i].Error is not null, async i =>
            {
                PassResult result;
                if (plans[i] is (_, { } planFailed))
                {
                    result = new PassResult(Plan.Empty, [], [], planFailed);
                }
                else
                {
                    var plan = plans[i].Plan!;
                    try
                    {
                        result = await sources[i]!.ApplyPlanAsync(plan, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (Contained(ex, cancellationToken))
                    {
                        result = new PassResult(plan, [], [.. plan], ex);
                    }
                }

                var done = new StageResult(stage, _scopes[i], result);
                results[i] = done;
                onApplied?.Invoke(done);
            }, cancellationToken).ConfigureAwait(false);
        }

        PhaseEnded?.Invoke(stage, false);
        return results;
    }

    private bool Contained(Exception ex, CancellationToken cancellationToken) =>
        ContainExceptions && (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested);

    /// <summary>Runs <paramref name="work"/> for every scope (by index) that <paramref name="which"/> selects, several
    /// at once, the host after the others.</summary>
    private Task ForEachScopeAsync(Func<int, bool> which, Func<int, Task> work, CancellationToken cancellationToken)
    {
        var order = new List<int>(_scopes.Length);
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < _scopes.Length; i++)
            {
                if (_scopes[i].IsHost == (pass == 1) && which(i))
                {
                    order.Add(i);
                }
            }
        }

        if (order.Count == 1)
        {
            return work(order[0]);
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken };
        return Parallel.ForEachAsync(order, options, async (i, _) => await work(i).ConfigureAwait(false));
    }
}

/// <summary>What one stage did in one scope.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Scope">The scope.</param>
/// <param name="Result">Its source's plan, what was applied, what was left pending and the failure, if any (a plan
/// that could not be made is an empty plan with the failure).</param>
public sealed record StageResult(Stage Stage, Scope Scope, PassResult Result);

/// <summary>A failure of a staged apply.</summary>
/// <param name="Stage">The stage it happened in.</param>
/// <param name="Scope">The scope it happened in.</param>
/// <param name="Operation">The operation that failed, or null when the failure was not an operation's (reading the
/// kernel failed).</param>
/// <param name="Error">The failure, with the kernel's message.</param>
public sealed record StagedApplyFailure(Stage Stage, Scope Scope, Operation? Operation, Exception Error)
{
    /// <summary>The object that failed, or null.</summary>
    public ObjectKey? Key => Operation?.Key;
}

/// <summary>What a staged apply did.</summary>
/// <param name="Results">Every scope's outcome in every stage reached, in stage order then scope order.</param>
/// <param name="Failures">The failures, in the same order (of one stage only, when the apply stops at the first).</param>
/// <param name="Pending">The operations planned but not carried out because of a failure, the failed ones
/// included.</param>
/// <param name="NotReached">The stages not run (not even planned) because an earlier one failed.</param>
public sealed record StagedApplyResult(IReadOnlyList<StageResult> Results, IReadOnlyList<StagedApplyFailure> Failures, IReadOnlyList<Operation> Pending, IReadOnlyList<Stage> NotReached)
{
    /// <summary>The first failure, or null when everything was applied.</summary>
    public StagedApplyFailure? Failure => Failures.Count > 0 ? Failures[0] : null;
}
