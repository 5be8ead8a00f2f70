using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Encoding the requests: create, change, delete, get and dump.</summary>
public sealed partial record Link
{
    /// <summary>Writes <c>RTM_NEWLINK</c> with <c>NLM_F_CREATE|NLM_F_EXCL|NLM_F_ACK</c>.</summary>
    internal static void WriteCreate(ref NetlinkWriter writer, LinkSpec spec, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.NewLink, NlmsgFlags.Request | NlmsgFlags.Ack | NlmsgFlags.Create | NlmsgFlags.Excl, sequence, portId);
        writer.WriteStruct(new IfInfoMsg { Index = spec.Index ?? 0, Flags = spec.Up ? Iff.Up : 0, Change = spec.Up ? Iff.Up : 0 });
        writer.WriteString(Ifla.IfName, spec.Name);
        if (spec.Mtu is int mtu)
        {
            writer.WriteU32(Ifla.Mtu, (uint)mtu);
        }

        if (spec.MacAddress is not null)
        {
            Rtnl.MacAddress.Write(ref writer, Ifla.Address, spec.MacAddress);
        }

        if (spec.ParentIndex is int parent)
        {
            writer.WriteU32(Ifla.Link, (uint)parent);
        }

        if (spec.MasterIndex is int master)
        {
            writer.WriteU32(Ifla.Master, (uint)master);
        }

        if (spec.Alias is not null)
        {
            writer.WriteString(Ifla.Alias, spec.Alias);
        }

        if (spec.Namespace is not null)
        {
            writer.WriteU32(Ifla.NetNsFd, (uint)spec.Namespace.Fd);
        }

        var info = writer.BeginNested(Ifla.LinkInfo);
        writer.WriteString(Ifla.InfoKind, spec.Kind.Kind);
        var data = writer.BeginNested(Ifla.InfoData);
        spec.Kind.WriteData(ref writer);
        writer.EndNested(data);
        writer.EndNested(info);
        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_NEWLINK</c> (no create) that changes an existing link.</summary>
    internal static void WriteChange(ref NetlinkWriter writer, LinkRef target, LinkChange change, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.NewLink, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        var flags = change.Up is true ? Iff.Up : 0;
        writer.WriteStruct(new IfInfoMsg { Index = target.Index, Flags = flags, Change = change.Up is null ? 0 : Iff.Up });
        if (target.Name is not null && change.Name is not null)
        {
            // Without an ifindex the kernel finds the link by IFLA_IFNAME, which a rename uses for the new name (and
            // IFLA_IFNAME wins over IFLA_ALT_IFNAME in the lookup): a rename needs the ifindex, as in iproute2.
            throw new ArgumentException($"renaming '{target.Name}' to '{change.Name}' needs the link's ifindex, not its name", nameof(target));
        }

        if (target.Name is not null)
        {
            writer.WriteString(Ifla.IfName, target.Name);
        }

        if (change.Name is not null)
        {
            writer.WriteString(Ifla.IfName, change.Name);
        }

        if (change.Mtu is int mtu)
        {
            writer.WriteU32(Ifla.Mtu, (uint)mtu);
        }

        if (change.MacAddress is not null)
        {
            Rtnl.MacAddress.Write(ref writer, Ifla.Address, change.MacAddress);
        }

        if (change.MasterIndex is int master)
        {
            writer.WriteU32(Ifla.Master, (uint)master);
        }

        if (change.Alias is not null)
        {
            writer.WriteString(Ifla.Alias, change.Alias);
        }

        if (change.Namespace is not null)
        {
            writer.WriteU32(Ifla.NetNsFd, (uint)change.Namespace.Fd);
        }

        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_DELLINK</c>.</summary>
    internal static void WriteDelete(ref NetlinkWriter writer, LinkRef target, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.DelLink, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        WriteSelector(ref writer, target);
        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_GETLINK</c> for one link.</summary>
    internal static void WriteGet(ref NetlinkWriter writer, LinkRef target, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetLink, NlmsgFlags.Request, sequence, portId);
        WriteSelector(ref writer, target);
        writer.WriteU32(Ifla.ExtMask, SkipStats);
        writer.EndMessage(msg);
    }

    /// <summary>Writes an <c>RTM_GETLINK</c> dump request.</summary>
    internal static void WriteDump(ref NetlinkWriter writer, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetLink, NlmsgFlags.Request | NlmsgFlags.Dump, sequence, portId);
        writer.WriteStruct(default(IfInfoMsg));
        writer.WriteU32(Ifla.ExtMask, SkipStats);
        writer.EndMessage(msg);
    }

    /// <summary><c>RTEXT_FILTER_SKIP_STATS</c>: the kernel leaves out IFLA_STATS and IFLA_STATS64.</summary>
    private const uint SkipStats = 1 << 3;

    private static void WriteSelector(ref NetlinkWriter writer, LinkRef target)
    {
        writer.WriteStruct(new IfInfoMsg { Index = target.Index });
        if (target.Name is not null)
        {
            writer.WriteString(Ifla.IfName, target.Name);
        }
    }
}
