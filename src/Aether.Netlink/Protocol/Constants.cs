namespace Aether.Netlink.Protocol;

/// <summary>Netlink message types common to every family.</summary>
public static class NlmsgType
{
    /// <summary><c>NLMSG_NOOP</c>.</summary>
    public const ushort Noop = 1;

    /// <summary><c>NLMSG_ERROR</c>: an error, or with error 0 an acknowledgement.</summary>
    public const ushort Error = 2;

    /// <summary><c>NLMSG_DONE</c>: the end of a dump.</summary>
    public const ushort Done = 3;

    /// <summary><c>NLMSG_OVERRUN</c>.</summary>
    public const ushort Overrun = 4;
}

/// <summary>Netlink message header flags (<c>NLM_F_*</c>).</summary>
public static class NlmsgFlags
{
    /// <summary><c>NLM_F_REQUEST</c>.</summary>
    public const ushort Request = 0x01;

    /// <summary><c>NLM_F_MULTI</c>: part of a multipart reply.</summary>
    public const ushort Multi = 0x02;

    /// <summary><c>NLM_F_ACK</c>: reply with an acknowledgement.</summary>
    public const ushort Ack = 0x04;

    /// <summary><c>NLM_F_ECHO</c>.</summary>
    public const ushort Echo = 0x08;

    /// <summary><c>NLM_F_DUMP_INTR</c>: the dump was interrupted by a change.</summary>
    public const ushort DumpInterrupted = 0x10;

    /// <summary><c>NLM_F_ROOT</c>.</summary>
    public const ushort Root = 0x100;

    /// <summary><c>NLM_F_MATCH</c>.</summary>
    public const ushort Match = 0x200;

    /// <summary><c>NLM_F_DUMP</c>.</summary>
    public const ushort Dump = Root | Match;

    /// <summary><c>NLM_F_REPLACE</c>.</summary>
    public const ushort Replace = 0x100;

    /// <summary><c>NLM_F_EXCL</c>.</summary>
    public const ushort Excl = 0x200;

    /// <summary><c>NLM_F_CREATE</c>.</summary>
    public const ushort Create = 0x400;

    /// <summary><c>NLM_F_APPEND</c>.</summary>
    public const ushort Append = 0x800;

    /// <summary><c>NLM_F_CAPPED</c>: the error message carries only the request's header.</summary>
    public const ushort Capped = 0x100;

    /// <summary><c>NLM_F_ACK_TLVS</c>: extended-ack attributes follow the error.</summary>
    public const ushort AckTlvs = 0x200;
}

/// <summary>Extended-ack attributes (<c>NLMSGERR_ATTR_*</c>).</summary>
public static class NlmsgerrAttr
{
    /// <summary><c>NLMSGERR_ATTR_MSG</c>.</summary>
    public const ushort Msg = 1;

    /// <summary><c>NLMSGERR_ATTR_OFFS</c>.</summary>
    public const ushort Offset = 2;
}

/// <summary>Socket options at level <c>SOL_NETLINK</c>.</summary>
internal static class NetlinkSockOpt
{
    public const int AddMembership = 1;   // NETLINK_ADD_MEMBERSHIP
    public const int DropMembership = 2;  // NETLINK_DROP_MEMBERSHIP
    public const int CapAck = 10;         // NETLINK_CAP_ACK
    public const int ExtAck = 11;         // NETLINK_EXT_ACK
    public const int GetStrictChk = 12;   // NETLINK_GET_STRICT_CHK
    public const int ListenAllNsid = 8;   // NETLINK_LISTEN_ALL_NSID (also the type of the control message that carries the nsid)
}
