using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>A VXLAN tunnel endpoint (<c>vxlan</c>).</summary>
/// <param name="Id">The VXLAN network identifier, 0..16777215.</param>
public sealed record Vxlan(uint Id) : LinkKindData
{
    /// <summary><c>IFLA_VXLAN_ID</c>.</summary>
    public const ushort IdAttr = 1;

    /// <summary><c>IFLA_VXLAN_GROUP</c>: a multicast group or a unicast remote.</summary>
    public const ushort GroupAttr = 2;

    /// <summary><c>IFLA_VXLAN_LINK</c>: the underlay device.</summary>
    public const ushort LinkAttr = 3;

    /// <summary><c>IFLA_VXLAN_LOCAL</c>.</summary>
    public const ushort LocalAttr = 4;

    /// <summary><c>IFLA_VXLAN_TTL</c>.</summary>
    public const ushort TtlAttr = 5;

    /// <summary><c>IFLA_VXLAN_LEARNING</c>.</summary>
    public const ushort LearningAttr = 7;

    /// <summary><c>IFLA_VXLAN_PORT</c> (network order).</summary>
    public const ushort PortAttr = 15;

    /// <summary><c>IFLA_VXLAN_GROUP6</c>.</summary>
    public const ushort Group6Attr = 16;

    /// <summary><c>IFLA_VXLAN_LOCAL6</c>.</summary>
    public const ushort Local6Attr = 17;

    /// <inheritdoc/>
    public override string Kind => "vxlan";

    /// <summary>The local tunnel address.</summary>
    public IPAddress? Local { get; init; }

    /// <summary>A unicast remote endpoint (mutually exclusive with <see cref="Group"/>).</summary>
    public IPAddress? Remote { get; init; }

    /// <summary>A multicast group (mutually exclusive with <see cref="Remote"/>).</summary>
    public IPAddress? Group { get; init; }

    /// <summary>The UDP destination port; the kernel's default is 8472, IANA's is 4789.</summary>
    public ushort? Port { get; init; }

    /// <summary>The underlay device's ifindex.</summary>
    public int? UnderlayIndex { get; init; }

    /// <summary>Learn remote MACs from traffic.</summary>
    public bool? Learning { get; init; }

    /// <summary>The outer TTL.</summary>
    public byte? Ttl { get; init; }

    internal override void Validate()
    {
        if (Id > 0xFFFFFF)
        {
            throw new ArgumentException($"invalid VXLAN id {Id}: must be 0..16777215", nameof(Id));
        }

        if (Remote is not null && Group is not null)
        {
            throw new ArgumentException("a VXLAN link takes a remote or a group, not both", nameof(Remote));
        }

        if (Group is not null && !IsMulticast(Group))
        {
            throw new ArgumentException($"VXLAN group {Group} is not a multicast address", nameof(Group));
        }

        if (Remote is not null && IsMulticast(Remote))
        {
            throw new ArgumentException($"VXLAN remote {Remote} is a multicast address; use Group", nameof(Remote));
        }

        if (Group is not null && UnderlayIndex is null)
        {
            throw new ArgumentException("a multicast VXLAN group needs an underlay device", nameof(UnderlayIndex));
        }

        if (Port == 0)
        {
            throw new ArgumentException("invalid VXLAN port 0", nameof(Port));
        }
    }

    internal override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteU32(IdAttr, Id);
        if ((Remote ?? Group) is { } peer)
        {
            writer.WriteAddress(peer.AddressFamily == AddressFamily.InterNetwork ? GroupAttr : Group6Attr, peer);
        }

        if (Local is not null)
        {
            writer.WriteAddress(Local.AddressFamily == AddressFamily.InterNetwork ? LocalAttr : Local6Attr, Local);
        }

        if (UnderlayIndex is int link)
        {
            writer.WriteU32(LinkAttr, (uint)link);
        }

        if (Port is ushort port)
        {
            writer.WriteU16BigEndian(PortAttr, port);
        }

        if (Learning is bool learning)
        {
            writer.WriteU8(LearningAttr, learning ? (byte)1 : (byte)0);
        }

        if (Ttl is byte ttl)
        {
            writer.WriteU8(TtlAttr, ttl);
        }
    }

    internal static Vxlan Parse(ReadOnlySpan<byte> data)
    {
        uint id = 0;
        IPAddress? local = null, peer = null;
        ushort? port = null;
        int? link = null;
        bool? learning = null;
        byte? ttl = null;
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            switch (attr.Type)
            {
                case IdAttr: id = attr.GetU32(); break;
                case GroupAttr or Group6Attr: peer = attr.GetAddress(); break;
                case LocalAttr or Local6Attr: local = attr.GetAddress(); break;
                case LinkAttr: link = (int)attr.GetU32(); break;
                case PortAttr: port = attr.GetU16BigEndian(); break;
                case LearningAttr: learning = attr.GetU8() != 0; break;
                case TtlAttr: ttl = attr.GetU8(); break;
            }
        }

        var isGroup = peer is not null && IsMulticast(peer);
        return new Vxlan(id)
        {
            Local = local,
            Remote = isGroup ? null : peer,
            Group = isGroup ? peer : null,
            Port = port,
            UnderlayIndex = link,
            Learning = learning,
            Ttl = ttl,
        };
    }

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork
        ? (address.GetAddressBytes()[0] & 0xF0) == 0xE0
        : address.IsIPv6Multicast;
}
