using System.Runtime.InteropServices;

namespace Aether.Netlink.Protocol;

/// <summary><c>struct nlmsghdr</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NlMsgHdr
{
    /// <summary>Size in bytes of the header.</summary>
    public const int Size = 16;

    /// <summary><c>nlmsg_len</c>: length of the message including the header.</summary>
    public uint Length;

    /// <summary><c>nlmsg_type</c>.</summary>
    public ushort Type;

    /// <summary><c>nlmsg_flags</c>.</summary>
    public ushort Flags;

    /// <summary><c>nlmsg_seq</c>.</summary>
    public uint Sequence;

    /// <summary><c>nlmsg_pid</c>: the sending port id (0 for the kernel).</summary>
    public uint PortId;
}

/// <summary><c>struct ifinfomsg</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IfInfoMsg
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 16;

    /// <summary><c>ifi_family</c>.</summary>
    public byte Family;

    /// <summary>Padding.</summary>
    public byte Pad;

    /// <summary><c>ifi_type</c> (ARPHRD_*).</summary>
    public ushort Type;

    /// <summary><c>ifi_index</c>.</summary>
    public int Index;

    /// <summary><c>ifi_flags</c> (IFF_*).</summary>
    public uint Flags;

    /// <summary><c>ifi_change</c>: which flags to change.</summary>
    public uint Change;
}

/// <summary><c>struct ifaddrmsg</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IfAddrMsg
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 8;

    /// <summary><c>ifa_family</c>.</summary>
    public byte Family;

    /// <summary><c>ifa_prefixlen</c>.</summary>
    public byte PrefixLength;

    /// <summary><c>ifa_flags</c>.</summary>
    public byte Flags;

    /// <summary><c>ifa_scope</c>.</summary>
    public byte Scope;

    /// <summary><c>ifa_index</c>.</summary>
    public int Index;
}

/// <summary><c>struct rtmsg</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RtMsg
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 12;

    /// <summary><c>rtm_family</c>.</summary>
    public byte Family;

    /// <summary><c>rtm_dst_len</c>.</summary>
    public byte DestinationLength;

    /// <summary><c>rtm_src_len</c>.</summary>
    public byte SourceLength;

    /// <summary><c>rtm_tos</c>.</summary>
    public byte Tos;

    /// <summary><c>rtm_table</c>.</summary>
    public byte Table;

    /// <summary><c>rtm_protocol</c>.</summary>
    public byte Protocol;

    /// <summary><c>rtm_scope</c>.</summary>
    public byte Scope;

    /// <summary><c>rtm_type</c>.</summary>
    public byte Type;

    /// <summary><c>rtm_flags</c>.</summary>
    public uint Flags;
}

/// <summary><c>struct ndmsg</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NdMsg
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 12;

    /// <summary><c>ndm_family</c>.</summary>
    public byte Family;

    /// <summary>Padding.</summary>
    public byte Pad1;

    /// <summary>Padding.</summary>
    public ushort Pad2;

    /// <summary><c>ndm_ifindex</c>.</summary>
    public int Index;

    /// <summary><c>ndm_state</c> (NUD_*).</summary>
    public ushort State;

    /// <summary><c>ndm_flags</c>.</summary>
    public byte Flags;

    /// <summary><c>ndm_type</c>.</summary>
    public byte Type;
}

/// <summary><c>struct rtgenmsg</c> padded to 4 bytes (as the kernel reads it, used by RTM_*NSID).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RtGenMsg
{
    /// <summary>Size in bytes (padded).</summary>
    public const int Size = 4;

    /// <summary><c>rtgen_family</c>.</summary>
    public byte Family;

    /// <summary>Padding.</summary>
    public byte Pad1;

    /// <summary>Padding.</summary>
    public ushort Pad2;
}

/// <summary><c>struct genlmsghdr</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GenlMsgHdr
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 4;

    /// <summary><c>cmd</c>.</summary>
    public byte Command;

    /// <summary><c>version</c>.</summary>
    public byte Version;

    /// <summary>Reserved.</summary>
    public ushort Reserved;
}
