using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Decoding <c>RTM_NEWLINK</c>: the known attributes into properties, the rest kept raw.</summary>
public sealed partial record Link
{
    /// <summary>Decodes an <c>RTM_NEWLINK</c>/<c>RTM_DELLINK</c> message. Matches <see cref="MessageParser{T}"/>.</summary>
    public static bool TryParse(in NetlinkMessage message, out Link link)
    {
        var info = message.ReadStruct<IfInfoMsg>();
        string name = string.Empty;
        string? mac = null, alias = null, portKind = null;
        int mtu = 0;
        int? master = null, linkIndex = null, linkNs = null;
        bool? carrier = null;
        var oper = OperState.Unknown;
        LinkKindData? kind = null;
        List<string>? alt = null;
        foreach (var attr in message.Attributes(IfInfoMsg.Size))
        {
            switch (attr.Type)
            {
                case Ifla.IfName: name = attr.GetString(); break;
                case Ifla.Mtu: mtu = (int)attr.GetU32(); break;
                case Ifla.Address: mac = Rtnl.MacAddress.Format(attr.Payload); break;
                case Ifla.OperState: oper = (OperState)attr.GetU8(); break;
                case Ifla.Carrier: carrier = attr.GetU8() != 0; break;
                case Ifla.Master: master = (int)attr.GetU32(); break;
                case Ifla.Link: linkIndex = (int)attr.GetU32(); break;
                case Ifla.LinkNetNsId: linkNs = attr.GetS32(); break;
                case Ifla.Alias: alias = attr.GetString(); break;
                case Ifla.PropList:
                    foreach (var prop in attr.GetNested())
                    {
                        if (prop.Type == Ifla.AltName)
                        {
                            (alt ??= []).Add(prop.GetString());
                        }
                    }

                    break;
                case Ifla.LinkInfo:
                    (kind, portKind) = ParseLinkInfo(attr.Payload);
                    break;
            }
        }

        link = new Link
        {
            Index = info.Index,
            Name = name,
            Flags = info.Flags,
            HardwareType = info.Type,
            Mtu = mtu,
            MacAddress = mac,
            OperState = oper,
            Carrier = carrier,
            MasterIndex = master,
            LinkIndex = linkIndex,
            LinkNetNsId = linkNs,
            Alias = alias,
            AltNames = alt ?? (IReadOnlyList<string>)[],
            KindData = kind,
            PortKind = portKind,
            _attributes = KeepUndecoded(message),
        };
        return true;
    }

    /// <summary>Copies the attributes that are neither decoded nor deliberately dropped, headers included, into one array.</summary>
    private static byte[] KeepUndecoded(in NetlinkMessage message)
    {
        Span<byte> scratch = stackalloc byte[1024];
        var length = 0;
        byte[]? rented = null;
        try
        {
            var attributes = message.Payload.Length > IfInfoMsg.Size ? message.Payload[IfInfoMsg.Size..] : default;
            var offset = 0;
            foreach (var attr in new NetlinkAttributeEnumerator(attributes))
            {
                var total = 4 + attr.Payload.Length;
                var whole = attributes.Slice(offset, total);
                offset += Math.Min(NetlinkWriter.Pad(total), attributes.Length - offset);
                if (IsDecoded(attr.Type) || attr.Type is AfSpec or Stats or Stats64)
                {
                    continue;
                }

                var padded = NetlinkWriter.Pad(total);
                if (length + padded > scratch.Length)
                {
                    var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent((length + padded) * 2);
                    scratch[..length].CopyTo(bigger);
                    if (rented is not null)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                    }

                    rented = bigger;
                    scratch = bigger;
                }

                whole.CopyTo(scratch[length..]);
                scratch.Slice(length + total, padded - total).Clear();
                length += padded;
            }

            return length == 0 ? [] : scratch[..length].ToArray();
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private const ushort Stats = 7;    // IFLA_STATS
    private const ushort Stats64 = 23; // IFLA_STATS64
    private const ushort AfSpec = 26;  // IFLA_AF_SPEC

    private static bool IsDecoded(ushort type) => type is Ifla.IfName or Ifla.Mtu or Ifla.Address or Ifla.OperState or Ifla.Carrier
        or Ifla.Master or Ifla.Link or Ifla.LinkNetNsId or Ifla.Alias or Ifla.PropList or Ifla.LinkInfo;

    private static List<RawAttribute> DecodeUnknown(ReadOnlySpan<byte> attributes)
    {
        var list = new List<RawAttribute>();
        foreach (var attr in new NetlinkAttributeEnumerator(attributes))
        {
            if (!IsDecoded(attr.Type))
            {
                list.Add(new RawAttribute(attr.Type, attr.GetBytes()));
            }
        }

        return list;
    }

    private static (LinkKindData? Kind, string? PortKind) ParseLinkInfo(ReadOnlySpan<byte> payload)
    {
        string? kind = null, portKind = null;
        ReadOnlySpan<byte> data = default;
        foreach (var attr in new NetlinkAttributeEnumerator(payload))
        {
            switch (attr.Type)
            {
                case Ifla.InfoKind: kind = attr.GetString(); break;
                case Ifla.InfoData: data = attr.Payload; break;
                case Ifla.InfoSlaveKind: portKind = attr.GetString(); break;
            }
        }

        return (kind is null ? null : LinkKindData.Parse(kind, data), portKind);
    }
}
