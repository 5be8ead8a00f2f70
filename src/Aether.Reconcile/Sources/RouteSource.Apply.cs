using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>Applying: recording intent, adding, replacing and deleting routes.</summary>
public sealed partial class RouteSource
{
    /// <inheritdoc/>
    public override void Prepare(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        // Up to the first conflict: a pass stops there (it is refused), so nothing after it is meant to happen.
        _record.SetMany(plan.TakeWhile(op => !op.Conflict).OfType<RouteOperation>()
            .Where(op => op is { Kind: not OperationKind.Delete, MissingDevice: null, Route: not null })
            .Select(op => KeyValuePair.Create(op.Key.Name, new AppliedEntry(op.Route!.ToString()))));
    }

    /// <inheritdoc/>
    protected override string ConflictMessage(RouteOperation conflict)
    {
        ArgumentNullException.ThrowIfNull(conflict);
        return $"{conflict.Target}: {conflict.Reason}: not taking it over (the conflict policy is {ConflictPolicy.Report})";
    }

    /// <inheritdoc/>
    protected override async Task ApplyOperationAsync(RouteOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.Kind == OperationKind.Delete)
        {
            if (op.Existing is { } existing)
            {
                try
                {
                    await Handle.DeleteRouteAsync(existing, cancellationToken).ConfigureAwait(false);
                }
                catch (NetlinkException ex) when (ex.Errno == Errno.ESRCH)
                {
                    // Gone already: the goal is met.
                }
            }

            _record.Remove(op.Key.Name);
            return;
        }

        var want = op.Route!;
        if (op.MissingDevice is { } device)
        {
            // Retryable: the link may be created later (by a link source, or by hand).
            throw new InvalidOperationException($"{op.Target}: link {device} missing");
        }

        var route = ToRoute(want, op.OutputIndex);
        if (op.Kind == OperationKind.Create)
        {
            // ENETUNREACH (no address on the gateway's network yet) propagates as a retryable failure.
            await Handle.AddRouteAsync(route, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Handle.ReplaceRouteAsync(route, cancellationToken).ConfigureAwait(false);
        }

        _record.Set(op.Key.Name, new AppliedEntry(want.ToString()));
    }

    private Route ToRoute(DesiredRoute want, int? index) => new()
    {
        Family = want.Family,
        Destination = want.Destination is { PrefixLength: > 0 } dst ? dst : null,
        Gateway = want.Gateway,
        OutputIndex = index,
        PreferredSource = want.PreferredSource,
        Table = want.Table,
        Metric = want.Metric,
        Protocol = Protocol,
        Scope = want.Scope,
        OnLink = want.OnLink,
    };
}
