using System.Buffers;
using System.Runtime.InteropServices;
using Aether.Netlink.Protocol;

namespace Aether.Netlink;

/// <summary>
/// Many acknowledged requests sent together: messages are written back to back into one buffer and go to the kernel
/// in as few <c>sendto</c> calls as the socket buffers allow; the acknowledgements are read afterwards and matched by
/// sequence number. The kernel handles the messages of one send in order and answers each one, so a failure of one
/// request is reported for that request and the others still run.
/// </summary>
public class NetlinkBatch : IDisposable
{
    // Bounded so that the acknowledgements of one send always fit the receive queue: an ACK costs ~1 KiB of buffer.
    private const int MaxMessagesPerSend = 128;
    private const int MaxBytesPerSend = 60 * 1024;

    private readonly List<Entry> _entries = [];
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _length;

    /// <summary>Creates a batch for <paramref name="socket"/>.</summary>
    protected internal NetlinkBatch(NetlinkSocket socket)
    {
        Socket = socket;
    }

    /// <summary>The number of requests queued.</summary>
    public int Count => _entries.Count;

    /// <summary>The socket the batch is sent on.</summary>
    protected internal NetlinkSocket Socket { get; }

    /// <summary>Queues one request: <paramref name="write"/> writes exactly one message with the given sequence number.
    /// <paramref name="target"/> names the object in an error; it is turned into text (<see cref="Describe"/>) only
    /// when the request fails, so queuing formats nothing.</summary>
    public void Add<TState>(TState state, WriteRequest<TState> write, string operation, object? target) => Add(state, write, operation, target, 0);

    /// <summary>Names the object of a failed request: <paramref name="target"/>'s text, or the ifindex when there is none.</summary>
    protected virtual string? Describe(object? target, int targetIndex) =>
        target?.ToString() ?? (targetIndex > 0 ? targetIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);

    /// <summary>Queues one request whose object is a link given by ifindex (formatted only on failure).</summary>
    protected void Add<TState>(TState state, WriteRequest<TState> write, string operation, object? target, int targetIndex)
    {
        ArgumentNullException.ThrowIfNull(write);
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        var sequence = Socket.NextSequence();
        var writer = new NetlinkWriter(_buffer, _length, _entries.Count);
        int length;
        try
        {
            write(ref writer, state, sequence, Socket.PortId);
        }
        finally
        {
            // Whatever happened, the (possibly regrown) buffer is ours again; a failed write leaves nothing queued.
            (_buffer, length) = writer.Detach();
        }

        RequireOneAcknowledgedMessage(_buffer.AsSpan(_length, length - _length), sequence, operation);
        _entries.Add(new Entry(sequence, _length, length, operation, target, targetIndex));
        _length = length;
    }

    /// <summary>Checks that a queued request is exactly one message with its sequence number, and makes sure it asks for
    /// an acknowledgement: the batch waits for one answer per request, so a request without <c>NLM_F_ACK</c> would
    /// leave it waiting for ever.</summary>
    private static void RequireOneAcknowledgedMessage(Span<byte> written, uint sequence, string operation)
    {
        var header = written.Length >= NlMsgHdr.Size ? MemoryMarshal.Read<NlMsgHdr>(written) : default;
        if (header.Length != written.Length || header.Sequence != sequence)
        {
            throw new ArgumentException($"{operation}: the request writer must write exactly one message with sequence {sequence}", nameof(operation));
        }

        header.Flags |= NlmsgFlags.Ack;
        MemoryMarshal.Write(written, in header);
    }

    /// <summary>Sends every queued request and waits for all acknowledgements. The batch is empty afterwards.</summary>
    public async Task<NetlinkBatchResult> ExecuteAsync(CancellationToken cancellationToken = default)
    {
        await Socket.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Execute();
        }
        finally
        {
            Socket.Gate.Release();
        }
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Returns the buffer to the pool.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null!;
        }
    }

    private NetlinkBatchResult Execute()
    {
        var errors = new NetlinkException?[_entries.Count];
        var failed = 0;
        var receive = NetlinkSocket.RentReceiveBuffer();
        try
        {
            var first = 0;
            while (first < _entries.Count)
            {
                var last = first;
                while (last + 1 < _entries.Count && last + 1 - first < MaxMessagesPerSend
                       && _entries[last + 1].End - _entries[first].Start <= MaxBytesPerSend)
                {
                    last++;
                }

                Socket.Send(_buffer.AsSpan(_entries[first].Start, _entries[last].End - _entries[first].Start));
                failed += AwaitAcks(first, last, receive, errors);
                first = last + 1;
            }
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(receive);
            _entries.Clear();
            _length = 0;
        }

        return new NetlinkBatchResult(errors, failed);
    }

    private int AwaitAcks(int first, int last, byte[] receive, NetlinkException?[] errors)
    {
        var pending = last - first + 1;
        var failed = 0;
        Span<int> lengths = stackalloc int[receive.Length / NetlinkSocket.ReceiveSlotLength];
        while (pending > 0)
        {
            var received = Socket.ReceiveMany(receive, lengths);
            for (var slot = 0; slot < received; slot++)
            {
                ReadAcks(receive.AsSpan(slot * NetlinkSocket.ReceiveSlotLength, lengths[slot]), first, last, errors, ref pending, ref failed);
            }
        }

        return failed;
    }

    /// <summary>The acknowledgements in one datagram: each error recorded against its entry.</summary>
    private void ReadAcks(ReadOnlySpan<byte> datagram, int first, int last, NetlinkException?[] errors, ref int pending, ref int failed)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            if (message.Header.Type != NlmsgType.Error || message.Header.PortId != Socket.PortId)
            {
                continue;
            }

            var index = IndexOf(first, last, message.Header.Sequence);
            if (index < 0)
            {
                continue;
            }

            var error = NetlinkError.Parse(message);
            if (error.Errno != 0)
            {
                var entry = _entries[index];
                errors[index] = error.ToException(entry.Operation, Describe(entry.Target, entry.TargetIndex));
                failed++;
            }

            pending--;
        }
    }

    /// <summary>The entry in [first, last] with <paramref name="sequence"/>, or -1. Sequence numbers grow along the
    /// batch but need not be consecutive (a failed write, or requests on the same socket meanwhile, take numbers).</summary>
    private int IndexOf(int first, int last, uint sequence)
    {
        var firstSequence = _entries[first].Sequence;
        var target = unchecked(sequence - firstSequence);
        int lo = first, hi = last;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            var offset = unchecked(_entries[mid].Sequence - firstSequence);
            if (offset == target)
            {
                return mid;
            }

            if (offset < target)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    private readonly record struct Entry(uint Sequence, int Start, int End, string Operation, object? Target, int TargetIndex);
}

/// <summary>Writes one request message into <paramref name="writer"/>.</summary>
/// <typeparam name="TState">What the request is built from.</typeparam>
public delegate void WriteRequest<in TState>(ref NetlinkWriter writer, TState state, uint sequence, uint portId);

/// <summary>The outcome of a batch: one entry per request, null where it succeeded.</summary>
public sealed class NetlinkBatchResult
{
    internal NetlinkBatchResult(NetlinkException?[] errors, int failed)
    {
        Errors = errors;
        FailedCount = failed;
    }

    /// <summary>Per request, in the order added: the failure, or null.</summary>
    public IReadOnlyList<NetlinkException?> Errors { get; }

    /// <summary>How many requests failed.</summary>
    public int FailedCount { get; }

    /// <summary>Whether every request succeeded.</summary>
    public bool Succeeded => FailedCount == 0;

    /// <summary>Throws the first failure (or an <see cref="AggregateException"/> of all of them when several failed).</summary>
    public void ThrowIfFailed()
    {
        if (FailedCount == 1)
        {
            throw Errors.First(e => e is not null)!;
        }

        if (FailedCount > 1)
        {
            throw new AggregateException($"{FailedCount} of {Errors.Count} netlink requests failed", Errors.OfType<NetlinkException>());
        }
    }
}
