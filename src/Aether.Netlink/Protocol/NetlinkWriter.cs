using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aether.Netlink.Protocol;

/// <summary>
/// Builds netlink messages into a pooled buffer. Lengths are written after the fact:
/// <see cref="BeginMessage"/> and <see cref="BeginNested"/> return a token, and the matching
/// end call fills in <c>nlmsg_len</c> or <c>nla_len</c>. One writer can hold many messages
/// back to back, which is how requests are pipelined in a single <c>sendto</c>.
/// Building allocates nothing once the pool is warm.
/// </summary>
public ref partial struct NetlinkWriter
{
    private byte[] _buffer;
    private int _position;

    /// <summary>Rents a buffer of at least <paramref name="capacity"/> bytes.</summary>
    public NetlinkWriter(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 64));
        _position = 0;
        MessageCount = 0;
    }

    /// <summary>Continues writing into a buffer rented from <see cref="ArrayPool{T}.Shared"/> that already holds
    /// <paramref name="length"/> bytes; ownership passes to the writer until <see cref="Detach"/>.</summary>
    internal NetlinkWriter(byte[] rented, int length, int messageCount)
    {
        _buffer = rented;
        _position = length;
        MessageCount = messageCount;
    }

    /// <summary>Hands the (possibly regrown) buffer back to its owner instead of the pool.</summary>
    internal (byte[] Buffer, int Length) Detach()
    {
        var result = (_buffer, _position);
        _buffer = null!;
        return result;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    /// <summary>Messages begun so far.</summary>
    public int MessageCount { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null!;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Forgets everything written, keeping the buffer.</summary>
    public void Reset()
    {
        _position = 0;
        MessageCount = 0;
    }

    /// <summary>Writes a <c>nlmsghdr</c> with a placeholder length and returns the token for <see cref="EndMessage"/>.</summary>
    public int BeginMessage(ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        Align();
        var start = _position;
        var header = new NlMsgHdr { Length = 0, Type = type, Flags = flags, Sequence = sequence, PortId = portId };
        WriteStruct(in header);
        MessageCount++;
        return start;
    }

    /// <summary>Fills in <c>nlmsg_len</c> of the message begun at <paramref name="token"/>.</summary>
    public readonly void EndMessage(int token)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(token), (uint)(_position - token));
    }

    /// <summary>Writes a fixed family header (<c>ifinfomsg</c>, <c>rtmsg</c>, …) padded to 4 bytes.</summary>
    public void WriteStruct<T>(in T value)
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var span = Reserve(Pad(size));
        MemoryMarshal.Write(span, in value);
        span[size..].Clear();
    }

    /// <summary>Reserves <paramref name="count"/> bytes and returns them for the caller to fill.</summary>
    public Span<byte> Reserve(int count)
    {
        EnsureCapacity(count);
        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Pads the written length to a multiple of 4 with zeros.</summary>
    private void Align()
    {
        var pad = Pad(_position) - _position;
        if (pad > 0)
        {
            Reserve(pad).Clear();
        }
    }

    internal static int Pad(int length) => (length + 3) & ~3;

    private void EnsureCapacity(int extra)
    {
        if (_position + extra <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _position + extra));
        _buffer.AsSpan(0, _position).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
