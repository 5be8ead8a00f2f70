using System.Threading.Channels;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Monitoring;

/// <summary>
/// A subscription to rtnetlink multicast groups on its own socket, read by the process's
/// <see cref="NetlinkReactor"/> (no thread of its own) into a channel. An <c>ENOBUFS</c> from the kernel becomes an
/// <see cref="OverrunEvent"/>; the stream only ends when the monitor is disposed or the enumeration is cancelled.
/// </summary>
internal sealed class NetlinkMonitor : IDisposable, IReactorClient
{
    private readonly NetlinkSocket _socket;
    private readonly Channel<NetlinkEvent> _events = Channel.CreateUnbounded<NetlinkEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Queue<ushort> _pendingDumps = new();
    private readonly NetlinkReactor.Registration _registration;
    private uint _dumpSequence;
    private int _disposed;

    /// <summary>Subscribes <paramref name="socket"/> (the monitor owns it from now on: disposing closes it after the
    /// reactor let go of it) and registers it with <paramref name="reactor"/> (the process's when null).</summary>
    public NetlinkMonitor(NetlinkSocket socket, MonitorGroups groups, MonitorOptions options, NetlinkReactor? reactor = null)
    {
        _socket = socket;
        foreach (var (flag, group) in GroupTable)
        {
            if (groups.HasFlag(flag))
            {
                socket.JoinGroup(group);
            }
        }

        if (options.ListExisting)
        {
            if (groups.HasFlag(MonitorGroups.Links))
            {
                _pendingDumps.Enqueue(RtmType.GetLink);
            }

            if ((groups & MonitorGroups.Addresses) != MonitorGroups.None)
            {
                _pendingDumps.Enqueue(RtmType.GetAddr);
            }

            if ((groups & MonitorGroups.Routes) != MonitorGroups.None)
            {
                _pendingDumps.Enqueue(RtmType.GetRoute);
            }

            if (groups.HasFlag(MonitorGroups.Neighbours))
            {
                _pendingDumps.Enqueue(RtmType.GetNeigh);
            }

            if (_pendingDumps.Count == 0)
            {
                _events.Writer.TryWrite(new ListingComplete());
            }
            else
            {
                SendNextDump();
            }
        }

        // The first dump request is already queued on the socket; its parts are read by the reactor from here on
        // (registering publishes the dump state to its thread).
        _registration = (reactor ?? NetlinkReactor.Shared).Register(socket, this);
    }

    public ChannelReader<NetlinkEvent> Events => _events.Reader;

    internal static (MonitorGroups Flag, uint Group)[] GroupTable { get; } =
    [
        (MonitorGroups.Links, RtnlGroup.Link),
        (MonitorGroups.IPv4Addresses, RtnlGroup.IPv4Address),
        (MonitorGroups.IPv6Addresses, RtnlGroup.IPv6Address),
        (MonitorGroups.IPv4Routes, RtnlGroup.IPv4Route),
        (MonitorGroups.IPv6Routes, RtnlGroup.IPv6Route),
        (MonitorGroups.Neighbours, RtnlGroup.Neigh),
        (MonitorGroups.NsIds, RtnlGroup.NsId),
    ];

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose(); // no dispatch after this: the socket's descriptor may go
        _socket.Dispose();
        _events.Writer.TryComplete();
    }

    /// <inheritdoc/>
    void IReactorClient.OnDatagram(ReadOnlySpan<byte> datagram) => Dispatch(datagram);

    /// <inheritdoc/>
    void IReactorClient.OnOverrun() => _events.Writer.TryWrite(new OverrunEvent());

    /// <inheritdoc/>
    void IReactorClient.OnFailure(Exception error) => _events.Writer.TryComplete(Volatile.Read(ref _disposed) == 0 ? error : null);

    /// <summary>Maps one received message to an event, or null for anything that is not an announcement.</summary>
    internal static NetlinkEvent? ToEvent(in NetlinkMessage message)
    {
        var deleted = message.Header.Type is RtmType.DelLink or RtmType.DelAddr or RtmType.DelRoute or RtmType.DelNeigh or RtmType.DelNsId;
        NetlinkEvent? e = message.Header.Type switch
        {
            RtmType.NewLink or RtmType.DelLink when Link.TryParse(message, out var link) => new LinkEvent(link),
            RtmType.NewAddr or RtmType.DelAddr when Address.TryParse(message, out var address) => new AddressEvent(address),
            RtmType.NewRoute or RtmType.DelRoute when Route.TryParse(message, out var route) => new RouteEvent(route),
            RtmType.NewNeigh or RtmType.DelNeigh when Neighbour.TryParse(message, out var neighbour) => new NeighbourEvent(neighbour),
            RtmType.NewNsId or RtmType.DelNsId when NsId.TryParse(message, out var nsid) => new NsIdEvent(nsid),
            _ => null,
        };
        return e is null ? null : e with { Deleted = deleted };
    }

    private void SendNextDump()
    {
        var type = _pendingDumps.Dequeue();
        _dumpSequence = _socket.NextSequence();
        var writer = new NetlinkWriter(64);
        try
        {
            // The same dump requests the handle sends (a link dump skips statistics, and so on).
            switch (type)
            {
                case RtmType.GetLink: RtnlRequests.DumpLinks(ref writer, 0, _dumpSequence, _socket.PortId); break;
                case RtmType.GetAddr: RtnlRequests.DumpAddresses(ref writer, (AddressFamilies.Unspec, 0), _dumpSequence, _socket.PortId); break;
                case RtmType.GetRoute: RtnlRequests.DumpRoutes(ref writer, RouteFilter.All, _dumpSequence, _socket.PortId); break;
                default: RtnlRequests.DumpNeighbours(ref writer, 0, _dumpSequence, _socket.PortId); break;
            }

            _socket.Send(writer.WrittenSpan);
        }
        finally
        {
            writer.Dispose();
        }
    }

    private void Dispatch(ReadOnlySpan<byte> datagram)
    {
        NetlinkMessageEnumerator messages;
        try
        {
            messages = new NetlinkMessageEnumerator(datagram);
            while (messages.MoveNext())
            {
                var message = messages.Current;
                if (message.Header.Type is NlmsgType.Done or NlmsgType.Error)
                {
                    if (message.Header.Sequence == _dumpSequence && _dumpSequence != 0)
                    {
                        if (_pendingDumps.Count > 0)
                        {
                            SendNextDump();
                        }
                        else
                        {
                            _dumpSequence = 0;
                            _events.Writer.TryWrite(new ListingComplete());
                        }
                    }

                    continue;
                }

                try
                {
                    if (ToEvent(message) is { } e)
                    {
                        _events.Writer.TryWrite(e);
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
}
