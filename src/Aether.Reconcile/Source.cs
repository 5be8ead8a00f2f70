namespace Aether.Reconcile;

/// <summary>
/// A kernel subsystem in one namespace, reconciled by a <see cref="ReconcileLoop"/>: observe what is there, diff it
/// against what is wanted (pure), apply the plan step by step, and optionally subscribe to change hints.
/// </summary>
/// <typeparam name="TState">What <see cref="ObserveAsync"/> reads.</typeparam>
public abstract class Source<TState> : IReconcileSource
{
    /// <summary>A short name for logs and reports (<c>links in blue</c>).</summary>
    public abstract string Name { get; }

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
    public async Task<PassResult> RunPassAsync(CancellationToken cancellationToken)
    {
        var observed = await ObserveAsync(cancellationToken).ConfigureAwait(false);
        var plan = Diff(observed);
        var applied = new List<Operation>(plan.Count);
        for (var i = 0; i < plan.Count; i++)
        {
            try
            {
                await ApplyAsync(plan[i], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not NamespaceGoneException)
            {
                return new PassResult(plan, applied, plan.Skip(i).ToList(), ex);
            }

            applied.Add(plan[i]);
        }

        return new PassResult(plan, applied, [], null);
    }
}

/// <summary>The loop's view of a source: a name, a pass, and hints.</summary>
public interface IReconcileSource
{
    /// <summary>A short name for logs and reports.</summary>
    string Name { get; }

    /// <summary>One pass: observe, diff, apply.</summary>
    Task<PassResult> RunPassAsync(CancellationToken cancellationToken);

    /// <summary>Change hints, or null for timer-only sources.</summary>
    IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken);
}

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
