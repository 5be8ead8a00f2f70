using Aether.Netlink.Protocol;

namespace Aether.Netlink;

/// <summary>Many gets sent together: one reply each, read back after the send.</summary>
public sealed partial class NetlinkSocket
{
    // Bounded so that one send's replies always fit the receive queue (a small reply costs ~1 KiB of buffer there).
    private const int MaxGetsPerSend = 128;

    /// <summary>Sends one get per item of <paramref name="states"/>, up to 128 in one <c>sendto</c>, and decodes each
    /// one's reply (matched by sequence number): a thousand gets cost a few sends instead of a thousand round trips.
    /// The first refused request is thrown (errno and extended-ack text), naming its item by <paramref name="target"/>.</summary>
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

    private void Collect<TState, T>(Dictionary<uint, int> pending, int start, MessageParser<T> parse, string operation, IReadOnlyList<TState> states, Func<TState, string?> target, T[] results)
    {
        var buffer = RentReceiveBuffer();
        try
        {
            while (pending.Count > 0)
            {
                var n = Receive(buffer);
                foreach (var message in new NetlinkMessageEnumerator(buffer.AsSpan(0, n)))
                {
                    if ((message.Header.PortId != PortId && message.Header.PortId != 0) || !pending.TryGetValue(message.Header.Sequence, out var i))
                    {
                        continue;
                    }

                    if (message.Header.Type is NlmsgType.Error)
                    {
                        var error = NetlinkError.Parse(message);
                        if (error.Errno != 0)
                        {
                            // The other replies of this send are still queued: drain them so the socket stays usable.
                            pending.Remove(message.Header.Sequence);
                            Drain(pending);
                            throw error.ToException(operation, target(states[start + i]));
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
}
