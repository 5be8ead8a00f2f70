using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aether.Netlink.Protocol;

/// <summary>One netlink message inside a received buffer: the header and the bytes after it.</summary>
public readonly ref struct NetlinkMessage
{
    /// <summary>Creates the view.</summary>
    public NetlinkMessage(NlMsgHdr header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    /// <summary>The <c>nlmsghdr</c>.</summary>
    public NlMsgHdr Header { get; }

    /// <summary>The message's bytes after the header.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Reads the fixed family header at the start of the payload.</summary>
    public T ReadStruct<T>()
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        if (Payload.Length < size)
        {
            throw new NetlinkParseException($"message type {Header.Type}: payload of {Payload.Length} bytes is shorter than its {typeof(T).Name} ({size} bytes)");
        }

        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes that follow a fixed header of <paramref name="headerSize"/> bytes.</summary>
    public NetlinkAttributeEnumerator Attributes(int headerSize)
    {
        var offset = NetlinkWriter.Pad(headerSize);
        if (Payload.Length < headerSize)
        {
            throw new NetlinkParseException($"message type {Header.Type}: payload of {Payload.Length} bytes is shorter than its header ({headerSize} bytes)");
        }

        return new NetlinkAttributeEnumerator(offset >= Payload.Length ? default : Payload[offset..]);
    }
}

/// <summary>Walks the netlink messages in a buffer, checking every length.</summary>
public ref struct NetlinkMessageEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private NetlinkMessage _current;

    /// <summary>Starts at the first message of <paramref name="buffer"/>.</summary>
    public NetlinkMessageEnumerator(ReadOnlySpan<byte> buffer)
    {
        _remaining = buffer;
        _current = default;
    }

    /// <summary>The message at the current position.</summary>
    public readonly NetlinkMessage Current => _current;

    /// <summary>Returns this enumerator, for <c>foreach</c>.</summary>
    public readonly NetlinkMessageEnumerator GetEnumerator() => this;

    /// <summary>Advances to the next message; throws <see cref="NetlinkParseException"/> on a bad length.</summary>
    public bool MoveNext()
    {
        if (_remaining.IsEmpty)
        {
            return false;
        }

        if (_remaining.Length < NlMsgHdr.Size)
        {
            throw new NetlinkParseException($"truncated netlink header: {_remaining.Length} bytes left");
        }

        var header = MemoryMarshal.Read<NlMsgHdr>(_remaining);
        if (header.Length < NlMsgHdr.Size || header.Length > (uint)_remaining.Length)
        {
            throw new NetlinkParseException($"netlink message length {header.Length} outside 16..{_remaining.Length}");
        }

        var length = (int)header.Length;
        _current = new NetlinkMessage(header, _remaining[NlMsgHdr.Size..length]);
        var advance = Math.Min(NetlinkWriter.Pad(length), _remaining.Length);
        _remaining = _remaining[advance..];
        return true;
    }
}
