using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>Ready when the hub is up (it has loaded its networks from the store and reconciled them).</summary>
internal sealed class HubHealthCheck(HubHost hub) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(hub.TryGet(out var running)
            ? HealthCheckResult.Healthy($"the hub is up with {running.ListNetworks().Count} network(s)")
            : HealthCheckResult.Unhealthy("the hub has not started (or has stopped)"));
}
