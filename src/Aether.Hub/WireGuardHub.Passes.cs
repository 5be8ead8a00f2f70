using System.Globalization;
using Aether.Reconcile;
using Aether.WireGuard;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Hub;

/// <summary>Passes: the networks' sources run through the staged apply, the checks before an add, and the roll-back
/// of an add that failed.</summary>
public sealed partial class WireGuardHub
{
    /// <summary>Runs the sources' passes through the staged apply: stage by stage, the scopes of a stage at once.</summary>
    /// <param name="only">The scopes to run (a loop's namespace), or null for every one (a call).</param>
    /// <param name="stopAtFirstFailure">Whether the first stage with a failure ends the pass.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    private Task<StagedApplyResult> RunUnitsAsync(IReadOnlyList<Scope>? only, bool stopAtFirstFailure, CancellationToken cancellationToken)
    {
        var units = CurrentUnits();
        var scopes = only is null ? units.Scopes : [.. units.Scopes.Where(only.Contains)];
        var apply = new StagedApply(scopes, (stage, scope) => units.Sources.GetValueOrDefault((stage, scope))?.Source, _records)
        {
            StopAtFirstFailure = stopAtFirstFailure,
            ContainExceptions = true, // a container that went away, or a read that failed, is its step's failure
        };
        return apply.RunAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Runs every source's pass.</summary>
    /// <returns>The first failure (in stage order, then the host before the containers), or null.</returns>
    private async Task<(string Step, Exception Error, Stage Stage)?> RunStepsAsync(bool stopAtFirstFailure, CancellationToken cancellationToken) =>
        (await RunUnitsAsync(null, stopAtFirstFailure, cancellationToken).ConfigureAwait(false)).Failure is { } f ? (StepName(f.Stage, f.Scope), f.Error, f.Stage) : null;

    /// <summary>What people call a stage of a scope: <c>links in the host</c>, <c>addresses in blue</c>.</summary>
    private static string StepName(Stage stage, Scope scope) => stage switch
    {
        Stage.Links => "links",
        Stage.Devices => "wireguard",
        Stage.Addresses => "addresses",
        Stage.Routes => "routes",
        Stage.Sysctls => "sysctls",
        Stage.Nftables => "nftables",
        _ => stage.ToString().ToLowerInvariant(),
    } + " in " + scope.Describe();

    /// <summary>Another network's index, port or CIDR (409), or a peer's allowed IPs that clash with another network
    /// (400 naming the field; <paramref name="shorthand"/>: the request's first peer came from the single-peer fields,
    /// so <c>peers[i]</c> is the spec's peer i + 1).</summary>
    private void CheckConflicts(HubNetworkSpec spec, bool shorthand)
    {
        foreach (var other in _networks.Values)
        {
            string? why = null;
            if (other.Index == spec.Index)
            {
                why = $"index {spec.Index} is network {other.Id}'s ({other.WgName})";
            }
            else if (other.ListenPort == spec.ListenPort)
            {
                why = $"listen port {spec.ListenPort} is network {other.Id}'s";
            }
            else if (other.NetworkCidr.Overlaps(spec.NetworkCidr))
            {
                why = $"network {spec.NetworkCidr} overlaps network {other.Id}'s {other.NetworkCidr}";
            }

            else if (other.Peers.SelectMany(p => p.AllowedIps).FirstOrDefault(a => a.Overlaps(spec.NetworkCidr)) is { Address: not null } routed)
            {
                why = $"network {spec.NetworkCidr} overlaps {routed}, a peer's allowed IPs of network {other.Id}";
            }

            if (why is not null)
            {
                throw new HubException(HubErrorKind.Conflict, why) { NetworkId = spec.Id };
            }
        }

        for (var i = 0; i < spec.Peers.Count; i++)
        {
            var field = shorthand
                ? (i == 0 ? "networkCidr" : string.Create(CultureInfo.InvariantCulture, $"peers[{i - 1}].allowedIps"))
                : string.Create(CultureInfo.InvariantCulture, $"peers[{i}].allowedIps");
            if (RouteClash(spec.Id, spec.Peers[i]) is { } why)
            {
                throw HubException.Invalid([new HubFieldError(field, why)]);
            }
        }
    }

    /// <summary>Why a peer's allowed IPs cannot be routed into its network's <c>wgN</c>: one overlaps another
    /// network's CIDR or another network's peers' allowed IPs (the host would have two routes for one address).</summary>
    private string? RouteClash(string networkId, HubPeerSpec peer)
    {
        foreach (var other in _networks.Values.Where(o => !string.Equals(o.Id, networkId, StringComparison.Ordinal)))
        {
            foreach (var a in peer.AllowedIps)
            {
                if (a.Overlaps(other.NetworkCidr))
                {
                    return $"{a} overlaps network {other.Id}'s {other.NetworkCidr}: a peer's allowed IPs are routed into its own network's wgN";
                }

                foreach (var p in other.Peers)
                {
                    if (p.AllowedIps.FirstOrDefault(b => b.Overlaps(a)) is { Address: not null } b)
                    {
                        return $"{a} overlaps {b}, allowed IPs of peer {p.PublicKey} of network {other.Id}: a peer's allowed IPs are routed into its own network's wgN";
                    }
                }
            }
        }

        return null;
    }

    /// <summary>A link named like the new network's device that the hub's WireGuard source does not own.</summary>
    private async Task<(string Step, string What)?> FindForeignDeviceAsync(HubNetworkSpec spec, CancellationToken cancellationToken)
    {
        var link = await _hostHandle.FindLinkAsync(spec.WgName, cancellationToken).ConfigureAwait(false);
        return link is not null && !string.Equals(link.Alias, WireGuardSource.MarkOf(_options.Owner), StringComparison.Ordinal)
            ? ("wireguard in the host", $"wireguard {spec.WgName} exists but is not ours (alias '{link.Alias}')")
            : null;
    }

    private async Task<(string Step, string What)?> FindKernelConflictAsync(CancellationToken cancellationToken)
    {
        var units = CurrentUnits();
        var steps = units.Sources.Where(u => u.Value.CanConflict).Select(u => (Name: StepName(u.Key.Stage, u.Key.Scope), u.Value.Source)).ToList();
        var plans = await Task.WhenAll(steps.Select(async step =>
        {
            try
            {
                return await step.Source.PlanPassAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return null; // reading failed: the pass itself will say so, with the step
            }
        })).ConfigureAwait(false);
        for (var i = 0; i < steps.Count; i++)
        {
            if (plans[i]?.FirstOrDefault(op => op.Conflict) is { } op)
            {
                return (steps[i].Name, $"{op.Target} {op.Reason}");
            }
        }

        return null;
    }

    private async Task RollBackAsync(HubNetworkSpec spec, bool newContainer, Exception cause)
    {
        SetNetwork(spec.Id, null);
        lock (_stateLock)
        {
            _attachments.Remove(spec.Id);
        }

        var failure = await RunStepsAsync(stopAtFirstFailure: false, CancellationToken.None).ConfigureAwait(false);
        if (failure is { } f)
        {
            LogRollbackFailure(_logger, spec.Id, f.Step, f.Error.Message);
        }

        if (newContainer)
        {
            await ForgetUnusedContainersAsync(failure is null).ConfigureAwait(false);
        }

        LogRolledBack(_logger, spec.Id, cause.Message);
    }

    private void SetNetwork(string id, HubNetworkSpec? spec)
    {
        lock (_stateLock)
        {
            if (spec is null)
            {
                _networks.Remove(id);
            }
            else
            {
                _networks[id] = spec;
            }
        }

        DisposeUnits();
    }

    /// <summary>The sources of a pass, by stage and scope, and the scopes (the host, then each open container).</summary>
    private sealed record Units(Scope[] Scopes, Dictionary<(Stage Stage, Scope Scope), Unit> Sources);

    /// <summary>One source of a pass; <paramref name="CanConflict"/>: planned before an add, to refuse it on a conflict
    /// before anything is touched.</summary>
    private sealed record Unit(ISplitPassSource Source, bool CanConflict = true);

    /// <summary>A step that cannot run here (libnftables missing): every pass fails with why.</summary>
    private sealed class Unavailable(string why) : ISplitPassSource
    {
        public Task<Plan> PlanPassAsync(CancellationToken cancellationToken) => Task.FromException<Plan>(new TerminalReconcileException(why));

        public void Prepare(Plan plan)
        {
        }

        public Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken) =>
            Task.FromResult(new PassResult(plan, [], [.. plan], new TerminalReconcileException(why)));
    }
}
