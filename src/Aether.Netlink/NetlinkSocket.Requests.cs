using Aether.Netlink.Protocol;

namespace Aether.Netlink;

/// <summary>Decodes one reply message into a record; returns false to skip it (filtered out).</summary>
/// <typeparam name="T">The record type.</typeparam>
public delegate bool MessageParser<T>(in NetlinkMessage message, out T value);

/// <summary>Request/reply exchanges: acknowledged requests, single replies and dumps.</summary>
public sealed partial class NetlinkSocket
{
    /// <summary>Sends one request carrying <c>NLM_F_ACK</c> and waits for its acknowledgement.</summary>
    /// <exception cref="NetlinkException">The kernel refused it; errno and extended-ack text included.</exception>
    public void Execute(ReadOnlySpan<byte> request, uint sequence, string operation, string? target) =>
        Exchange<bool>(request, sequence, parse: null, operation, target);

    /// <summary>Sends a request expecting exactly one reply message (a get) and decodes it.</summary>
    public T Request<T>(ReadOnlySpan<byte> request, uint sequence, MessageParser<T> parse, string operation, string? target)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Exchange(request, sequence, parse, operation, target);
    }

    /// <summary>One request and its answer (a decoded reply, or the acknowledgement when <paramref name="parse"/> is null).</summary>
    internal async Task<T> ExchangeAsync<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T>? parse, string operation, string? target, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = new NetlinkWriter(512);
            try
            {
                var sequence = NextSequence();
                write(ref writer, state, sequence, PortId);
                return Exchange(writer.WrittenSpan, sequence, parse, operation, target);
            }
            finally
            {
                writer.Dispose();
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Sends a request and waits for its answer: a decoded reply when <paramref name="parse"/> is given,
    /// otherwise the acknowledgement.</summary>
    internal T Exchange<T>(ReadOnlySpan<byte> request, uint sequence, MessageParser<T>? parse, string operation, string? target)
    {
        Send(request);
        var buffer = RentReceiveBuffer();
        try
        {
            while (true)
            {
                var n = Receive(buffer);
                foreach (var message in new NetlinkMessageEnumerator(buffer.AsSpan(0, n)))
                {
                    if (!IsReplyTo(message.Header, sequence))
                    {
                        continue;
                    }

                    if (message.Header.Type is NlmsgType.Error)
                    {
                        var error = NetlinkError.Parse(message);
                        if (error.Errno == 0 && parse is null)
                        {
                            return default!;
                        }

                        throw error.ToException(operation, target);
                    }

                    if (parse is not null && parse(message, out var value))
                    {
                        return value;
                    }
                }
            }
        }
        finally
        {
            ReturnReceiveBuffer(buffer);
        }
    }

    /// <summary>Sends a dump request and collects every decoded record until <c>NLMSG_DONE</c>.</summary>
    /// <exception cref="DumpInterruptedException{T}">The kernel marked the dump interrupted; the partial results are attached.</exception>
    public IReadOnlyList<T> Dump<T>(ReadOnlySpan<byte> request, uint sequence, MessageParser<T> parse, string operation, string? target = null)
    {
        var results = new List<T>();
        Send(request);
        var buffer = RentReceiveBuffer();
        var interrupted = false;
        try
        {
            while (true)
            {
                var n = Receive(buffer);
                if (CollectDumpPart(buffer.AsSpan(0, n), sequence, parse, results, ref interrupted, operation, target))
                {
                    break;
                }
            }
        }
        finally
        {
            ReturnReceiveBuffer(buffer);
        }

        return interrupted ? throw new DumpInterruptedException<T>(operation, results) : results;
    }

    /// <summary>Decodes one received datagram of a dump; returns true once <c>NLMSG_DONE</c> was seen.</summary>
    internal bool CollectDumpPart<T>(ReadOnlySpan<byte> datagram, uint sequence, MessageParser<T> parse, List<T> results, ref bool interrupted, string operation, string? target)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            if (!IsReplyTo(message.Header, sequence))
            {
                continue;
            }

            if ((message.Header.Flags & NlmsgFlags.DumpInterrupted) != 0)
            {
                interrupted = true;
            }

            switch (message.Header.Type)
            {
                case NlmsgType.Done:
                    var done = NetlinkError.ParseDone(message);
                    return done.Errno == 0 ? true : throw done.ToException(operation, target);
                case NlmsgType.Error:
                    var error = NetlinkError.Parse(message);
                    if (error.Errno != 0)
                    {
                        throw error.ToException(operation, target);
                    }

                    return true;
                case NlmsgType.Noop:
                    break;
                default:
                    if (parse(message, out var value))
                    {
                        results.Add(value);
                    }

                    break;
            }
        }

        return false;
    }

    private bool IsReplyTo(NlMsgHdr header, uint sequence) =>
        header.Sequence == sequence && (header.PortId == PortId || header.PortId == 0);
}
