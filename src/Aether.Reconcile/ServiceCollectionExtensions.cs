using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Reconcile;

/// <summary>Wires reconcile loops into a Generic Host.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Adds a hosted <see cref="ReconcileLoop"/> for the source <paramref name="createSource"/> makes.</summary>
    public static IServiceCollection AddAetherReconciler(this IServiceCollection services, Func<IServiceProvider, IReconcileSource> createSource, ReconcileLoopOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(createSource);
        options?.Validate();
        services.AddSingleton<IHostedService>(sp => new ReconcileLoop(
            createSource(sp),
            options,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILogger<ReconcileLoop>>()));
        return services;
    }
}
