using Aether.Hub;
using Aether.Netlink.Namespaces;

namespace Aether.Server;

/// <summary>The hub a daemon runs when <see cref="ServerOptions.Hub"/> is not set: the real <see cref="WireGuardHub"/>,
/// bound to <see cref="HubContext.Namespace"/> (or the daemon's own namespace), its networks from the store, its
/// last-applied record (<c>hub-records.json</c>) beside the database.</summary>
internal static class DefaultHub
{
    public static HubFactory For(ServerOptions options) => (context, cancellationToken) => StartAsync(context, options, cancellationToken);

    private static async Task<IWireGuardHub> StartAsync(HubContext context, ServerOptions options, CancellationToken cancellationToken)
    {
        using var host = context.Namespace is { } name ? NetworkNamespace.Open(name) : null; // the hub keeps its own duplicate
        return await WireGuardHub.StartAsync(
            context.Store,
            new WireGuardHubOptions
            {
                HostNamespace = host,
                StateDirectory = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath))!,
                WireGuardPrefix = options.WireGuardPrefix,
                Loop = new WireGuardHubOptions().Loop with { Resync = options.HubResync },
                LoggerFactory = context.LoggerFactory,
            },
            cancellationToken).ConfigureAwait(false);
    }
}
