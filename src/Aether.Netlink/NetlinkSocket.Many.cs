using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink.Protocol;

namespace Aether.Netlink;

/// <summary>Many gets sent together: one reply each, read back after the send.</summary>
public sealed partial class NetlinkSocket
{
    // Bounded so that one send's replies always fit the receive queue (a small reply costs ~1 KiB of buffer there).
    private const int MaxGetsPerSend = 128;

    /// <summary>Sends one get per item of <paramref name="states"/>, up to 128 in one <c>sendto</c>, and decodes each
    /// one's reply (matched by sequence number): a thousand gets cost a few sends instead of a thousand round trips.
    /// The first refused request is thrown (errno and extended-ack text), naming its item by <paramref name="target"/>.
    /// For gets whose replies are small (up to <see cref="ReceiveSlotLength"/> a datagram): an nsid.</summary>
    internal async Task<T[]> RequestManyAsync<TState, T>(IReadOnlyList<TState> states, WriteRequest<TState> write, MessageParser<T> parse, string operation, Func<TState, string?> target, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        var results = new T[states.Count];
        if (states.Count == 0)
        {
            return results;
        }

        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var start = 0; start < states.Count; start += MaxGetsPerSend)
            {
                RequestChunk(states, start, Math.Min(MaxGetsPerSend, states.Count - start), write, parse, operation, target, results);
            }

            return results;
        }
        finally
        {
            Gate.Release();
        }
    }

    private void RequestChunk<TState, T>(IReadOnlyList<TState> states, int start, int count, WriteRequest<TState> write, MessageParser<T> parse, string operation, Func<TState, string?> target, T[] results)
    {
        var writer = new NetlinkWriter(64 * count);
        try
        {
            var sequences = new uint[count];
            for (var i = 0; i < count; i++)
            {
                sequences[i] = NextSequence();
            }

            for (var i = 0; i < count; i++)
            {
                write(ref writer, states[start + i], sequences[i], PortId);
            }

            Send(writer.WrittenSpan);
            var index = new Dictionary<uint, int>(count);
            for (var i = 0; i < count; i++)
            {
                index[sequences[i]] = i;
            }

            Collect(index, start, parse, operation, states, target, results);
        }
        finally
        {
            writer.Dispose();
        }
    }

    // The replies are read with recvmmsg, up to a slot each (a thousand nsids were a thousand recvfrom calls): the gets
    // sent this way have small replies (an nsid is 28 bytes), and one larger than its slot is EMSGSIZE, not lost.
    private void Collect<TState, T>(Dictionary<uint, int> pending, int start, MessageParser<T> parse, string operation, IReadOnlyList<TState> states, Func<TState, string?> target, T[] results)
    {
        var buffer = RentReceiveBuffer();
        Span<int> lengths = stackalloc int[ReceiveBufferLength / ReceiveSlotLength];
        NetlinkException? refused = null;
        try
        {
            while (pending.Count > 0)
            {
                var received = ReceiveMany(buffer, lengths);
                for (var d = 0; d < received; d++)
                {
                    foreach (var message in new NetlinkMessageEnumerator(buffer.AsSpan(d * ReceiveSlotLength, lengths[d])))
                    {
                        if ((message.Header.PortId != PortId && message.Header.PortId != 0) || !pending.TryGetValue(message.Header.Sequence, out var i))
                        {
                            continue;
                        }

                        if (refused is not null)
                        {
                            pending.Remove(message.Header.Sequence); // read with the refusal: dropped, not waited for
                            continue;
                        }

                        if (message.Header.Type is NlmsgType.Error)
                        {
                            var error = NetlinkError.Parse(message);
                            if (error.Errno != 0)
                            {
                                pending.Remove(message.Header.Sequence);
                                refused = error.ToException(operation, target(states[start + i]));
                            }

                            continue;
                        }

                        if (parse(message, out var value))
                        {
                            results[start + i] = value;
                            pending.Remove(message.Header.Sequence);
                        }
                    }
                }

                if (refused is not null)
                {
                    // The other replies of this send are still queued: drain them so the socket stays usable.
                    Drain(pending);
                    throw refused;
                }
            }
        }
        finally
        {
            ReturnReceiveBuffer(buffer);
        }
    }

    /// <summary>Reads (and drops) the answers still owed to <paramref name="pending"/>.</summary>
    private void Drain(Dictionary<uint, int> pending)
    {
        var buffer = RentReceiveBuffer();
        try
        {
            while (pending.Count > 0)
            {
                var n = Receive(buffer);
                foreach (var message in new NetlinkMessageEnumerator(buffer.AsSpan(0, n)))
                {
                    pending.Remove(message.Header.Sequence);
                }
            }
        }
        finally
        {
            ReturnReceiveBuffer(buffer);
        }
    }

    /// <summary>The length of each slot <see cref="ReceiveMany"/> splits its buffer into: a datagram of one
    /// acknowledgement (capped, with the extended-ack text) is a few hundred bytes.</summary>
    internal const int ReceiveSlotLength = 2048;

    /// <summary>
    /// Receives as many datagrams as are queued, up to one per <see cref="ReceiveSlotLength"/> of
    /// <paramref name="buffer"/>, in one <c>recvmmsg</c> (waiting for the first only), and gives each one's length in
    /// <paramref name="lengths"/>, slot by slot; a datagram not sent by the kernel gets length 0. For replies known to
    /// be small (a batch's acknowledgements: a thousand of them were a thousand <c>recvfrom</c> calls). Throws as
    /// <see cref="Receive"/> does, and <c>EMSGSIZE</c> for a datagram larger than its slot.
    /// </summary>
    internal unsafe int ReceiveMany(Span<byte> buffer, Span<int> lengths)
    {
        var slots = Math.Min(lengths.Length, buffer.Length / ReceiveSlotLength);
        var headers = stackalloc Libc.MMsgHdr[slots];
        var vectors = stackalloc Libc.IoVec[slots];
        var addresses = stackalloc Libc.SockaddrNl[slots];
        fixed (byte* p = buffer)
        {
            for (var i = 0; i < slots; i++)
            {
                vectors[i] = new Libc.IoVec { Base = p + (i * ReceiveSlotLength), Length = ReceiveSlotLength };
                headers[i] = new Libc.MMsgHdr { Header = new Libc.MsgHdr { Name = addresses + i, NameLength = sizeof(Libc.SockaddrNl), Iov = vectors + i, IovLength = 1 } };
            }

            int received;
            while ((received = Libc.RecvMMsg(Fd, headers, (uint)slots, Libc.MSG_WAITFORONE, null)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw errno == Errno.EAGAIN
                    ? new NetlinkException(Errno.ETIMEDOUT, "receive netlink reply", Protocol.ToString(), "no answer within the reply timeout")
                    : new NetlinkException(errno, "receive netlink message", Protocol.ToString());
            }

            for (var i = 0; i < received; i++)
            {
                if ((headers[i].Header.Flags & Libc.MSG_TRUNC) != 0)
                {
                    throw new NetlinkException(Errno.EMSGSIZE, "receive netlink message", Protocol.ToString(), $"a message did not fit the {ReceiveSlotLength}-byte slot");
                }

                lengths[i] = addresses[i].Pid == 0 ? (int)headers[i].Length : 0; // not from the kernel: never trusted
            }

            return received;
        }
    }
}
