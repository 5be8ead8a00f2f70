using Aether.Ovsdb;

namespace Aether.Reconcile.Sources;

/// <summary>Applying: each operation is a few OVSDB operations with their ownership checks; consecutive ones go to
/// the server as one transaction.</summary>
public sealed partial class OvsBridgeSource
{
    /// <summary>The most operations put in one transaction.</summary>
    private const int MaxBatch = 512;

    /// <inheritdoc/>
    protected override async Task ApplyOperationAsync(OvsOperation operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var changes = new OvsChanges(Owner);
        Write(changes, operation);
        await database.ApplyAsync(changes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Consecutive operations that are not conflicts go in one transaction (three hundred ports: one round
    /// trip, not three hundred). A transaction is all or nothing: when it fails, they are applied one by one, so the
    /// report names the one that failed and the ones before it are done.</summary>
    protected override async Task<ApplyOutcome> ApplyFromAsync(Plan plan, int start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = 0;
        while (start + run < plan.Count && run < MaxBatch && plan[start + run] is OvsOperation { Conflict: false })
        {
            run++;
        }

        if (run < 2)
        {
            return await base.ApplyFromAsync(plan, start, cancellationToken).ConfigureAwait(false);
        }

        var ops = plan.Skip(start).Take(run).Cast<OvsOperation>().ToArray();
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var changes = new OvsChanges(Owner);
        foreach (var op in ops)
        {
            Write(changes, op);
        }

        try
        {
            await database.ApplyAsync(changes, cancellationToken).ConfigureAwait(false);
            return new ApplyOutcome(run, ops, null);
        }
        catch (OvsdbException)
        {
            // Nothing of it was committed: find the one that fails.
        }

        var applied = new List<Operation>(run);
        for (var i = 0; i < ops.Length; i++)
        {
            try
            {
                await ApplyOperationAsync(ops[i], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return new ApplyOutcome(i + 1, applied, ex);
            }

            applied.Add(ops[i]);
        }

        return new ApplyOutcome(run, applied, null);
    }

    private static void Write(OvsChanges changes, OvsOperation op)
    {
        switch (op.Change)
        {
            case OvsChange.CreateBridge:
                changes.CreateBridge(op.Into!, op.DatapathType!);
                break;
            case OvsChange.SetDatapathType:
                changes.SetDatapathType(op.Bridge!, op.DatapathType!);
                break;
            case OvsChange.DeleteBridge:
                changes.DeleteBridge(op.Bridge!);
                break;
            case OvsChange.CreatePort:
                changes.AddPort(op.Into!, op.Key.Name, op.Tag, op.Trunks);
                break;
            case OvsChange.SetTag:
                changes.SetTag(op.Port!, op.Tag);
                break;
            case OvsChange.SetTrunks:
                changes.SetTrunks(op.Port!, op.Trunks);
                break;
            case OvsChange.MovePort:
                changes.MovePort(op.Port!, op.Bridge!, op.Into!, op.Tag);
                break;
            case OvsChange.DeletePort:
                changes.DeletePort(op.Port!, op.Bridge!);
                break;
            case OvsChange.ReclaimPort:
                changes.ReclaimPort(op.Port!, op.Bridge!);
                break;
            default:
                throw new ArgumentException($"unknown ovs change {op.Change}", nameof(op));
        }
    }
}
