using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>A readiness check that asks a store one question, within 5 s: healthy with what it answered, unhealthy
/// when it does not answer in time or fails.</summary>
internal abstract class TimedHealthCheck : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>What is asked, for the messages ("the lab store").</summary>
    protected abstract string Subject { get; }

    /// <summary>Asks the question; returns what the answer says (for the healthy message).</summary>
    protected abstract Task<string> AskAsync(CancellationToken cancellationToken);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            return HealthCheckResult.Healthy($"{Subject} answers: {await AskAsync(timeout.Token).ConfigureAwait(false)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{Subject} did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{Subject} cannot be read: " + e.Message, e);
        }
    }
}
