using Aether.Reconcile;

namespace Aether.Hub;

/// <summary>NAT: the hub's nftables table (the masquerade and the forwarding rules) as last applied, for the status,
/// and the policy that says whether its failure fails an add.</summary>
public sealed partial class WireGuardHub
{
    private readonly NatOutcome _nat = new();
    private readonly HubNftablesState _nftState = new();

    /// <summary>A network's NAT as clients see it: its policy, and the state of the last pass of the table.</summary>
    private HubNatStatus NatStatus(HubNetworkSpec network)
    {
        if (!HasNat(network))
        {
            return new HubNatStatus(network.NatPolicy, HubNatState.None, _nat.Error);
        }

        return _nat.Error is { } error
            ? new HubNatStatus(network.NatPolicy, HubNatState.Failed, error)
            : new HubNatStatus(network.NatPolicy, _nat.Applied ? HubNatState.Ok : HubNatState.Failed, _nat.Applied ? null : "the hub's nftables table has not been applied yet");
    }

    /// <summary>The table's last outcome, written by whichever pass ran it.</summary>
    private sealed class NatOutcome
    {
        private volatile string? _error;
        private volatile bool _applied;

        public string? Error => _error;

        public bool Applied => _applied;

        public void Set(Exception? error)
        {
            _error = error?.Message;
            _applied = error is null;
        }
    }

    /// <summary>The nftables source, recording how each pass of it ended.</summary>
    private sealed class NatTracking(ISplitPassSource inner, NatOutcome outcome) : ISplitPassSource, IDisposable
    {
        public async Task<Plan> PlanPassAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await inner.PlanPassAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcome.Set(ex);
                throw;
            }
        }

        public void Prepare(Plan plan) => inner.Prepare(plan);

        public async Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken)
        {
            try
            {
                var result = await inner.ApplyPlanAsync(plan, cancellationToken).ConfigureAwait(false);
                outcome.Set(result.Error);
                return result;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcome.Set(ex);
                throw;
            }
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }
}
