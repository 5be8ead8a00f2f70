using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Server.Docker;

/// <summary>Starts the driver once the hub is up (it is registered after <see cref="HubHost"/>): opens its tables and
/// loads the networks and endpoints dockerd created before a restart.</summary>
internal sealed partial class DriverHost(ServerOptions options, HubHost hub, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _log = loggers.CreateLogger("Aether.Server.Docker");
    private DriverStore? _store;
    private NetworkDriver? _driver;

    /// <summary>The driver (after start).</summary>
    public NetworkDriver Driver => Volatile.Read(ref _driver) ?? throw new DriverException(Aether.Hub.HubErrorKind.Failed, "the driver has not started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _store = DriverStore.Open(options.DatabasePath);
        var driver = await NetworkDriver.LoadAsync(new HubBackend(hub.Hub), _store, cancellationToken, onDeferredFailure: (network, endpoint, e) => LogDeferredFailure(_log, endpoint, network, e.Message)).ConfigureAwait(false);
        Volatile.Write(ref _driver, driver);
        LogStarted(_log, options.DockerPlugin!, driver.NetworkIds.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _driver, null)?.Dispose();
        if (Interlocked.Exchange(ref _store, null) is { } store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 9102, Level = LogLevel.Error, Message = "docker endpoint {Endpoint} of network {Network}: the deferred join failed: {Error}")]
    private static partial void LogDeferredFailure(ILogger logger, string endpoint, string network, string error);

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "docker network driver {Name} started: {Networks} network(s) loaded")]
    private static partial void LogStarted(ILogger logger, string name, int networks);
}
