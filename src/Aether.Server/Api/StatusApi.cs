using Aether.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Api;

/// <summary><c>/v1/health</c>, <c>/v1/status</c> and <c>/metrics</c>.</summary>
internal static class StatusApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/health", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithName("Health")
            .WithTags("daemon")
            .WithSummary("ok once the hub is up and the daemon serves");

        app.MapGet("/v1/status", async (DaemonInfo daemon, HubHost host, CancellationToken ct) => TypedResults.Ok(await daemon.StatusAsync(host.Hub, ct).ConfigureAwait(false)))
            .WithName("DaemonStatus")
            .WithTags("daemon")
            .WithSummary("The daemon (version, uptime, WireGuard backend) and the hub's reconcile loops");

        app.MapGet("/metrics", (PrometheusExporter exporter) => TypedResults.Text(exporter.Scrape(), PrometheusExporter.ContentType))
            .WithName("Metrics")
            .WithTags("daemon")
            .WithSummary("Prometheus text exposition format 0.0.4: the Aether.Reconcile and Aether.Server meters")
            .Produces<string>(StatusCodes.Status200OK, "text/plain");
    }
}
