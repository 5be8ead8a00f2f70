using System.Diagnostics.CodeAnalysis;
using Aether.Hub;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>
/// Brings the hub up as part of the daemon's start: runs the <see cref="HubFactory"/> (which
/// loads the networks and reconciles them). Hosted services start before the server listens, so the API answers, and
/// systemd hears <c>READY=1</c>, only once the hub is up; a hub that cannot start stops the daemon with its error.
/// </summary>
internal sealed partial class HubHost(ServerOptions options, IHubStore store, ILoggerFactory loggers, IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _log = loggers.CreateLogger("Aether.Server.Hub");
    private IWireGuardHub? _hub;

    /// <summary>The hub (after start).</summary>
    public IWireGuardHub Hub => _hub ?? throw new InvalidOperationException("the hub has not started");

    /// <summary>The hub, if it has started.</summary>
    public bool TryGet([NotNullWhen(true)] out IWireGuardHub? hub)
    {
        hub = Volatile.Read(ref _hub);
        return hub is not null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = options.Hub ?? DefaultHub.For(options);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var hub = await factory(new HubContext(store, options.Namespace, loggers, services), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _hub, hub);
        var networks = hub.ListNetworks().Count;
        var elapsedMs = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogStarted(_log, networks, elapsedMs);
    }

    /// <summary>Stops the hub (its loops) once the server has stopped taking requests: hosted services stop in
    /// reverse order, and the server is the last one started.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        switch (Interlocked.Exchange(ref _hub, null))
        {
            case IAsyncDisposable d:
                await d.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable d:
                d.Dispose();
                break;
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "hub started: {Networks} network(s) loaded and reconciled in {ElapsedMs} ms")]
    private static partial void LogStarted(ILogger logger, int networks, long elapsedMs);
}
