using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Aether.Netlink.Protocol;

/// <summary>One attribute (<c>struct nlattr</c>) inside a message: its type and payload.</summary>
public readonly ref struct NetlinkAttribute
{
    /// <summary>Creates the view.</summary>
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> payload)
    {
        RawType = rawType;
        Payload = payload;
    }

    /// <summary>The type with <c>NLA_F_NESTED</c> and <c>NLA_F_NET_BYTEORDER</c> removed.</summary>
    public ushort Type => (ushort)(RawType & 0x3FFF);

    /// <summary>The type as written, flags included.</summary>
    public ushort RawType { get; }

    /// <summary>Whether the sender marked it <c>NLA_F_NESTED</c> (the kernel does not always).</summary>
    public bool IsNestedFlagSet => (RawType & NetlinkWriter.NestedFlag) != 0;

    /// <summary>The bytes after the attribute header.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>An 8-bit value.</summary>
    public byte GetU8() => Payload.Length >= 1 ? Payload[0] : throw Short(1);

    /// <summary>A 16-bit value in host order.</summary>
    public ushort GetU16() => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(Payload) : throw Short(2);

    /// <summary>A 16-bit value in network order.</summary>
    public ushort GetU16BigEndian() => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : throw Short(2);

    /// <summary>A 32-bit value.</summary>
    public uint GetU32() => Payload.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Payload) : throw Short(4);

    /// <summary>A signed 32-bit value.</summary>
    public int GetS32() => Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(Payload) : throw Short(4);

    /// <summary>A 64-bit value.</summary>
    public ulong GetU64() => Payload.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(Payload) : throw Short(8);

    /// <summary>A string, up to its first NUL.</summary>
    public string GetString()
    {
        var end = Payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Payload : Payload[..end]);
    }

    /// <summary>Whether the payload, up to its first NUL, equals <paramref name="ascii"/> (no allocation).</summary>
    public bool StringEquals(ReadOnlySpan<byte> ascii)
    {
        var end = Payload.IndexOf((byte)0);
        return (end < 0 ? Payload : Payload[..end]).SequenceEqual(ascii);
    }

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address.</summary>
    public IPAddress GetAddress() => Payload.Length is 4 or 16
        ? new IPAddress(Payload)
        : throw new NetlinkParseException($"attribute {Type}: {Payload.Length} bytes is not an IPv4 or IPv6 address");

    /// <summary>A hardware address.</summary>
    public byte[] GetBytes() => Payload.ToArray();

    /// <summary>The attributes nested inside this one.</summary>
    public NetlinkAttributeEnumerator GetNested() => new(Payload);

    private NetlinkParseException Short(int need) =>
        new($"attribute {Type}: payload of {Payload.Length} bytes, {need} needed");
}

/// <summary>Walks attributes in a span, checking every length.</summary>
public ref struct NetlinkAttributeEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private NetlinkAttribute _current;

    /// <summary>Starts at the first attribute in <paramref name="attributes"/>.</summary>
    public NetlinkAttributeEnumerator(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
        _current = default;
    }

    /// <summary>The attribute at the current position.</summary>
    public readonly NetlinkAttribute Current => _current;

    /// <summary>Returns this enumerator, for <c>foreach</c>.</summary>
    public readonly NetlinkAttributeEnumerator GetEnumerator() => this;

    /// <summary>Advances; throws <see cref="NetlinkParseException"/> on a bad length.</summary>
    public bool MoveNext()
    {
        if (_remaining.Length < 4)
        {
            if (_remaining.IsEmpty)
            {
                return false;
            }

            throw new NetlinkParseException($"truncated attribute header: {_remaining.Length} bytes left");
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(_remaining);
        var type = BinaryPrimitives.ReadUInt16LittleEndian(_remaining[2..]);
        if (length < 4 || length > _remaining.Length)
        {
            throw new NetlinkParseException($"attribute {type & 0x3FFF}: length {length} outside 4..{_remaining.Length}");
        }

        _current = new NetlinkAttribute(type, _remaining[4..length]);
        _remaining = _remaining[Math.Min(NetlinkWriter.Pad(length), _remaining.Length)..];
        return true;
    }
}

/// <summary>An attribute kept as it came, for types this library does not decode.</summary>
/// <param name="Type">The attribute type (flags removed).</param>
/// <param name="Value">The payload bytes.</param>
public sealed record RawAttribute(ushort Type, byte[] Value);
