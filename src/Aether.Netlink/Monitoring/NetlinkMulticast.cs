using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Monitoring;

/// <summary>Decodes one announced netlink message into an event, or returns null to skip it. The message is only
/// valid during the call.</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="message">The message, a view of the received datagram.</param>
public delegate T? NetlinkMessageDecoder<out T>(in NetlinkMessage message)
    where T : class;

/// <summary>
/// Announcements of one multicast group of any netlink protocol (such as <c>NFNLGRP_NFTABLES</c> of
/// <see cref="NetlinkProtocol.Netfilter"/>), decoded by the caller: for protocols this library has no typed monitor
/// for. A socket of its own is opened in the namespace and read by the process's <see cref="NetlinkReactor"/> (no
/// thread of its own).
/// </summary>
public static class NetlinkMulticast
{
    /// <summary>
    /// The messages announced to <paramref name="group"/> of <paramref name="protocol"/> in <paramref name="target"/>
    /// (the process's namespace when null), each decoded by <paramref name="decode"/>, until
    /// <paramref name="cancellationToken"/> fires. When the kernel drops announcements (<c>ENOBUFS</c>),
    /// <paramref name="overrun"/> is yielded and the stream goes on. A datagram that does not parse is dropped whole.
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="protocol">The netlink protocol.</param>
    /// <param name="group">The multicast group number.</param>
    /// <param name="target">The namespace, or null for the process's own.</param>
    /// <param name="decode">Decodes one message; null skips it.</param>
    /// <param name="overrun">The event that stands for lost announcements.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <exception cref="NetlinkException">The socket cannot be opened or subscribed.</exception>
    public static async IAsyncEnumerable<T> WatchAsync<T>(
        NetlinkProtocol protocol,
        uint group,
        NetworkNamespace? target,
        NetlinkMessageDecoder<T> decode,
        T overrun,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentNullException.ThrowIfNull(overrun);
        var socket = NetlinkSocket.Open(protocol, target, NetlinkSocketOptions.Default with { ReplyTimeout = null });

        Reader<T> reader;
        try
        {
            socket.JoinGroup(group);
            reader = new Reader<T>(socket, decode, overrun);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        using (reader)
        {
            var events = reader.Events;
            while (await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (events.TryRead(out var e))
                {
                    yield return e;
                }
            }
        }
    }

    /// <summary>The socket, its registration with the reactor and the channel it fills; disposing unregisters, then
    /// closes the socket.</summary>
    private sealed class Reader<T> : IDisposable, IReactorClient
        where T : class
    {
        private readonly NetlinkSocket _socket;
        private readonly NetlinkMessageDecoder<T> _decode;
        private readonly T _overrun;
        private readonly Channel<T> _events = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        private readonly NetlinkReactor.Registration _registration;
        private int _disposed;

        public Reader(NetlinkSocket socket, NetlinkMessageDecoder<T> decode, T overrun)
        {
            _socket = socket;
            _decode = decode;
            _overrun = overrun;
            _registration = NetlinkReactor.Shared.Register(socket, this);
        }

        public ChannelReader<T> Events => _events.Reader;

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

        void IReactorClient.OnOverrun() => _events.Writer.TryWrite(_overrun);

        void IReactorClient.OnFailure(Exception error) => _events.Writer.TryComplete(Volatile.Read(ref _disposed) == 0 ? error : null);

        void IReactorClient.OnDatagram(ReadOnlySpan<byte> datagram)
        {
            try
            {
                var messages = new NetlinkMessageEnumerator(datagram);
                while (messages.MoveNext())
                {
                    if (_decode(messages.Current) is { } e)
                    {
                        _events.Writer.TryWrite(e);
                    }
                }
            }
            catch (NetlinkParseException)
            {
                // A malformed datagram is dropped whole; the next resync covers it.
            }
        }
    }
}
