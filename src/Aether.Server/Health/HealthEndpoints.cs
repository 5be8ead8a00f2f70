using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>
/// ASP.NET Core health checks: <c>/healthz</c> (live: the process serves requests; no check runs) and <c>/readyz</c>
/// (ready: every check tagged <see cref="Ready"/>: the hub is up, its store and the lab store answer, no loop is
/// failing). Both answer JSON, <c>{"status":"healthy|degraded|unhealthy","checks":[{"name","status","description"}]}</c>,
/// with 200 when healthy or degraded (the reasons in the checks' descriptions) and 503 when unhealthy.
/// <c>/v1/health</c> is <c>/readyz</c> under the API's older name.
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>The tag of the checks readiness runs.</summary>
    public const string Ready = "ready";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void AddHubChecks(IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<HubHealthCheck>("hub", tags: [Ready])
            .AddCheck<StoreHealthCheck>("store", tags: [Ready])
            .AddCheck<LoopsHealthCheck>("loops", failureStatus: HealthStatus.Degraded, tags: [Ready]);

    public static void AddLabChecks(IServiceCollection services) =>
        services.AddHealthChecks().AddCheck<LabStoreHealthCheck>("labs", tags: [Ready]);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithDisplayName("Live");
        foreach (var path in new[] { "/readyz", "/v1/health" })
        {
            app.MapHealthChecks(path, new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready, StringComparer.Ordinal), ResponseWriter = WriteAsync })
                .WithDisplayName(string.Equals(path, "/readyz", StringComparison.Ordinal) ? "Ready" : "Health");
        }
    }

    /// <summary>The report as JSON: the overall status and each check's, with its description (the reasons).</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new HealthAnswer(
            Name(report.Status),
            [.. report.Entries.Select(e => new HealthCheckAnswer(e.Key, Name(e.Value.Status), e.Value.Description ?? e.Value.Exception?.Message))]);
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}

/// <summary>What the health endpoints answer.</summary>
/// <param name="Status"><c>healthy</c>, <c>degraded</c> or <c>unhealthy</c>.</param>
/// <param name="Checks">Each check that ran (none for liveness).</param>
internal sealed record HealthAnswer(string Status, IReadOnlyList<HealthCheckAnswer> Checks);

/// <summary>One check's outcome.</summary>
/// <param name="Name"><c>hub</c>, <c>store</c>, <c>loops</c>, <c>labs</c>.</param>
/// <param name="Status"><c>healthy</c>, <c>degraded</c> or <c>unhealthy</c>.</param>
/// <param name="Description">What it found: the reasons when it is not healthy.</param>
internal sealed record HealthCheckAnswer(string Name, string Status, string? Description);
