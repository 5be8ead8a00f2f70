namespace Aether.WireGuard.Kernel;

/// <summary>The WireGuard generic netlink family (<c>include/uapi/linux/wireguard.h</c>).</summary>
internal static class WgGenl
{
    /// <summary><c>WG_GENL_NAME</c>.</summary>
    public const string Name = "wireguard";

    /// <summary><c>WG_GENL_VERSION</c>.</summary>
    public const byte Version = 1;

    /// <summary><c>WG_CMD_GET_DEVICE</c>: dump only.</summary>
    public const byte CmdGetDevice = 0;

    /// <summary><c>WG_CMD_SET_DEVICE</c>.</summary>
    public const byte CmdSetDevice = 1;
}

/// <summary><c>enum wgdevice_attribute</c>.</summary>
internal static class WgDeviceAttr
{
    /// <summary><c>WGDEVICE_A_IFINDEX</c>: u32.</summary>
    public const ushort IfIndex = 1;

    /// <summary><c>WGDEVICE_A_IFNAME</c>: NUL-terminated string.</summary>
    public const ushort IfName = 2;

    /// <summary><c>WGDEVICE_A_PRIVATE_KEY</c>: 32 bytes.</summary>
    public const ushort PrivateKey = 3;

    /// <summary><c>WGDEVICE_A_PUBLIC_KEY</c>: 32 bytes.</summary>
    public const ushort PublicKey = 4;

    /// <summary><c>WGDEVICE_A_FLAGS</c>: u32.</summary>
    public const ushort Flags = 5;

    /// <summary><c>WGDEVICE_A_LISTEN_PORT</c>: u16, host order.</summary>
    public const ushort ListenPort = 6;

    /// <summary><c>WGDEVICE_A_FWMARK</c>: u32.</summary>
    public const ushort FwMark = 7;

    /// <summary><c>WGDEVICE_A_PEERS</c>: nested, one nest per peer.</summary>
    public const ushort Peers = 8;

    /// <summary><c>WGDEVICE_F_REPLACE_PEERS</c>.</summary>
    public const uint FlagReplacePeers = 1;
}

/// <summary><c>enum wgpeer_attribute</c>.</summary>
internal static class WgPeerAttr
{
    /// <summary><c>WGPEER_A_PUBLIC_KEY</c>: 32 bytes.</summary>
    public const ushort PublicKey = 1;

    /// <summary><c>WGPEER_A_PRESHARED_KEY</c>: 32 bytes.</summary>
    public const ushort PresharedKey = 2;

    /// <summary><c>WGPEER_A_FLAGS</c>: u32.</summary>
    public const ushort Flags = 3;

    /// <summary><c>WGPEER_A_ENDPOINT</c>: <c>struct sockaddr_in</c> or <c>sockaddr_in6</c>.</summary>
    public const ushort Endpoint = 4;

    /// <summary><c>WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL</c>: u16 seconds.</summary>
    public const ushort PersistentKeepaliveInterval = 5;

    /// <summary><c>WGPEER_A_LAST_HANDSHAKE_TIME</c>: <c>struct __kernel_timespec</c> (s64 seconds, s64 nanoseconds).</summary>
    public const ushort LastHandshakeTime = 6;

    /// <summary><c>WGPEER_A_RX_BYTES</c>: u64.</summary>
    public const ushort RxBytes = 7;

    /// <summary><c>WGPEER_A_TX_BYTES</c>: u64.</summary>
    public const ushort TxBytes = 8;

    /// <summary><c>WGPEER_A_ALLOWEDIPS</c>: nested, one nest per allowed IP.</summary>
    public const ushort AllowedIps = 9;

    /// <summary><c>WGPEER_A_PROTOCOL_VERSION</c>: u32.</summary>
    public const ushort ProtocolVersion = 10;

    /// <summary><c>WGPEER_F_REMOVE_ME</c>.</summary>
    public const uint FlagRemoveMe = 1;

    /// <summary><c>WGPEER_F_REPLACE_ALLOWEDIPS</c>.</summary>
    public const uint FlagReplaceAllowedIps = 2;

    /// <summary><c>WGPEER_F_UPDATE_ONLY</c>.</summary>
    public const uint FlagUpdateOnly = 4;
}

/// <summary><c>enum wgallowedip_attribute</c>.</summary>
internal static class WgAllowedIpAttr
{
    /// <summary><c>WGALLOWEDIP_A_FAMILY</c>: u16 (<c>AF_INET</c>, <c>AF_INET6</c>).</summary>
    public const ushort Family = 1;

    /// <summary><c>WGALLOWEDIP_A_IPADDR</c>: <c>struct in_addr</c> or <c>struct in6_addr</c>.</summary>
    public const ushort IpAddr = 2;

    /// <summary><c>WGALLOWEDIP_A_CIDR_MASK</c>: u8.</summary>
    public const ushort CidrMask = 3;
}
