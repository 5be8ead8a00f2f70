using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Monitoring;

/// <summary>
/// The rtnetlink announcements of many namespaces on one socket: opened in the process's namespace with
/// <c>NETLINK_LISTEN_ALL_NSID</c>, it hears every namespace that has an nsid there, and each datagram says which.
/// A runtime following 10,000 namespaces holds one monitor socket, not 10,000 (a process may hold 20,000 descriptors on
/// some machines, and each namespace already costs one). Read by the process's <see cref="NetlinkReactor"/>.
/// <list type="bullet">
/// <item>Only namespaces with an nsid in the process's namespace are heard: the subscriber makes sure they have one
/// (a veth from here gives one; <c>RTM_NEWNSID</c> otherwise).</item>
/// <item>Datagrams of nsids nobody subscribed to are dropped unread.</item>
/// <item>An overrun loses announcements of every namespace at once: every subscriber gets an <see cref="OverrunEvent"/>.
/// The receive buffer is large for that reason (32 MiB unless given).</item>
/// </list>
/// </summary>
internal sealed class AllNamespacesMonitor : IDisposable, IAllNamespacesReactorClient
{
    /// <summary>The nsid that stands for the process's own namespace.</summary>
    public const int Own = NsId.NotAssigned;

    private const int DefaultReceiveBuffer = 32 * 1024 * 1024;

    private readonly NetlinkSocket _socket;
    private readonly NetlinkReactor.Registration _registration;
    private readonly ConcurrentDictionary<int, Channel<NetlinkEvent>> _subscribers = new();
    private int _disposed;

    /// <summary>Opens the socket in the process's namespace, joins <paramref name="groups"/> and starts reading.</summary>
    /// <exception cref="NetlinkException">The kernel refused the socket, the option or a group.</exception>
    public AllNamespacesMonitor(MonitorGroups groups, MonitorOptions? options = null, NetlinkReactor? reactor = null)
    {
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, target: null, NetlinkSocketOptions.Default with { ReceiveBufferSize = options?.ReceiveBufferSize ?? DefaultReceiveBuffer });
        try
        {
            socket.ListenAllNamespaces();
            foreach (var (flag, group) in NetlinkMonitor.GroupTable)
            {
                if (groups.HasFlag(flag))
                {
                    socket.JoinGroup(group);
                }
            }

            _registration = (reactor ?? NetlinkReactor.Shared).Register(socket, this);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
    }

    /// <summary>The announcements of the namespace the process's namespace calls <paramref name="nsid"/>
    /// (<see cref="Own"/> for its own), until <paramref name="cancellationToken"/> fires. One subscriber per nsid.</summary>
    /// <exception cref="InvalidOperationException">Someone already subscribed to <paramref name="nsid"/>.</exception>
    public async IAsyncEnumerable<NetlinkEvent> SubscribeAsync(int nsid, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<NetlinkEvent>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        if (!_subscribers.TryAdd(nsid, channel))
        {
            throw new InvalidOperationException($"nsid {nsid} already has a subscriber");
        }

        try
        {
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var e))
                {
                    yield return e;
                }
            }
        }
        finally
        {
            _subscribers.TryRemove(new KeyValuePair<int, Channel<NetlinkEvent>>(nsid, channel));
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose(); // no dispatch after this: the socket may go
        _socket.Dispose();
        foreach (var channel in _subscribers.Values)
        {
            channel.Writer.TryComplete();
        }
    }

    /// <inheritdoc/>
    void IAllNamespacesReactorClient.OnDatagram(ReadOnlySpan<byte> datagram, int nsid)
    {
        if (!_subscribers.TryGetValue(nsid, out var channel))
        {
            return;
        }

        try
        {
            var messages = new NetlinkMessageEnumerator(datagram);
            while (messages.MoveNext())
            {
                var message = messages.Current;
                try
                {
                    if (message.Header.Type is not (NlmsgType.Done or NlmsgType.Error) && NetlinkMonitor.ToEvent(message) is { } e)
                    {
                        channel.Writer.TryWrite(e);
                    }
                }
                catch (NetlinkParseException)
                {
                    // A malformed announcement is dropped; the next resync covers it.
                }
            }
        }
        catch (NetlinkParseException)
        {
            // A malformed datagram is dropped whole; the next resync covers it.
        }
    }

    /// <inheritdoc/>
    void IReactorClient.OnDatagram(ReadOnlySpan<byte> datagram) => ((IAllNamespacesReactorClient)this).OnDatagram(datagram, Own);

    /// <inheritdoc/>
    void IReactorClient.OnOverrun()
    {
        foreach (var channel in _subscribers.Values)
        {
            channel.Writer.TryWrite(new OverrunEvent());
        }
    }

    /// <inheritdoc/>
    void IReactorClient.OnFailure(Exception error)
    {
        foreach (var channel in _subscribers.Values)
        {
            channel.Writer.TryComplete(Volatile.Read(ref _disposed) == 0 ? error : null);
        }
    }
}
