using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>A route (<c>RTM_NEWROUTE</c>), as reported or as wanted.</summary>
public sealed record Route
{
    /// <summary><c>RT_TABLE_MAIN</c>.</summary>
    public const uint MainTable = 254;

    /// <summary><c>RTPROT_BOOT</c>: what <c>ip route add</c> uses.</summary>
    public const byte ProtocolBoot = 3;

    /// <summary><c>RTPROT_STATIC</c>.</summary>
    public const byte ProtocolStatic = 4;

    /// <summary><c>RTN_UNICAST</c>.</summary>
    public const byte TypeUnicast = 1;

    /// <summary><c>RTNH_F_ONLINK</c>.</summary>
    public const uint FlagOnLink = 4;

    /// <summary>The address family.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>The destination; null is the default route.</summary>
    public IPPrefix? Destination { get; init; }

    /// <summary>The next-hop gateway.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>The output ifindex.</summary>
    public int? OutputIndex { get; init; }

    /// <summary>The preferred source address.</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary>The table (from <c>RTA_TABLE</c>, which carries ids above 255).</summary>
    public uint Table { get; init; } = MainTable;

    /// <summary>The metric (<c>RTA_PRIORITY</c>).</summary>
    public uint? Metric { get; init; }

    /// <summary>Who installed it (<c>RTPROT_*</c>); Aether marks its own routes with its protocol number.</summary>
    public byte Protocol { get; init; } = ProtocolBoot;

    /// <summary>The scope; for a wanted route, null picks link scope without a gateway and universe with one.</summary>
    public Scope? Scope { get; init; }

    /// <summary>The route type (<c>RTN_*</c>).</summary>
    public byte Type { get; init; } = TypeUnicast;

    /// <summary>The gateway is reachable on the link without a covering route (<c>RTNH_F_ONLINK</c>).</summary>
    public bool OnLink { get; init; }

    /// <summary>Whether this is a default route.</summary>
    public bool IsDefault => Destination is null || Destination.Value.PrefixLength == 0;

    /// <summary>Decodes an <c>RTM_NEWROUTE</c>/<c>RTM_DELROUTE</c> message.</summary>
    public static bool TryParse(in NetlinkMessage message, out Route route)
    {
        var head = message.ReadStruct<RtMsg>();
        IPAddress? dst = null, gateway = null, source = null;
        int? oif = null;
        uint? metric = null;
        uint table = head.Table;
        foreach (var attr in message.Attributes(RtMsg.Size))
        {
            switch (attr.Type)
            {
                case Rta.Destination: dst = attr.GetAddress(); break;
                case Rta.Gateway: gateway = attr.GetAddress(); break;
                case Rta.OutputInterface: oif = (int)attr.GetU32(); break;
                case Rta.Priority: metric = attr.GetU32(); break;
                case Rta.PreferredSource: source = attr.GetAddress(); break;
                case Rta.Table: table = attr.GetU32(); break;
            }
        }

        var family = head.Family == AddressFamilies.Inet6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        route = new Route
        {
            Family = family,
            Destination = dst is null ? null : new IPPrefix(dst, Math.Min((int)head.DestinationLength, dst.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)),
            Gateway = gateway,
            OutputIndex = oif,
            PreferredSource = source,
            Table = table,
            Metric = metric,
            Protocol = head.Protocol,
            Scope = (Scope)head.Scope,
            Type = head.Type,
            OnLink = (head.Flags & FlagOnLink) != 0,
        };
        return true;
    }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"route family {Family} is neither IPv4 nor IPv6", nameof(Family));
        }

        if (Destination is { } dst && dst.Family != Family)
        {
            throw new ArgumentException($"destination {dst} is not {Family}", nameof(Destination));
        }

        if (Gateway is not null && Gateway.AddressFamily != Family)
        {
            throw new ArgumentException($"gateway {Gateway} is not {Family}", nameof(Gateway));
        }

        if (Gateway is null && OutputIndex is null)
        {
            throw new ArgumentException($"route to {Destination?.ToString() ?? "default"} needs a gateway or an output device", nameof(Gateway));
        }

        if (OutputIndex is <= 0)
        {
            throw new ArgumentException($"invalid output ifindex {OutputIndex}", nameof(OutputIndex));
        }

        if (OnLink && Gateway is null)
        {
            throw new ArgumentException("an on-link route needs a gateway", nameof(OnLink));
        }

        if (Table == 0)
        {
            throw new ArgumentException("route table 0 is not a table", nameof(Table));
        }
    }

    /// <summary>Writes <c>RTM_NEWROUTE</c> or <c>RTM_DELROUTE</c> for this route.</summary>
    internal static void Write(ref NetlinkWriter writer, ushort type, ushort flags, Route route, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(type, (ushort)(NlmsgFlags.Request | NlmsgFlags.Ack | flags), sequence, portId);
        var scope = route.Scope ?? (route.Gateway is null && type == RtmType.NewRoute ? Rtnl.Scope.Link : Rtnl.Scope.Universe);
        writer.WriteStruct(new RtMsg
        {
            Family = route.Family == AddressFamily.InterNetworkV6 ? AddressFamilies.Inet6 : AddressFamilies.Inet,
            DestinationLength = (byte)(route.Destination?.PrefixLength ?? 0),
            Table = route.Table < 256 ? (byte)route.Table : (byte)252 /* RT_TABLE_COMPAT */,
            Protocol = type == RtmType.DelRoute ? (byte)0 : route.Protocol,
            Scope = type == RtmType.DelRoute ? (byte)Rtnl.Scope.Nowhere : (byte)scope,
            Type = route.Type,
            Flags = route.OnLink ? FlagOnLink : 0,
        });
        writer.WriteU32(Rta.Table, route.Table);
        if (route.Destination is { } dst)
        {
            writer.WriteNetwork(Rta.Destination, dst.Address, dst.PrefixLength);
        }

        if (route.Gateway is not null)
        {
            writer.WriteAddress(Rta.Gateway, route.Gateway);
        }

        if (route.OutputIndex is int oif)
        {
            writer.WriteU32(Rta.OutputInterface, (uint)oif);
        }

        if (route.Metric is uint metric)
        {
            writer.WriteU32(Rta.Priority, metric);
        }

        if (route.PreferredSource is not null)
        {
            writer.WriteAddress(Rta.PreferredSource, route.PreferredSource);
        }

        writer.EndMessage(msg);
    }

    /// <summary>Writes an <c>RTM_GETROUTE</c> dump; with strict checking the kernel filters by table and output device.</summary>
    internal static void WriteDump(ref NetlinkWriter writer, RouteFilter filter, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetRoute, NlmsgFlags.Request | NlmsgFlags.Dump, sequence, portId);
        writer.WriteStruct(new RtMsg
        {
            Family = filter.Family switch
            {
                AddressFamily.InterNetwork => AddressFamilies.Inet,
                AddressFamily.InterNetworkV6 => AddressFamilies.Inet6,
                _ => AddressFamilies.Unspec,
            },
            Table = filter.Table is uint t && t < 256 ? (byte)t : (byte)0,
            Protocol = filter.Protocol ?? 0,
        });
        if (filter.Table is uint table)
        {
            writer.WriteU32(Rta.Table, table);
        }

        if (filter.OutputIndex is int oif)
        {
            writer.WriteU32(Rta.OutputInterface, (uint)oif);
        }

        writer.EndMessage(msg);
    }
}

/// <summary>Which routes a dump returns; the kernel applies the filter (strict checking).</summary>
public sealed record RouteFilter
{
    /// <summary>Every route of both families in every table.</summary>
    public static RouteFilter All { get; } = new();

    /// <summary>One family, or <see cref="AddressFamily.Unspecified"/> for both.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.Unspecified;

    /// <summary>One table, or every table.</summary>
    public uint? Table { get; init; }

    /// <summary>One output device, or any.</summary>
    public int? OutputIndex { get; init; }

    /// <summary>Only routes of this protocol (<c>rtm_protocol</c>; the kernel filters on it in strict mode), or any.</summary>
    public byte? Protocol { get; init; }
}
