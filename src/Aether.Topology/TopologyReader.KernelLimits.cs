using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Rtnl;

namespace Aether.Topology;

/// <summary>Values the kernel would refuse only once apply reached them, after earlier stages had changed things:
/// caught here instead, each at its own line. What only the kernel can know (a gateway reachable through links the
/// file does not declare, a sysctl's range, a parent's real MTU) is left to it, and apply rolls back what it created
/// when the kernel refuses.</summary>
internal sealed partial class TopologyReader
{
    /// <summary>IPv6 below this MTU is switched off on the link, and an IPv6 address on it refused (RFC 8200).</summary>
    private const int IPv6MinimumMtu = 1280;

    /// <summary>The MTU a link has when the file gives none (what veth, bridge and macvlan start with).</summary>
    private const int DefaultMtu = 1500;

    /// <summary>Why <paramref name="ip"/> cannot be an interface's address (the address stage would refuse it after
    /// the links were made), or null.</summary>
    private static string? NotAnInterfaceAddress(IPAddress ip)
    {
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0)
        {
            return "carries a scope id (the link gives the scope)";
        }

        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        {
            return "is the unspecified address, which is not an interface address";
        }

        if (ip.IsIPv6Multicast || (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes()[0] is >= 224 and <= 239))
        {
            return "is a multicast address, which is not an interface address";
        }

        return ip.Equals(IPAddress.Broadcast) ? "is the broadcast address, which is not an interface address" : null;
    }

    private void CheckKernelLimits()
    {
        Dictionary<(string Namespace, string Name), LinkDraft>? mtuHolders = null; // made for the first macvlan with an MTU
        foreach (var link in _links)
        {
            // IPv6 needs 1280: the kernel disables it on a smaller MTU (both ends of a veth get the MTU).
            if (link.Mtu is { } mtu && mtu < IPv6MinimumMtu)
            {
                foreach (var (prefix, path) in link.Addresses.Concat(link.Peer?.Addresses ?? []).Where(a => a.Prefix.Family == AddressFamily.InterNetworkV6))
                {
                    _errors.Add(path, string.Create(CultureInfo.InvariantCulture, $"{prefix} is IPv6, which needs an MTU of at least {IPv6MinimumMtu}, and {link.Path}.mtu is {mtu} (the kernel disables IPv6 below {IPv6MinimumMtu})"));
                }
            }

            if (link.Kind == TopologyLinkKind.Vxlan && link.Remote is { } remote && IsMulticast(remote) && link.Parent is null)
            {
                _errors.Add(link.Path + ".remote", $"{remote} is a multicast group, which needs parent (the underlay device to join it on)");
            }

            if (link.Kind == TopologyLinkKind.Macvlan && link.Parent is { } parent && link.Mtu is { } own
                && (mtuHolders ??= MtuHolders()).TryGetValue((link.Namespace ?? "", parent), out var lower) && own > (lower.Mtu ?? DefaultMtu))
            {
                _errors.Add(link.Path + ".mtu", string.Create(CultureInfo.InvariantCulture, $"{own} is larger than its parent {parent}'s MTU {lower.Mtu ?? DefaultMtu} ({lower.Path}, {_errors.LineOf(lower.Path + ".name")}); a macvlan's MTU is at most its parent's"));
            }
        }

        // Two VXLAN devices whose tunnels run in one namespace (their own, or their underlay: where their sockets are)
        // with the same VNI, port and parent: the kernel refuses the second (EEXIST), wherever the devices live.
        var vxlans = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var link in _links.Where(l => l.Kind == TopologyLinkKind.Vxlan && l.Vni is not null))
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{link.TunnelNamespace}/{link.Vni}/{link.Port}/{link.Parent}/{link.Remote?.AddressFamily}");
            if (!vxlans.TryAdd(key, link.Path + ".vni"))
            {
                var first = vxlans[key];
                var where = Where(link.TunnelNamespace.Length == 0 ? null : link.TunnelNamespace);
                _errors.Add(link.Path + ".vni", string.Create(CultureInfo.InvariantCulture, $"VNI {link.Vni} is already used in {where} by {first} ({_errors.LineOf(first)}) with the same port and parent; the kernel allows one such device per namespace that carries tunnels"));
            }
        }
    }

    /// <summary>For each device the file names, in namespace ("": the host) and by name, the first link that is it
    /// or whose veth peer is it: its MTU is that link's.</summary>
    private Dictionary<(string Namespace, string Name), LinkDraft> MtuHolders()
    {
        var holders = new Dictionary<(string Namespace, string Name), LinkDraft>(_links.Count * 2);
        foreach (var link in _links)
        {
            if (link.Name is { } name)
            {
                holders.TryAdd((link.Namespace ?? "", name), link);
            }

            if (link.Peer is { Name: { } peerName } peer)
            {
                holders.TryAdd((peer.Namespace ?? link.Namespace ?? "", peerName), link);
            }
        }

        return holders;
    }

    private static bool IsMulticast(IPAddress ip) =>
        ip.IsIPv6Multicast || (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes()[0] is >= 224 and <= 239);
}
