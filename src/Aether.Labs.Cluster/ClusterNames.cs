using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Aether.Labs.Cluster;

/// <summary>The checks every operation makes on its input before it writes; each failure names the field.</summary>
internal static class ClusterNames
{
    /// <summary>The longest link id (as the lab store's link key).</summary>
    public const int MaxLinkIdLength = 255;

    public static void Lab(string? lab)
    {
        if (!LabNames.IsLabName(lab, out var why))
        {
            throw new ArgumentException($"lab '{lab}': {why}", nameof(lab));
        }
    }

    public static void Node(string? node, string field = "node")
    {
        if (!LabNames.IsNodeName(node, out var why))
        {
            throw new ArgumentException($"{field} '{node}': {why}", field);
        }
    }

    public static void Host(HostId host, string field = "host id")
    {
        if (host.Value is null)
        {
            throw new ArgumentException($"{field}: empty (1 to 32 of a-z, 0-9, '_' and '-')", field);
        }
    }

    public static void LinkId(string? linkId, string field = "link id")
    {
        var why = linkId switch
        {
            null or "" => "empty",
            _ when linkId.Length > MaxLinkIdLength => string.Create(CultureInfo.InvariantCulture, $"{linkId.Length} characters, the limit is {MaxLinkIdLength}"),
            _ when linkId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) => "may not hold spaces or control characters",
            _ => null,
        };
        if (why is not null)
        {
            throw new ArgumentException($"{field} '{linkId}': {why}", field);
        }
    }

    /// <summary>An underlay address: a unicast IPv4 or IPv6 address another host can reach, so not unspecified,
    /// loopback, multicast, the IPv4 broadcast or an IPv6 link-local (which needs an interface to mean anything).</summary>
    public static void Underlay(IPAddress? address, string field = "underlay")
    {
        var why = address switch
        {
            null => "missing",
            _ when address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) => "not an IPv4 or IPv6 address",
            _ when address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) => "unspecified: a unicast address is needed",
            _ when IPAddress.IsLoopback(address) => "loopback: another host cannot reach it",
            _ when address.IsIPv6Multicast || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224 and <= 239) => "multicast: a unicast address is needed",
            _ when address.Equals(IPAddress.Broadcast) => "broadcast: a unicast address is needed",
            _ when address.IsIPv6LinkLocal => "IPv6 link-local: needs an interface, use a global or unique-local address",
            _ when address.IsIPv4MappedToIPv6 => "IPv4-mapped IPv6: write the IPv4 address",
            _ => null,
        };
        if (why is not null)
        {
            throw new ArgumentException($"{field} '{address}': {why}", field);
        }
    }

    public static void Timeout(TimeSpan timeout, string field = "timeout")
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(field, timeout, $"{field} {timeout}: must be positive");
        }
    }
}
