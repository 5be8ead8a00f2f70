using Aether.Netlink.Protocol;

namespace Aether.Netlink.Generic;

/// <summary>A generic netlink family as the controller (<c>nlctrl</c>) describes it.</summary>
/// <param name="Id">The family id: the <c>nlmsg_type</c> of its messages.</param>
/// <param name="Name">The family name (<c>wireguard</c>, <c>nlctrl</c>).</param>
/// <param name="Version">The family's version.</param>
/// <param name="MulticastGroups">Multicast group ids by name.</param>
public sealed record GenericFamily(ushort Id, string Name, uint Version, IReadOnlyDictionary<string, uint> MulticastGroups)
{
    /// <summary><c>GENL_ID_CTRL</c>: the controller's own family id.</summary>
    public const ushort ControllerId = 0x10;

    private const byte CmdGetFamily = 3;      // CTRL_CMD_GETFAMILY
    private const ushort AttrFamilyId = 1;    // CTRL_ATTR_FAMILY_ID
    private const ushort AttrFamilyName = 2;  // CTRL_ATTR_FAMILY_NAME
    private const ushort AttrVersion = 3;     // CTRL_ATTR_VERSION
    private const ushort AttrMcastGroups = 7; // CTRL_ATTR_MCAST_GROUPS
    private const ushort AttrGroupName = 1;   // CTRL_ATTR_MCAST_GRP_NAME
    private const ushort AttrGroupId = 2;     // CTRL_ATTR_MCAST_GRP_ID

    /// <summary>Decodes a <c>CTRL_CMD_NEWFAMILY</c> reply.</summary>
    public static bool TryParse(in NetlinkMessage message, out GenericFamily family)
    {
        ushort id = 0;
        uint version = 0;
        var name = string.Empty;
        var groups = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var attr in message.Attributes(GenlMsgHdr.Size))
        {
            switch (attr.Type)
            {
                case AttrFamilyId: id = attr.GetU16(); break;
                case AttrFamilyName: name = attr.GetString(); break;
                case AttrVersion: version = attr.GetU32(); break;
                case AttrMcastGroups:
                    foreach (var group in attr.GetNested())
                    {
                        string? groupName = null;
                        uint groupId = 0;
                        foreach (var field in group.GetNested())
                        {
                            switch (field.Type)
                            {
                                case AttrGroupName: groupName = field.GetString(); break;
                                case AttrGroupId: groupId = field.GetU32(); break;
                            }
                        }

                        if (groupName is not null)
                        {
                            groups[groupName] = groupId;
                        }
                    }

                    break;
            }
        }

        family = new GenericFamily(id, name, version, groups);
        return id != 0;
    }

    /// <summary>Writes <c>CTRL_CMD_GETFAMILY</c> for <paramref name="name"/>.</summary>
    internal static void WriteGet(ref NetlinkWriter writer, string name, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(ControllerId, NlmsgFlags.Request, sequence, portId);
        writer.WriteStruct(new GenlMsgHdr { Command = CmdGetFamily, Version = 1 });
        writer.WriteString(AttrFamilyName, name);
        writer.EndMessage(msg);
    }
}
