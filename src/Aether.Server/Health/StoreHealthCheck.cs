using Aether.Hub;
using Aether.Server.Store;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>Ready when the hub's store answers a query (the SQLite file is there and readable), within 5 s.</summary>
internal sealed class StoreHealthCheck(IHubStore store) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var networks = store is SqliteHubStore sqlite
                ? await sqlite.CountAsync(timeout.Token).ConfigureAwait(false)
                : (await store.LoadAsync(timeout.Token).ConfigureAwait(false)).Count;
            return HealthCheckResult.Healthy($"the store answers: {networks} network(s) stored");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the store did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the store cannot be read: " + e.Message, e);
        }
    }
}
