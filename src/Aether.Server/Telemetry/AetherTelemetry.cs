using Aether.Reconcile;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aether.Server.Telemetry;

/// <summary>
/// OpenTelemetry for the daemon: metrics of the <c>Aether.Reconcile</c> and <c>Aether.Server</c> meters, ASP.NET
/// Core's own (HTTP server, Kestrel) and the runtime's, exposed for Prometheus at <see cref="MetricsPath"/>, and
/// exported by OTLP too when an endpoint is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, or the metrics' own
/// <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>). Traces (the <c>Aether</c> activity source and ASP.NET Core's
/// requests) are collected only when an OTLP endpoint for them is configured: with nowhere to send them, no activity
/// is made at all.
/// </summary>
internal static class AetherTelemetry
{
    /// <summary>Where Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The service's name in the telemetry's resource.</summary>
    public const string ServiceName = "aether";

    public static void Add(IServiceCollection services, IConfiguration? configuration)
    {
        var metricsOtlp = Configured(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT") || Configured(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        var tracesOtlp = Configured(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT") || Configured(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        ReconcileMetrics.EnsureCreated();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: typeof(AetherTelemetry).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ReconcileMetrics.MeterName, ServerMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (metricsOtlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (tracesOtlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(AetherDiagnostics.ActivitySourceName)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter());
        }
    }

    private static bool Configured(IConfiguration? configuration, string key) =>
        !string.IsNullOrWhiteSpace(configuration?[key] ?? Environment.GetEnvironmentVariable(key));
}
