using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Api;

/// <summary><c>/v1/status</c>. The health endpoints are <see cref="Health.HealthEndpoints"/>'s, <c>/metrics</c>
/// OpenTelemetry's Prometheus exporter's.</summary>
internal static class StatusApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/status", async (DaemonInfo daemon, HubHost host, CancellationToken ct) => TypedResults.Ok(await daemon.StatusAsync(host.Hub, ct).ConfigureAwait(false)))
            .WithName("DaemonStatus")
            .WithTags("daemon")
            .WithSummary("The daemon (version, uptime, WireGuard backend) and the hub's reconcile loops");
    }
}
