using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Aether.Netlink.Protocol;

/// <summary>Attribute writing (<c>struct nlattr</c>): scalars, strings, addresses and nests.</summary>
public ref partial struct NetlinkWriter
{
    /// <summary><c>NLA_F_NESTED</c>.</summary>
    public const ushort NestedFlag = 0x8000;

    private const int AttributeHeader = 4;

    /// <summary>Writes an attribute header with a placeholder length; returns the token for <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        Align();
        var start = _position;
        var span = Reserve(AttributeHeader);
        BinaryPrimitives.WriteUInt16LittleEndian(span, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        return start;
    }

    /// <summary>Fills in <c>nla_len</c> of the attribute begun at <paramref name="token"/>.</summary>
    public void EndNested(int token)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(token), checked((ushort)(_position - token)));
        Align();
    }

    /// <summary>Writes an attribute with raw bytes as its payload.</summary>
    public void WriteAttribute(ushort type, scoped ReadOnlySpan<byte> payload)
    {
        var span = BeginAttribute(type, payload.Length);
        payload.CopyTo(span);
    }

    /// <summary>Writes an attribute with no payload (a flag).</summary>
    public void WriteFlag(ushort type) => BeginAttribute(type, 0);

    /// <summary>Writes an 8-bit attribute.</summary>
    public void WriteU8(ushort type, byte value) => BeginAttribute(type, 1)[0] = value;

    /// <summary>Writes a 16-bit attribute in host (little-endian) order.</summary>
    public void WriteU16(ushort type, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(BeginAttribute(type, 2), value);

    /// <summary>Writes a 16-bit attribute in network (big-endian) order, such as a UDP port.</summary>
    public void WriteU16BigEndian(ushort type, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(BeginAttribute(type, 2), value);

    /// <summary>Writes a 32-bit attribute.</summary>
    public void WriteU32(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(BeginAttribute(type, 4), value);

    /// <summary>Writes a signed 32-bit attribute.</summary>
    public void WriteS32(ushort type, int value) => BinaryPrimitives.WriteInt32LittleEndian(BeginAttribute(type, 4), value);

    /// <summary>Writes a 64-bit attribute.</summary>
    public void WriteU64(ushort type, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(BeginAttribute(type, 8), value);

    /// <summary>Writes a NUL-terminated UTF-8 string attribute.</summary>
    public void WriteString(ushort type, scoped ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = BeginAttribute(type, length + 1);
        Encoding.UTF8.GetBytes(value, span);
        span[length] = 0;
    }

    /// <summary>Writes an IPv4 or IPv6 address attribute (4 or 16 bytes, network order).</summary>
    public void WriteAddress(ushort type, IPAddress address)
    {
        var length = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 16;
        var span = BeginAttribute(type, length);
        if (!address.TryWriteBytes(span, out _))
        {
            throw new ArgumentException($"address {address} does not fit the attribute", nameof(address));
        }
    }

    /// <summary>Writes the network address of <paramref name="address"/>/<paramref name="prefixLength"/> (host bits cleared).</summary>
    public void WriteNetwork(ushort type, IPAddress address, int prefixLength)
    {
        var length = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 16;
        var span = BeginAttribute(type, length);
        if (!address.TryWriteBytes(span, out _))
        {
            throw new ArgumentException($"address {address} does not fit the attribute", nameof(address));
        }

        for (var i = 0; i < length; i++)
        {
            var bits = Math.Clamp(prefixLength - (i * 8), 0, 8);
            span[i] &= (byte)(0xFF << (8 - bits));
        }
    }

    private Span<byte> BeginAttribute(ushort type, int payloadLength)
    {
        Align();
        var total = AttributeHeader + payloadLength;
        var span = Reserve(Pad(total));
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)total));
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        span[total..].Clear();

        // Leave the padding counted but point the caller at the payload only.
        return span.Slice(AttributeHeader, payloadLength);
    }
}
