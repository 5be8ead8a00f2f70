namespace Aether.Netlink.Rtnl;

/// <summary>rtnetlink message types (<c>RTM_*</c>).</summary>
public static class RtmType
{
    /// <summary><c>RTM_NEWLINK</c>.</summary>
    public const ushort NewLink = 16;

    /// <summary><c>RTM_DELLINK</c>.</summary>
    public const ushort DelLink = 17;

    /// <summary><c>RTM_GETLINK</c>.</summary>
    public const ushort GetLink = 18;

    /// <summary><c>RTM_NEWADDR</c>.</summary>
    public const ushort NewAddr = 20;

    /// <summary><c>RTM_DELADDR</c>.</summary>
    public const ushort DelAddr = 21;

    /// <summary><c>RTM_GETADDR</c>.</summary>
    public const ushort GetAddr = 22;

    /// <summary><c>RTM_NEWROUTE</c>.</summary>
    public const ushort NewRoute = 24;

    /// <summary><c>RTM_DELROUTE</c>.</summary>
    public const ushort DelRoute = 25;

    /// <summary><c>RTM_GETROUTE</c>.</summary>
    public const ushort GetRoute = 26;

    /// <summary><c>RTM_NEWNEIGH</c>.</summary>
    public const ushort NewNeigh = 28;

    /// <summary><c>RTM_DELNEIGH</c>.</summary>
    public const ushort DelNeigh = 29;

    /// <summary><c>RTM_GETNEIGH</c>.</summary>
    public const ushort GetNeigh = 30;

    /// <summary><c>RTM_NEWNSID</c>.</summary>
    public const ushort NewNsId = 88;

    /// <summary><c>RTM_DELNSID</c>.</summary>
    public const ushort DelNsId = 89;

    /// <summary><c>RTM_GETNSID</c>.</summary>
    public const ushort GetNsId = 90;
}

/// <summary>rtnetlink multicast groups (<c>RTNLGRP_*</c>).</summary>
public static class RtnlGroup
{
    /// <summary><c>RTNLGRP_LINK</c>.</summary>
    public const uint Link = 1;

    /// <summary><c>RTNLGRP_NEIGH</c>.</summary>
    public const uint Neigh = 3;

    /// <summary><c>RTNLGRP_IPV4_IFADDR</c>.</summary>
    public const uint IPv4Address = 5;

    /// <summary><c>RTNLGRP_IPV4_ROUTE</c>.</summary>
    public const uint IPv4Route = 7;

    /// <summary><c>RTNLGRP_IPV6_IFADDR</c>.</summary>
    public const uint IPv6Address = 9;

    /// <summary><c>RTNLGRP_IPV6_ROUTE</c>.</summary>
    public const uint IPv6Route = 11;

    /// <summary><c>RTNLGRP_NSID</c>.</summary>
    public const uint NsId = 28;
}

/// <summary>Link attributes (<c>IFLA_*</c>).</summary>
public static class Ifla
{
    /// <summary><c>IFLA_ADDRESS</c>.</summary>
    public const ushort Address = 1;

    /// <summary><c>IFLA_BROADCAST</c>.</summary>
    public const ushort Broadcast = 2;

    /// <summary><c>IFLA_IFNAME</c>.</summary>
    public const ushort IfName = 3;

    /// <summary><c>IFLA_MTU</c>.</summary>
    public const ushort Mtu = 4;

    /// <summary><c>IFLA_LINK</c>: the peer (veth) or parent (macvlan) ifindex.</summary>
    public const ushort Link = 5;

    /// <summary><c>IFLA_MASTER</c>.</summary>
    public const ushort Master = 10;

    /// <summary><c>IFLA_TXQLEN</c>.</summary>
    public const ushort TxQueueLength = 13;

    /// <summary><c>IFLA_OPERSTATE</c>.</summary>
    public const ushort OperState = 16;

    /// <summary><c>IFLA_LINKINFO</c>.</summary>
    public const ushort LinkInfo = 18;

    /// <summary><c>IFLA_IFALIAS</c>.</summary>
    public const ushort Alias = 20;

    /// <summary><c>IFLA_NET_NS_FD</c>.</summary>
    public const ushort NetNsFd = 28;

    /// <summary><c>IFLA_EXT_MASK</c>.</summary>
    public const ushort ExtMask = 29;

    /// <summary><c>IFLA_CARRIER</c>.</summary>
    public const ushort Carrier = 33;

    /// <summary><c>IFLA_LINK_NETNSID</c>: the namespace (by nsid) where IFLA_LINK lives.</summary>
    public const ushort LinkNetNsId = 37;

    /// <summary><c>IFLA_PROP_LIST</c>.</summary>
    public const ushort PropList = 52;

    /// <summary><c>IFLA_ALT_IFNAME</c>.</summary>
    public const ushort AltName = 53;

    /// <summary><c>IFLA_INFO_KIND</c> (inside IFLA_LINKINFO).</summary>
    public const ushort InfoKind = 1;

    /// <summary><c>IFLA_INFO_DATA</c> (inside IFLA_LINKINFO).</summary>
    public const ushort InfoData = 2;

    /// <summary><c>IFLA_INFO_SLAVE_KIND</c> (inside IFLA_LINKINFO).</summary>
    public const ushort InfoSlaveKind = 4;
}

/// <summary>Address attributes (<c>IFA_*</c>).</summary>
public static class Ifa
{
    /// <summary><c>IFA_ADDRESS</c>: the peer address on point-to-point links, else the local one.</summary>
    public const ushort Address = 1;

    /// <summary><c>IFA_LOCAL</c>.</summary>
    public const ushort Local = 2;

    /// <summary><c>IFA_LABEL</c>.</summary>
    public const ushort Label = 3;

    /// <summary><c>IFA_BROADCAST</c>.</summary>
    public const ushort Broadcast = 4;

    /// <summary><c>IFA_FLAGS</c>: 32-bit flags.</summary>
    public const ushort Flags = 8;
}

/// <summary>Route attributes (<c>RTA_*</c>).</summary>
public static class Rta
{
    /// <summary><c>RTA_DST</c>.</summary>
    public const ushort Destination = 1;

    /// <summary><c>RTA_OIF</c>.</summary>
    public const ushort OutputInterface = 4;

    /// <summary><c>RTA_GATEWAY</c>.</summary>
    public const ushort Gateway = 5;

    /// <summary><c>RTA_PRIORITY</c>: the metric.</summary>
    public const ushort Priority = 6;

    /// <summary><c>RTA_PREFSRC</c>.</summary>
    public const ushort PreferredSource = 7;

    /// <summary><c>RTA_TABLE</c>.</summary>
    public const ushort Table = 15;
}

/// <summary>Neighbour attributes (<c>NDA_*</c>).</summary>
public static class Nda
{
    /// <summary><c>NDA_DST</c>.</summary>
    public const ushort Destination = 1;

    /// <summary><c>NDA_LLADDR</c>.</summary>
    public const ushort LinkLayerAddress = 2;
}

/// <summary>Namespace-id attributes (<c>NETNSA_*</c>).</summary>
public static class Netnsa
{
    /// <summary><c>NETNSA_NSID</c>.</summary>
    public const ushort NsId = 1;

    /// <summary><c>NETNSA_PID</c>.</summary>
    public const ushort Pid = 2;

    /// <summary><c>NETNSA_FD</c>.</summary>
    public const ushort Fd = 3;
}

/// <summary>Interface flags (<c>IFF_*</c>).</summary>
public static class Iff
{
    /// <summary><c>IFF_UP</c>.</summary>
    public const uint Up = 0x1;

    /// <summary><c>IFF_LOOPBACK</c>.</summary>
    public const uint Loopback = 0x8;

    /// <summary><c>IFF_LOWER_UP</c>.</summary>
    public const uint LowerUp = 0x10000;
}

/// <summary>Address families used in rtnetlink headers.</summary>
public static class AddressFamilies
{
    /// <summary><c>AF_UNSPEC</c>.</summary>
    public const byte Unspec = 0;

    /// <summary><c>AF_INET</c>.</summary>
    public const byte Inet = 2;

    /// <summary><c>AF_INET6</c>.</summary>
    public const byte Inet6 = 10;
}
