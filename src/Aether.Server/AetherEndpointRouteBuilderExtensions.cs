using Aether.Server.Api;
using Aether.Server.Grpc;
using Aether.Server.Health;
using Aether.Server.Telemetry;
using Aether.Server.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server;

/// <summary>Maps the daemon's API in an app of one's own (see <see cref="AetherServiceCollectionExtensions"/>).</summary>
public static class AetherEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps what the services added serve: with <see cref="AetherServiceCollectionExtensions.AddAetherHub"/>,
    /// <c>/v1/status</c>, <c>/v1/hub/...</c> and the gRPC service; with
    /// <see cref="AetherServiceCollectionExtensions.AddAetherLabs"/>, <c>/v1/labs/...</c>, <c>/v1/cluster</c> and
    /// <c>/v1/overlay/...</c>; always the health checks (<c>/healthz</c>, <c>/readyz</c>, <c>/v1/health</c>) and the
    /// metrics for Prometheus (<c>/metrics</c>).
    /// </summary>
    /// <param name="endpoints">The app, or a route group of it.</param>
    /// <returns>The route group holding every endpoint, to add conventions to (<c>RequireAuthorization()</c>…).</returns>
    /// <exception cref="InvalidOperationException">Neither the hub nor the labs were added.</exception>
    public static RouteGroupBuilder MapAetherApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var known = services.GetRequiredService<IServiceProviderIsService>();
        var hub = known.IsService(typeof(HubHost));
        var labs = known.IsService(typeof(LabHost));
        if (!hub && !labs)
        {
            throw new InvalidOperationException("MapAetherApi: nothing to map: add services.AddAetherHub() or services.AddAetherLabs() first");
        }

        var api = endpoints.MapGroup("");
        if (hub)
        {
            StatusApi.Map(api);
            HubApi.Map(api);
            GrpcApi.Map(api);
        }

        if (labs)
        {
            LabApi.Map(api);
            ClusterApi.Map(api);
        }

        UiApi.Map(api, labs);
        UiAssets.Map(api);
        HealthEndpoints.Map(api);
        api.MapPrometheusScrapingEndpoint(AetherTelemetry.MetricsPath);
        return api;
    }
}
