using Aether.Reconcile;
using Microsoft.Extensions.Logging;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Hub;

/// <summary>The loops: one per namespace the hub keeps, the host's (devices, host veth ends, addresses, routes,
/// forwarding, NAT) and one per container (its addresses and routes), each woken by its own namespace's
/// monitor.</summary>
public sealed partial class WireGuardHub
{
    private ReconcileLoop? _hostLoop;
    private Task? _hostMonitor;

    /// <inheritdoc/>
    public IReadOnlyList<ReconcileStatus> LoopStatuses()
    {
        lock (_stateLock)
        {
            return [.. new[] { _hostLoop }.Concat(_containers.Values.OrderBy(c => c.Reference, StringComparer.Ordinal).Select(c => c.Loop)).OfType<ReconcileLoop>().Select(l => l.Status)];
        }
    }

    private async Task StartHostLoopAsync()
    {
        _hostLoop = NewLoop(null);
        await _hostLoop.StartAsync(CancellationToken.None).ConfigureAwait(false);
        _hostMonitor = MonitorAsync(_hostHandle, () => _hostLoop, _stopping.Token);
    }

    /// <summary>Starts a container's loop and monitor (under the gate), unless it has them, is gone, or the hub runs
    /// no loops.</summary>
    private async Task StartLoopAsync(Container container)
    {
        if (!_options.RunLoop || _stopping.IsCancellationRequested || container.Gone || container.Loop is not null)
        {
            return;
        }

        StartMonitor(container);
        var loop = NewLoop(container);
        lock (_stateLock)
        {
            container.Loop = loop;
        }

        await loop.StartAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private ReconcileLoop NewLoop(Container? container) =>
        new(new NamespaceLoopSource(this, container), _options.Loop, logger: _options.LoggerFactory?.CreateLogger<ReconcileLoop>());

    /// <summary>Stops and disposes a loop. A pass of it waiting for the gate is cancelled, so this may be called under
    /// the gate.</summary>
    private static async Task StopLoopAsync(ReconcileLoop? loop)
    {
        if (loop is null)
        {
            return;
        }

        await loop.StopAsync(CancellationToken.None).ConfigureAwait(false);
        loop.Dispose();
    }

    /// <summary>One pass of one namespace's loop: the host's first looks at every container (the safety net behind
    /// the watchers and pidfds), then runs the host's sources; a container's runs its own.</summary>
    private async Task<PassResult> LoopPassAsync(Container? container, CancellationToken cancellationToken)
    {
        if (DeferToCall(container))
        {
            return Deferred;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (DeferToCall(container))
        {
            _gate.Release();
            return Deferred;
        }

        using var timing = Phase(container is null ? "loop: host pass" : "loop: container pass");
        try
        {
            Scope scope;
            if (container is null)
            {
                await RefreshContainersAsync().ConfigureAwait(false);
                scope = Scope.Host;
            }
            else if (container.Gone || !_containers.ContainsKey(container.Reference))
            {
                // Only if a pass was already past the gate's queue when the container went: its loop is being stopped.
                throw new NamespaceGoneException(container.Error ?? $"container {container.Reference} is gone");
            }
            else
            {
                scope = container.Scope;
            }

            var result = await RunUnitsAsync([scope], stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            var applied = result.Results.SelectMany(r => r.Result.Applied).ToList();
            foreach (var op in applied)
            {
                LogRepaired(_logger, op.Kind, op.Target, op.Reason);
            }

            if (container is null && result.Results.Any(r => r.Stage == Stage.Links && r.Result.Applied.Count > 0))
            {
                // Veth pairs made from the host: their inner ends want addresses and routes from the containers' loops.
                foreach (var c in _containers.Values)
                {
                    c.Loop?.Hint();
                }
            }
            else if (container is not null && result.Failure is not null)
            {
                _hostLoop?.Hint(); // an ethN missing is the host's to make
            }

            var first = result.Failure is { } f ? new InvalidOperationException($"{StepName(f.Stage, f.Scope)}: {f.Error.Message}", f.Error) : null;
            return new PassResult(Plan.Of(result.Results.SelectMany(r => r.Result.Plan)), applied, result.Pending, first);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Calls (adds and removes) that will run, or are running, a full pass: counted from before they wait for
    /// the gate until after they release it.</summary>
    private int _passCalls;

    private static readonly PassResult Deferred = new(Plan.Empty, [], [], null);

    /// <summary>Counts a call that runs a full pass of every namespace (see <see cref="DeferToCall"/>).</summary>
    private PassCallScope PassCall()
    {
        Interlocked.Increment(ref _passCalls);
        return new PassCallScope(this);
    }

    /// <summary>Whether a loop's pass gives way to a call: while an add or remove is waiting for the gate or running,
    /// the loop's pass would only make the next call wait, and the call's own pass reads every namespace after the
    /// hint that woke the loop. The loop is hinted again instead, so it passes once the calls are done (also when
    /// a call ended before its pass, or its pass read a namespace before the change that woke the loop).</summary>
    private bool DeferToCall(Container? container)
    {
        if (Volatile.Read(ref _passCalls) == 0)
        {
            return false;
        }

        (container is null ? _hostLoop : container.Loop)?.Hint();
        using var timing = Phase(container is null ? "loop: host pass deferred" : "loop: container pass deferred");
        return true;
    }

    /// <summary>Ends a <see cref="PassCall"/>.</summary>
    private readonly struct PassCallScope(WireGuardHub hub) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref hub._passCalls);
    }

    /// <summary>A loop's view of the hub: one namespace's sources, named for the namespace.</summary>
    private sealed class NamespaceLoopSource(WireGuardHub hub, Container? container) : IReconcileSource
    {
        public string Name => container is null
            ? "hub/host" + (hub.HostNamespace is { } ns ? " in " + ns : "")
            : "hub/container " + container.Reference;

        public string Kind => container is null ? "hub/host" : "hub/container";

        public Task<PassResult> RunPassAsync(CancellationToken cancellationToken) => hub.LoopPassAsync(container, cancellationToken);

        public IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => null;
    }
}
