using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Protocol;

namespace Aether.WireGuard.Kernel;

/// <summary>One allowed IP (a nest inside <c>WGPEER_A_ALLOWEDIPS</c>): <c>WGALLOWEDIP_A_FAMILY</c>,
/// <c>WGALLOWEDIP_A_IPADDR</c> and <c>WGALLOWEDIP_A_CIDR_MASK</c>.</summary>
internal static class WgAllowedIp
{
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>Bytes one allowed IP takes in a message.</summary>
    public static int SizeOf(IPPrefix prefix) => 4 + 8 + (prefix.Family == AddressFamily.InterNetwork ? 8 : 20) + 8;

    /// <summary>Writes the nest. Like the kernel and wg(8), every element of the list is nest type 0.</summary>
    public static void Write(ref NetlinkWriter writer, IPPrefix prefix)
    {
        var nest = writer.BeginNested(NetlinkWriter.NestedFlag);
        writer.WriteU16(WgAllowedIpAttr.Family, prefix.Family == AddressFamily.InterNetwork ? AfInet : AfInet6);
        writer.WriteNetwork(WgAllowedIpAttr.IpAddr, prefix.Address, prefix.PrefixLength);
        writer.WriteU8(WgAllowedIpAttr.CidrMask, (byte)prefix.PrefixLength);
        writer.EndNested(nest);
    }

    /// <summary>Reads one nest.</summary>
    /// <exception cref="NetlinkParseException">A missing field, an address of the wrong length for its family, a mask
    /// longer than the address.</exception>
    public static IPPrefix Read(NetlinkAttribute nest)
    {
        ushort family = 0;
        IPAddress? address = null;
        int? mask = null;
        foreach (var attr in nest.GetNested())
        {
            switch (attr.Type)
            {
                case WgAllowedIpAttr.Family: family = attr.GetU16(); break;
                case WgAllowedIpAttr.IpAddr: address = attr.GetAddress(); break;
                case WgAllowedIpAttr.CidrMask: mask = attr.GetU8(); break;
            }
        }

        var expected = family switch
        {
            AfInet => AddressFamily.InterNetwork,
            AfInet6 => AddressFamily.InterNetworkV6,
            _ => throw new NetlinkParseException($"WireGuard allowed IP: family {family}"),
        };
        if (address is null || mask is null || address.AddressFamily != expected || mask > (expected == AddressFamily.InterNetwork ? 32 : 128))
        {
            throw new NetlinkParseException($"WireGuard allowed IP: family {family}, address {address?.ToString() ?? "missing"}, mask {mask?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}");
        }

        return new IPPrefix(address, mask.Value);
    }
}
