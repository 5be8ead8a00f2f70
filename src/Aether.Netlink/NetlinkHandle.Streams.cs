using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink;

/// <summary>Dumps as async streams: records are handed out as each part arrives from the kernel.</summary>
public sealed partial class NetlinkHandle
{
    /// <summary>Every link, as a stream. The handle is busy until the stream ends or is disposed.</summary>
    public IAsyncEnumerable<Link> StreamLinksAsync(CancellationToken cancellationToken = default) =>
        StreamAsync(0, RtnlRequests.DumpLinks, RtnlRequests.ParseLink, "list links", cancellationToken);

    /// <summary>Addresses, as a stream (see <see cref="ListAddressesAsync"/> for the filters).</summary>
    public IAsyncEnumerable<Address> StreamAddressesAsync(AddressFamily family = AddressFamily.Unspecified, int index = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return StreamAsync((FamilyByte(family), index), RtnlRequests.DumpAddresses, RtnlRequests.ParseAddress, "list addresses", cancellationToken);
    }

    /// <summary>Routes, as a stream, filtered in the kernel.</summary>
    public IAsyncEnumerable<Route> StreamRoutesAsync(RouteFilter? filter = null, CancellationToken cancellationToken = default) =>
        StreamAsync(filter ?? RouteFilter.All, RtnlRequests.DumpRoutes, RtnlRequests.ParseRoute, "list routes", cancellationToken);

    /// <summary>
    /// Sends a dump and yields its records part by part. A dump the kernel marks interrupted ends with
    /// <see cref="DumpInterruptedException{T}"/> after every record was yielded. Leaving early drains the rest of the
    /// dump, so the socket is ready for the next request.
    /// </summary>
    private async IAsyncEnumerable<T> StreamAsync<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T> parse, string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        await _socket.EnterAsync(cancellationToken).ConfigureAwait(false);
        var buffer = NetlinkSocket.RentReceiveBuffer();
        var done = false;
        try
        {
            var sequence = SendRequest(state, write);
            var part = new List<T>();
            var interrupted = false;
            while (!done)
            {
                cancellationToken.ThrowIfCancellationRequested();
                part.Clear();
                var n = _socket.Receive(buffer);
                done = _socket.CollectDumpPart(buffer.AsSpan(0, n), sequence, parse, part, ref interrupted, operation, null);
                foreach (var item in part)
                {
                    yield return item;
                }
            }

            if (interrupted)
            {
                throw new DumpInterruptedException<T>(operation, []);
            }
        }
        finally
        {
            if (!done && !_socket.IsClosed)
            {
                DrainDump(buffer);
            }

            NetlinkSocket.ReturnReceiveBuffer(buffer);
            _socket.Gate.Release();
        }
    }

    private uint SendRequest<TState>(TState state, WriteRequest<TState> write)
    {
        var writer = new NetlinkWriter(128);
        try
        {
            var sequence = _socket.NextSequence();
            write(ref writer, state, sequence, _socket.PortId);
            _socket.Send(writer.WrittenSpan);
            return sequence;
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>Reads and discards until the kernel ends the dump that is in progress on the socket.</summary>
    private void DrainDump(byte[] buffer)
    {
        try
        {
            while (true)
            {
                var n = _socket.Receive(buffer);
                foreach (var message in new NetlinkMessageEnumerator(buffer.AsSpan(0, n)))
                {
                    if (message.Header.Type is NlmsgType.Done or NlmsgType.Error)
                    {
                        return;
                    }
                }
            }
        }
        catch (NetlinkException)
        {
            // The socket failed; the next request reports it.
        }
        catch (NetlinkParseException)
        {
            // Garbage instead of the dump's end; the next request's sequence check skips whatever is left.
        }
    }

    private static byte FamilyByte(AddressFamily family) => family switch
    {
        AddressFamily.Unspecified => AddressFamilies.Unspec,
        AddressFamily.InterNetwork => AddressFamilies.Inet,
        AddressFamily.InterNetworkV6 => AddressFamilies.Inet6,
        _ => throw new ArgumentException($"address family {family} is neither IPv4 nor IPv6", nameof(family)),
    };
}
