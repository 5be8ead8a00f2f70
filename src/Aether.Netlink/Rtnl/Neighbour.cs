using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>A neighbour (ARP/NDP) entry (<c>RTM_NEWNEIGH</c>).</summary>
/// <param name="Index">The ifindex.</param>
/// <param name="Address">The IP address.</param>
/// <param name="LinkLayerAddress">The MAC address, when resolved.</param>
/// <param name="State">The state (<c>NUD_*</c>).</param>
public sealed record Neighbour(int Index, IPAddress Address, string? LinkLayerAddress, ushort State)
{
    /// <summary><c>NUD_PERMANENT</c>.</summary>
    public const ushort StatePermanent = 0x80;

    /// <summary>Whether the entry is permanent.</summary>
    public bool IsPermanent => (State & StatePermanent) != 0;

    /// <summary>Decodes an <c>RTM_NEWNEIGH</c> message; entries without an IP address (bridge FDB) are skipped.</summary>
    public static bool TryParse(in NetlinkMessage message, out Neighbour neighbour)
    {
        var head = message.ReadStruct<NdMsg>();
        IPAddress? dst = null;
        string? lladdr = null;
        foreach (var attr in message.Attributes(NdMsg.Size))
        {
            switch (attr.Type)
            {
                case Nda.Destination when attr.Payload.Length is 4 or 16: dst = attr.GetAddress(); break;
                case Nda.LinkLayerAddress: lladdr = MacAddress.Format(attr.Payload); break;
            }
        }

        neighbour = dst is null ? null! : new Neighbour(head.Index, dst, lladdr, head.State);
        return dst is not null;
    }

    /// <summary>Writes <c>RTM_NEWNEIGH</c> (permanent, create or replace) or <c>RTM_DELNEIGH</c>.</summary>
    internal static void Write(ref NetlinkWriter writer, ushort type, int index, IPAddress address, string? linkLayerAddress, uint sequence, uint portId)
    {
        var flags = type == RtmType.NewNeigh ? NlmsgFlags.Create | NlmsgFlags.Replace : 0;
        var msg = writer.BeginMessage(type, (ushort)(NlmsgFlags.Request | NlmsgFlags.Ack | flags), sequence, portId);
        writer.WriteStruct(new NdMsg
        {
            Family = address.AddressFamily == AddressFamily.InterNetwork ? AddressFamilies.Inet : AddressFamilies.Inet6,
            Index = index,
            State = StatePermanent,
        });
        writer.WriteAddress(Nda.Destination, address);
        if (linkLayerAddress is not null)
        {
            MacAddress.Write(ref writer, Nda.LinkLayerAddress, linkLayerAddress);
        }

        writer.EndMessage(msg);
    }

    /// <summary>Writes an <c>RTM_GETNEIGH</c> dump, filtered by ifindex in the kernel when given.</summary>
    internal static void WriteDump(ref NetlinkWriter writer, int index, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetNeigh, NlmsgFlags.Request | NlmsgFlags.Dump, sequence, portId);
        // With strict checking the kernel refuses a dump whose header names an ifindex ("Invalid values in header
        // for neighbor dump request"): the link filter goes in NDA_IFINDEX only.
        writer.WriteStruct(default(NdMsg));
        if (index > 0)
        {
            writer.WriteU32(8 /* NDA_IFINDEX */, (uint)index);
        }

        writer.EndMessage(msg);
    }
}
