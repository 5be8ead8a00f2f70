using System.Runtime.CompilerServices;
using Aether.Netlink.Monitoring;

namespace Aether.Netlink;

/// <summary>Monitors: kernel announcements as an async stream.</summary>
public sealed partial class NetlinkHandle
{
    /// <summary>
    /// Watches the handle's namespace for changes in <paramref name="groups"/>. A new socket is opened in the same
    /// namespace for the subscription. With <see cref="MonitorOptions.ListExisting"/> the current state is listed first
    /// on the subscribed socket (no gap), then <see cref="ListingComplete"/>. An overrun yields
    /// <see cref="OverrunEvent"/> and the stream goes on. It ends when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<NetlinkEvent> MonitorAsync(MonitorGroups groups, MonitorOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (groups == MonitorGroups.None || (groups & ~MonitorGroups.All) != MonitorGroups.None)
        {
            throw new ArgumentException($"invalid monitor groups {groups}", nameof(groups));
        }

        options ??= MonitorOptions.Default;
        if (options.ReceiveBufferSize is <= 0)
        {
            throw new ArgumentException($"invalid receive buffer size {options.ReceiveBufferSize}", nameof(options));
        }

        var socketOptions = _options with { ReceiveBufferSize = options.ReceiveBufferSize ?? _options.ReceiveBufferSize };
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, socketOptions);
        NetlinkMonitor monitor;
        try
        {
            monitor = new NetlinkMonitor(socket, groups, options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        using (monitor)
        {
            var reader = monitor.Events;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var e))
                {
                    yield return e;
                }
            }
        }
    }
}
