using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;

namespace Aether.WireGuard.Kernel;

/// <summary><c>WGPEER_A_ENDPOINT</c>: a <c>struct sockaddr_in</c> (16 bytes) or <c>struct sockaddr_in6</c> (28 bytes),
/// family in host order, port and address in network order, the IPv6 scope id in host order.</summary>
internal static class WgEndpoint
{
    public const int Inet4Size = 16;
    public const int Inet6Size = 28;
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    public static int SizeOf(IPEndPoint endpoint) => endpoint.AddressFamily == AddressFamily.InterNetwork ? Inet4Size : Inet6Size;

    public static void Write(Span<byte> sockaddr, IPEndPoint endpoint)
    {
        sockaddr.Clear();
        if (endpoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], (ushort)endpoint.Port);
            endpoint.Address.TryWriteBytes(sockaddr[4..8], out _);
            return;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, AfInet6);
        BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], (ushort)endpoint.Port);
        endpoint.Address.TryWriteBytes(sockaddr[8..24], out _); // after sin6_flowinfo
        BinaryPrimitives.WriteUInt32LittleEndian(sockaddr[24..], (uint)endpoint.Address.ScopeId);
    }

    /// <summary>The endpoint, or null for an unset one (family 0, as the kernel reports a peer with none).</summary>
    /// <exception cref="NetlinkParseException">Too short for its family, or an unknown family.</exception>
    public static IPEndPoint? Read(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 2)
        {
            throw new NetlinkParseException($"WireGuard endpoint: {sockaddr.Length} bytes is not a sockaddr");
        }

        var family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        switch (family)
        {
            case 0:
                return null;
            case AfInet when sockaddr.Length >= Inet4Size:
                return new IPEndPoint(new IPAddress(sockaddr[4..8]), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
            case AfInet6 when sockaddr.Length >= Inet6Size:
                var address = new IPAddress(sockaddr[8..24], BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..]));
                return new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
            default:
                throw new NetlinkParseException($"WireGuard endpoint: family {family} in {sockaddr.Length} bytes");
        }
    }
}
