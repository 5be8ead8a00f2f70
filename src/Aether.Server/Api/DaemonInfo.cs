using System.Reflection;
using Aether.Hub;

namespace Aether.Server.Api;

/// <summary>What <c>/v1/status</c> says about the daemon itself.</summary>
internal sealed class DaemonInfo(ServerOptions options, TimeProvider time)
{
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private readonly long _startedTicks = time.GetTimestamp();
    private string? _backend;

    public string Version { get; } = options.Version
        ?? typeof(DaemonInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    public async Task<DaemonStatus> StatusAsync(IWireGuardHub hub, CancellationToken cancellationToken)
    {
        // The backend does not change while the daemon runs: asked once.
        _backend ??= (await hub.GetStatusAsync(cancellationToken).ConfigureAwait(false)).Backend;
        return new DaemonStatus(
            Version,
            Environment.ProcessId,
            _started,
            Math.Round(time.GetElapsedTime(_startedTicks).TotalSeconds, 3),
            _backend,
            Path.GetFullPath(options.SocketPath),
            options.Listen?.ToString(),
            options.Namespace,
            hub.ListNetworks().Count,
            [.. hub.LoopStatuses().Select(LoopStatus.From)]);
    }
}
