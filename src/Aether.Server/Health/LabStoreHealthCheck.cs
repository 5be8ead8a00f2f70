using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>Ready when the lab store answers (lists its labs), within 5 s.</summary>
internal sealed class LabStoreHealthCheck(LabHost labs) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var stored = await labs.Store.ListLabsAsync(timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"the lab store answers: {stored.Count} lab(s)");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the lab store did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the lab store cannot be read: " + e.Message, e);
        }
    }
}
