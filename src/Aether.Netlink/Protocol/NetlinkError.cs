using System.Buffers.Binary;

namespace Aether.Netlink.Protocol;

/// <summary>The content of an <c>NLMSG_ERROR</c> (or the error code of <c>NLMSG_DONE</c>): errno and extended ack.</summary>
/// <param name="Errno">The positive errno, or 0 for an acknowledgement.</param>
/// <param name="Sequence">The sequence number of the request it answers.</param>
/// <param name="KernelMessage">The kernel's text (<c>NLMSGERR_ATTR_MSG</c>).</param>
/// <param name="AttributeOffset">The offending attribute's offset in the request (<c>NLMSGERR_ATTR_OFFS</c>).</param>
public readonly record struct NetlinkError(int Errno, uint Sequence, string? KernelMessage, int? AttributeOffset)
{
    /// <summary>Decodes an <c>NLMSG_ERROR</c> message: <c>struct nlmsgerr</c>, the echoed request (whole unless capped), then TLVs.</summary>
    /// <exception cref="NetlinkParseException">The message is too short for what its flags promise.</exception>
    public static NetlinkError Parse(in NetlinkMessage message)
    {
        var payload = message.Payload;
        if (payload.Length < 4 + NlMsgHdr.Size)
        {
            throw new NetlinkParseException($"NLMSG_ERROR of {payload.Length} bytes is shorter than struct nlmsgerr");
        }

        var errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        var echoedLength = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var tlvStart = 4 + NlMsgHdr.Size;
        if ((message.Header.Flags & NlmsgFlags.Capped) == 0 && errno != 0)
        {
            // Uncapped errors echo the whole request after its header.
            if (echoedLength < NlMsgHdr.Size || 4 + (long)echoedLength > payload.Length)
            {
                throw new NetlinkParseException($"NLMSG_ERROR echoes a {echoedLength}-byte request but holds {payload.Length - 4} bytes");
            }

            tlvStart = 4 + NetlinkWriter.Pad((int)echoedLength);
        }

        return (message.Header.Flags & NlmsgFlags.AckTlvs) != 0 && tlvStart < payload.Length
            ? WithTlvs(errno, message.Header.Sequence, payload[tlvStart..])
            : new NetlinkError(errno, message.Header.Sequence, null, null);
    }

    /// <summary>Decodes the <c>int</c> error of <c>NLMSG_DONE</c> and any extended-ack TLVs after it.</summary>
    public static NetlinkError ParseDone(in NetlinkMessage message)
    {
        var payload = message.Payload;
        if (payload.Length < 4)
        {
            return new NetlinkError(0, message.Header.Sequence, null, null);
        }

        var errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        return (message.Header.Flags & NlmsgFlags.AckTlvs) != 0 && payload.Length > 4
            ? WithTlvs(errno, message.Header.Sequence, payload[4..])
            : new NetlinkError(errno, message.Header.Sequence, null, null);
    }

    /// <summary>The exception for this error, naming the operation and the object.</summary>
    public NetlinkException ToException(string? operation, string? target) =>
        new(Errno, operation, target, KernelMessage, AttributeOffset);

    private static NetlinkError WithTlvs(int errno, uint sequence, ReadOnlySpan<byte> tlvs)
    {
        string? text = null;
        int? offset = null;
        foreach (var attr in new NetlinkAttributeEnumerator(tlvs))
        {
            switch (attr.Type)
            {
                case NlmsgerrAttr.Msg:
                    text = attr.GetString();
                    break;
                case NlmsgerrAttr.Offset:
                    offset = (int)attr.GetU32();
                    break;
            }
        }

        return new NetlinkError(errno, sequence, text, offset);
    }
}
