using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>Keeps every namespace converged with its own loop until <paramref name="cancellationToken"/> is
    /// cancelled; missing namespaces are created first. The loops' first passes converge whatever is left, so every
    /// change made from here on shows in a pass report, and every pass report goes to <paramref name="onReport"/>.
    /// Call <see cref="ApplyAsync(IProgress{ChangeLine}?, CancellationToken)"/> before it to show the initial state object by object.</summary>
    public async Task RunAsync(ReconcileLoopOptions loopOptions, Action<PassReport>? onReport = null, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loopOptions);
        using var session = new Session(this, OpenStore(), createMissing: true);
        var loops = Scopes.Where(session.Exists)
            .Select(scope => new ReconcileLoop(
                new SourceGroup(
                    scope + " of " + Owner,
                    [.. StageOrder.Select(stage => session.SourceFor(stage, scope)).OfType<IReconcileSource>()],
                    hints: ct => session.HintsAsync(scope, ct)),
                loopOptions,
                logger: (loggers ?? NullLoggerFactory.Instance).CreateLogger<ReconcileLoop>()))
            .ToList();
        var readers = loops.Select(loop => Task.Run(async () =>
        {
            await foreach (var report in loop.Reports.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                onReport?.Invoke(report);
            }
        }, CancellationToken.None)).ToList();
        foreach (var loop in loops)
        {
            await loop.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT or SIGTERM: stop the loops and leave.
        }

        foreach (var loop in loops)
        {
            await loop.StopAsync(CancellationToken.None).ConfigureAwait(false);
            loop.Dispose();
        }

        await Task.WhenAll(readers).ConfigureAwait(false);
    }
}
