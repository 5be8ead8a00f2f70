using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Namespace ids (<c>RTM_*NSID</c>): the number by which one namespace refers to another.</summary>
public static class NsId
{
    /// <summary><c>NETNSA_NSID_NOT_ASSIGNED</c>.</summary>
    public const int NotAssigned = -1;

    /// <summary>Decodes <c>RTM_NEWNSID</c>/<c>RTM_DELNSID</c>/a get reply into the nsid.</summary>
    public static bool TryParse(in NetlinkMessage message, out int nsid)
    {
        nsid = NotAssigned;
        foreach (var attr in message.Attributes(RtGenMsg.Size))
        {
            if (attr.Type == Netnsa.NsId)
            {
                nsid = attr.GetS32();
            }
        }

        return true;
    }

    /// <summary>Writes <c>RTM_GETNSID</c> for the namespace behind <paramref name="fd"/>.</summary>
    internal static void WriteGet(ref NetlinkWriter writer, int fd, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetNsId, NlmsgFlags.Request, sequence, portId);
        writer.WriteStruct(default(RtGenMsg));
        writer.WriteU32(Netnsa.Fd, (uint)fd);
        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_NEWNSID</c> assigning <paramref name="nsid"/> to the namespace behind <paramref name="fd"/>.</summary>
    internal static void WriteSet(ref NetlinkWriter writer, int fd, int nsid, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.NewNsId, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        writer.WriteStruct(default(RtGenMsg));
        writer.WriteU32(Netnsa.Fd, (uint)fd);
        writer.WriteS32(Netnsa.NsId, nsid);
        writer.EndMessage(msg);
    }
}
