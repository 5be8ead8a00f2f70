using System.Globalization;
using Aether.Reconcile;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aether.Server.Health;

/// <summary>Degraded, with the reasons, while a reconcile loop of the hub is failing (a failed pass not yet followed
/// by a good one, a terminal error, a loop that stopped) or a lab's runtime has failed; healthy otherwise. Failing
/// loops make the daemon degraded, not unready: the API still answers and changes what it is asked to.</summary>
internal sealed class LoopsHealthCheck(HubHost hub, IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var reasons = new List<string>();
        var loops = hub.TryGet(out var running) ? running.LoopStatuses() : [];
        foreach (var loop in loops)
        {
            if (Failing(loop) is { } why)
            {
                reasons.Add(loop.Source + ": " + why);
            }
        }

        if (services.GetService<LabHost>() is { } labs)
        {
            reasons.AddRange(labs.FailedRuntimes().Select(f => "lab " + f.Lab + ": " + f.Detail));
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["loops"] = loops.Count };
        return Task.FromResult(reasons.Count == 0
            ? HealthCheckResult.Healthy($"{loops.Count} loop(s) in sync or converging", data)
            : HealthCheckResult.Degraded(string.Join("; ", reasons), data: data));
    }

    /// <summary>Why a loop is failing, or null.</summary>
    internal static string? Failing(ReconcileStatus loop)
    {
        if (loop.LastReport is { Outcome: PassOutcome.Terminal } terminal)
        {
            return "cannot be applied: " + terminal.Error;
        }

        if (loop.ConsecutiveFailures > 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{loop.ConsecutiveFailures} failed pass(es) in a row: {loop.LastReport?.Error}");
        }

        return loop.Running || loop.Passes == 0 ? null : "the loop has stopped";
    }
}
