using Aether.Hub;
using Aether.Server.Grpc;
using Aether.Server.Health;
using Aether.Server.Store;
using Aether.Server.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Aether.Server;

/// <summary>
/// The daemon's parts for an app of one's own (the Generic Host and ASP.NET Core):
/// <code>
/// var builder = WebApplication.CreateBuilder(args);
/// builder.Services.AddAetherHub(o => o.DatabasePath = "/var/lib/myapp/aether.db");
/// builder.Services.AddAetherLabs();
/// var app = builder.Build();
/// app.MapAetherApi();   // /v1/..., gRPC, /healthz, /readyz, /metrics
/// app.Run();
/// </code>
/// The options are <c>IOptions&lt;ServerOptions&gt;</c>, bound from the configuration's <c>Aether</c> section, then
/// changed by the delegates given here, and validated when the host starts (an invalid setting stops the start with
/// every problem named). The app's own middleware decides who may call the API: <c>aether serve</c>'s socket mode and
/// bearer token are its own, not these methods'.
/// </summary>
public static class AetherServiceCollectionExtensions
{
    /// <summary>The WireGuard hub (its store, its reconcile loops, brought up by a hosted service before the server
    /// listens), its health checks and metrics, and OpenTelemetry (metrics for Prometheus and, when configured,
    /// OTLP; traces by OTLP when configured).</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Changes to the options after the configuration's <c>Aether</c> section.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAetherHub(this IServiceCollection services, Action<ServerOptions>? configure = null)
    {
        Configure(services, configure);
        AddHubServices(services);
        return services;
    }

    /// <summary>The labs: their store (opened and migrated at start), their runtimes and node processes, the
    /// controller of placed labs on a PostgreSQL store, and the lab store's health check.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Changes to the options after the configuration's <c>Aether</c> section.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAetherLabs(this IServiceCollection services, Action<ServerOptions>? configure = null)
    {
        Configure(services, configure);
        AddLabServices(services);
        return services;
    }

    private static void Configure(IServiceCollection services, Action<ServerOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(OptionsBound)))
        {
            services.AddSingleton<OptionsBound>();
            services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName);
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }
    }

    /// <summary>What the hub and the labs share: the options (validated at start), the clock, problem details,
    /// telemetry and health checks. Added once.</summary>
    internal static void AddCoreServices(IServiceCollection services, IConfiguration? configuration = null)
    {
        if (services.Any(d => d.ServiceType == typeof(CoreAdded)))
        {
            return;
        }

        services.AddSingleton<CoreAdded>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>());
        services.AddOptions<ServerOptions>().ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ServerOptions>>().Value);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddProblemDetails();
        services.AddExceptionHandler<RequestBodyFailure>();
        services.AddHealthChecks();
        AetherTelemetry.Add(services, configuration);
    }

    internal static void AddHubServices(IServiceCollection services, IConfiguration? configuration = null)
    {
        AddCoreServices(services, configuration);
        // One daemon per database: the lock is taken before the store opens (the store's factory asks for it first).
        services.TryAddSingleton(sp => DatabaseLock.Acquire(sp.GetRequiredService<ServerOptions>().DatabasePath));
        services.TryAddSingleton<IHubStore>(sp =>
        {
            _ = sp.GetRequiredService<DatabaseLock>();
            return SqliteHubStore.Open(sp.GetRequiredService<ServerOptions>().DatabasePath);
        });
        services.AddSingleton<HubHost>();
        services.AddHostedService(sp => sp.GetRequiredService<HubHost>());
        services.AddSingleton<Api.DaemonInfo>();
        services.AddSingleton<ServerMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerMetrics>());
        HealthEndpoints.AddHubChecks(services);
        GrpcApi.AddServices(services);
    }

    internal static void AddLabServices(IServiceCollection services, IConfiguration? configuration = null)
    {
        AddCoreServices(services, configuration);
        services.AddSingleton<LabHost>();
        services.AddHostedService(sp => sp.GetRequiredService<LabHost>());
        services.AddSingleton<Ui.LabWatches>();
        services.AddSingleton<ClusterHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterHost>()); // after the labs: it needs their store
        HealthEndpoints.AddLabChecks(services);
    }

    /// <summary>Marks that the options are bound from configuration.</summary>
    private sealed class OptionsBound;

    /// <summary>Marks that the shared services are added.</summary>
    private sealed class CoreAdded;
}
