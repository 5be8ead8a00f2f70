namespace Aether.Reconcile;

/// <summary>
/// A source whose plans hold only its own kind of operation: the cast from <see cref="Operation"/> and the refusal
/// of conflicts are done here, once, and the source applies what is left.
/// </summary>
/// <typeparam name="TState">What <see cref="Source{TState}.ObserveAsync"/> reads.</typeparam>
/// <typeparam name="TOperation">The source's operation type.</typeparam>
public abstract class Source<TState, TOperation> : Source<TState>
    where TOperation : Operation
{
    /// <summary>Applies one operation: one of another type is refused as a caller's mistake, a conflict (someone
    /// else's object where ours should be) as terminal, touching nothing; anything else goes to
    /// <see cref="ApplyOperationAsync"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="operation"/> is not a <typeparamref name="TOperation"/>.</exception>
    /// <exception cref="TerminalReconcileException">The operation is a conflict.</exception>
    public sealed override Task ApplyAsync(Operation operation, CancellationToken cancellationToken)
    {
        var op = Cast(operation);
        return op.Conflict ? Task.FromException(new TerminalReconcileException(ConflictMessage(op))) : ApplyOperationAsync(op, cancellationToken);
    }

    /// <summary><paramref name="operation"/> as this source's type.</summary>
    /// <exception cref="ArgumentException">It is of another type.</exception>
    protected static TOperation Cast(Operation operation) =>
        operation as TOperation ?? throw new ArgumentException($"not a {typeof(TOperation).Name}: {operation}", nameof(operation));

    /// <summary>What refusing <paramref name="conflict"/> says: <c>link veth0 exists but is not ours (alias 'x'): not
    /// taking it over</c>.</summary>
    protected virtual string ConflictMessage(TOperation conflict)
    {
        ArgumentNullException.ThrowIfNull(conflict);
        return $"{conflict.Target} {conflict.Reason}: not taking it over";
    }

    /// <summary>Carries out one operation of this source's type that is not a conflict. Throws
    /// <see cref="TerminalReconcileException"/> when it can never be applied, anything else for a failure worth
    /// retrying.</summary>
    protected abstract Task ApplyOperationAsync(TOperation operation, CancellationToken cancellationToken);
}
