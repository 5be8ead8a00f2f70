using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Properties;

/// <summary>
/// Runs every reader on bytes of unknown shape. A reader may refuse with <see cref="NetlinkParseException"/>; any other
/// exception escapes and fails the property that called it.
/// </summary>
internal static class ParseEverything
{
    private static readonly string[] KindNames = ["veth", "bridge", "vxlan", "macvlan", "tun", "other"];
    private static readonly int[] HeaderSizes = [0, RtGenMsg.Size, IfAddrMsg.Size, RtMsg.Size, IfInfoMsg.Size];

    /// <summary>Enumerates the messages in a buffer and parses each one every way.</summary>
    public static void Buffer(ReadOnlySpan<byte> buffer)
    {
        var messages = new NetlinkMessageEnumerator(buffer);
        while (Refusable(ref messages))
        {
            Message(messages.Current);
        }
    }

    /// <summary>Decodes one message as every message type the library knows.</summary>
    public static void Message(in NetlinkMessage message)
    {
        Try(message, static (in NetlinkMessage m) => Link.TryParse(m, out _));
        Try(message, static (in NetlinkMessage m) => Address.TryParse(m, out _));
        Try(message, static (in NetlinkMessage m) => Route.TryParse(m, out _));
        Try(message, static (in NetlinkMessage m) => Neighbour.TryParse(m, out _));
        Try(message, static (in NetlinkMessage m) => NsId.TryParse(m, out _));
        Try(message, static (in NetlinkMessage m) => NetlinkError.Parse(m).ToException("op", "target").Message.Length > 0);
        Try(message, static (in NetlinkMessage m) => NetlinkError.ParseDone(m).ToException(null, null).Message.Length > 0);
        foreach (var size in HeaderSizes)
        {
            try
            {
                Attributes(message.Attributes(size), 0);
            }
            catch (NetlinkParseException)
            {
            }
        }

        foreach (var kind in KindNames)
        {
            try
            {
                LinkKindData.Parse(kind, message.Payload);
            }
            catch (NetlinkParseException)
            {
            }
        }
    }

    /// <summary>Walks attributes, reading each one with every accessor and descending into every payload.</summary>
    private static void Attributes(NetlinkAttributeEnumerator attributes, int depth)
    {
        while (Refusable(ref attributes))
        {
            var attribute = attributes.Current;
            Accessors(attribute);
            if (depth < 8)
            {
                try
                {
                    Attributes(attribute.GetNested(), depth + 1);
                }
                catch (NetlinkParseException)
                {
                }
            }
        }
    }

    private static void Accessors(NetlinkAttribute attribute)
    {
        _ = attribute.GetString();
        _ = attribute.StringEquals("veth"u8);
        _ = attribute.GetBytes();
        _ = MacAddress.Format(attribute.Payload);
        Try(attribute, static a => a.GetU8());
        Try(attribute, static a => a.GetU16());
        Try(attribute, static a => a.GetU16BigEndian());
        Try(attribute, static a => a.GetU32());
        Try(attribute, static a => a.GetS32());
        Try(attribute, static a => a.GetU64());
        Try(attribute, static a => a.GetAddress());
    }

    private static bool Refusable(ref NetlinkMessageEnumerator enumerator)
    {
        try
        {
            return enumerator.MoveNext();
        }
        catch (NetlinkParseException)
        {
            return false;
        }
    }

    private static bool Refusable(ref NetlinkAttributeEnumerator enumerator)
    {
        try
        {
            return enumerator.MoveNext();
        }
        catch (NetlinkParseException)
        {
            return false;
        }
    }

    private delegate object MessageReader(in NetlinkMessage message);

    private delegate object AttributeReader(NetlinkAttribute attribute);

    private static void Try(in NetlinkMessage message, MessageReader read)
    {
        try
        {
            read(message);
        }
        catch (NetlinkParseException)
        {
        }
    }

    private static void Try(NetlinkAttribute attribute, AttributeReader read)
    {
        try
        {
            read(attribute);
        }
        catch (NetlinkParseException)
        {
        }
    }
}
