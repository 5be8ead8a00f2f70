namespace Aether.Reconcile;

/// <summary>
/// A kernel subsystem in one namespace, reconciled by a <see cref="ReconcileLoop"/>: observe what is there, diff it
/// against what is wanted (pure), apply the plan step by step, and optionally subscribe to change hints.
/// </summary>
/// <typeparam name="TState">What <see cref="ObserveAsync"/> reads.</typeparam>
public abstract class Source<TState> : IReconcileSource, ISplitPassSource
{
    /// <summary>A short name for logs and reports (<c>links in blue</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Where this source's objects live: the scope of the keys of the operations it plans. Sources take it
    /// from their namespace; a controller that names its namespaces otherwise (the host as the process's own
    /// namespace, a container by its reference) sets it.</summary>
    public Scope Scope { get; init; }

    /// <summary>Reads the kernel state this source cares about. Throws <see cref="NamespaceGoneException"/> when its
    /// namespace no longer exists.</summary>
    public abstract Task<TState> ObserveAsync(CancellationToken cancellationToken);

    /// <summary>Desired against observed: the operations that make them equal. Pure: no I/O.</summary>
    public abstract Plan Diff(TState observed);

    /// <summary>Carries out one operation. Throws <see cref="TerminalReconcileException"/> when the desired state can
    /// never be applied (retrying would not help), anything else for a failure worth retrying.</summary>
    public abstract Task ApplyAsync(Operation operation, CancellationToken cancellationToken);

    /// <summary>Change hints from the kernel, or null for a source that relies on the resync timer alone.
    /// A hint only says "look again"; the next pass reads the truth.</summary>
    public virtual IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => null;

    /// <summary>One pass: observe, diff, apply in order, stop at the first failure and report the rest as pending.</summary>
    public async Task<PassResult> RunPassAsync(CancellationToken cancellationToken) =>
        await ApplyPlanAsync(await PlanPassAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>The first half of a pass: observe and diff.</summary>
    public async Task<Plan> PlanPassAsync(CancellationToken cancellationToken) =>
        Diff(await ObserveAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The second half of a pass: <see cref="Prepare"/>, then apply <paramref name="plan"/> in order, stop at
    /// the first failure and report the rest as pending.</summary>
    public async Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count > 0)
        {
            Prepare(plan);
        }

        var applied = new List<Operation>(plan.Count);
        for (var i = 0; i < plan.Count;)
        {
            ApplyOutcome outcome;
            try
            {
                outcome = await ApplyFromAsync(plan, i, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not NamespaceGoneException)
            {
                return new PassResult(plan, applied, plan.Skip(i).ToList(), ex);
            }

            if (outcome.Consumed < 1 || i + outcome.Consumed > plan.Count)
            {
                throw new InvalidOperationException($"{Name}: applying from operation {i} consumed {outcome.Consumed} of {plan.Count - i}");
            }

            applied.AddRange(outcome.Applied);
            var next = i + outcome.Consumed;
            if (outcome.Error is not null)
            {
                // What the batch did not carry out (the failed operation first), then everything after it.
                var done = outcome.Applied.ToHashSet();
                return new PassResult(plan, applied, [.. plan.Skip(i).Take(outcome.Consumed).Where(op => !done.Contains(op)), .. plan.Skip(next)], outcome.Error);
            }

            i = next;
        }

        return new PassResult(plan, applied, [], null);
    }

    /// <summary>Applies <c>plan[start]</c> and, in a source that can, operations after it that go to the kernel
    /// together (one batch of requests instead of one round trip each). The default applies one operation with
    /// <see cref="ApplyAsync"/>; a failure may be thrown (nothing of it was applied) or returned in the outcome.</summary>
    protected virtual async Task<ApplyOutcome> ApplyFromAsync(Plan plan, int start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        await ApplyAsync(plan[start], cancellationToken).ConfigureAwait(false);
        return new ApplyOutcome(1, [plan[start]], null);
    }

    /// <summary>Called before a plan is applied. Sources that keep a last-applied record write their intent here, in
    /// one write (a thousand addresses: one file write, not a thousand), before the kernel is touched: a crash between
    /// the two leaves a record of an object that may not exist, which the next pass recreates or forgets, never an
    /// object of ours that no record knows. Recording what is recorded already changes nothing, so calling it twice
    /// (a controller that prepares every namespace's plan in one write, then applies) costs nothing.</summary>
    public virtual void Prepare(Plan plan)
    {
    }
}

/// <summary>The loop's view of a source: a name, a pass, and hints.</summary>
public interface IReconcileSource
{
    /// <summary>A short name for logs and reports.</summary>
    string Name { get; }

    /// <summary>What kind of source this is, from a small fixed set (<c>hub/host</c>, <c>topology</c>…): the
    /// attribute metrics are recorded by, where <see cref="Name"/> (which names namespaces and owners) would make
    /// a series per object.</summary>
    string Kind => "other";

    /// <summary>One pass: observe, diff, apply.</summary>
    Task<PassResult> RunPassAsync(CancellationToken cancellationToken);

    /// <summary>Change hints, or null for timer-only sources.</summary>
    IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken);
}

/// <summary>A source whose pass can be run in halves, so that a controller of many namespaces can plan them all,
/// record every plan's intent in one write, and then apply them.</summary>
public interface ISplitPassSource
{
    /// <summary>Observe and diff only: touches nothing.</summary>
    Task<Plan> PlanPassAsync(CancellationToken cancellationToken);

    /// <summary>Records the intent of <paramref name="plan"/> (sources with a last-applied record), touching no
    /// kernel object.</summary>
    void Prepare(Plan plan);

    /// <summary>Applies a plan made by <see cref="PlanPassAsync"/> (after <see cref="Prepare"/>).</summary>
    Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken);
}

/// <summary>What <see cref="Source{TState}"/>'s <c>ApplyFromAsync</c> did.</summary>
/// <param name="Consumed">How many operations of the plan it took, from where it started.</param>
/// <param name="Applied">Those of them carried out, in plan order.</param>
/// <param name="Error">The first failure among them, or null.</param>
public readonly record struct ApplyOutcome(int Consumed, IReadOnlyList<Operation> Applied, Exception? Error);

/// <summary>What one pass did.</summary>
/// <param name="Plan">The plan the diff produced: its length is the drift found.</param>
/// <param name="Applied">The operations carried out, in order.</param>
/// <param name="Pending">The operations not carried out because one failed (the failed one first).</param>
/// <param name="Error">The failure, or null.</param>
public sealed record PassResult(Plan Plan, IReadOnlyList<Operation> Applied, IReadOnlyList<Operation> Pending, Exception? Error);

/// <summary>The desired state can never be applied as it is (a conflict with a foreign object, a kernel that lacks a
/// feature): reported, and not retried in a hot loop.</summary>
public sealed class TerminalReconcileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TerminalReconcileException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The source's namespace is gone: the loop reports it and stops (ownership is lifetime).</summary>
public sealed class NamespaceGoneException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NamespaceGoneException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
