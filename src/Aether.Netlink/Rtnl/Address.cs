using System.Net;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Address scopes (<c>RT_SCOPE_*</c>), shared by addresses and routes.</summary>
public enum Scope : byte
{
    /// <summary><c>RT_SCOPE_UNIVERSE</c>.</summary>
    Universe = 0,

    /// <summary><c>RT_SCOPE_SITE</c>.</summary>
    Site = 200,

    /// <summary><c>RT_SCOPE_LINK</c>.</summary>
    Link = 253,

    /// <summary><c>RT_SCOPE_HOST</c>.</summary>
    Host = 254,

    /// <summary><c>RT_SCOPE_NOWHERE</c>.</summary>
    Nowhere = 255,
}

/// <summary>An interface address (<c>RTM_NEWADDR</c>).</summary>
public sealed record Address
{
    /// <summary>The ifindex it is on.</summary>
    public required int Index { get; init; }

    /// <summary>The local address and prefix length (<c>IFA_LOCAL</c>, or <c>IFA_ADDRESS</c> when there is no local).</summary>
    public required IPPrefix Prefix { get; init; }

    /// <summary>The peer on a point-to-point address (<c>IFA_ADDRESS</c> when it differs from the local one).</summary>
    public IPAddress? Peer { get; init; }

    /// <summary>The broadcast address.</summary>
    public IPAddress? Broadcast { get; init; }

    /// <summary>The label (IPv4).</summary>
    public string? Label { get; init; }

    /// <summary>The scope.</summary>
    public Scope Scope { get; init; }

    /// <summary>The flags (<c>IFA_F_*</c>, 32 bits from <c>IFA_FLAGS</c> when present).</summary>
    public uint Flags { get; init; }

    /// <summary>Decodes an <c>RTM_NEWADDR</c>/<c>RTM_DELADDR</c> message.</summary>
    public static bool TryParse(in NetlinkMessage message, out Address address)
    {
        var head = message.ReadStruct<IfAddrMsg>();
        IPAddress? local = null, peer = null, broadcast = null;
        string? label = null;
        uint flags = head.Flags;
        foreach (var attr in message.Attributes(IfAddrMsg.Size))
        {
            switch (attr.Type)
            {
                case Ifa.Local: local = attr.GetAddress(); break;
                case Ifa.Address: peer = attr.GetAddress(); break;
                case Ifa.Broadcast: broadcast = attr.GetAddress(); break;
                case Ifa.Label: label = attr.GetString(); break;
                case Ifa.Flags: flags = attr.GetU32(); break;
            }
        }

        var main = local ?? peer;
        if (main is null)
        {
            throw new NetlinkParseException("RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS");
        }

        address = new Address
        {
            Index = head.Index,
            Prefix = new IPPrefix(main, Math.Min((int)head.PrefixLength, main.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)),
            Peer = local is not null && peer is not null && !peer.Equals(local) ? peer : null,
            Broadcast = broadcast,
            Label = label,
            Scope = (Scope)head.Scope,
            Flags = flags,
        };
        return true;
    }

    /// <summary>Writes <c>RTM_NEWADDR</c> (create, or replace) or <c>RTM_DELADDR</c>.</summary>
    internal static void Write(ref NetlinkWriter writer, ushort type, ushort flags, AddressSpec spec, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(type, (ushort)(NlmsgFlags.Request | NlmsgFlags.Ack | flags), sequence, portId);
        writer.WriteStruct(new IfAddrMsg
        {
            Family = spec.Prefix.FamilyByte,
            PrefixLength = (byte)spec.Prefix.PrefixLength,
            Scope = (byte)spec.Scope,
            Index = spec.Index,
        });
        writer.WriteAddress(Ifa.Local, spec.Prefix.Address);
        writer.WriteAddress(Ifa.Address, spec.Peer ?? spec.Prefix.Address);
        if (spec.Broadcast is not null)
        {
            writer.WriteAddress(Ifa.Broadcast, spec.Broadcast);
        }

        if (spec.Label is not null)
        {
            writer.WriteString(Ifa.Label, spec.Label);
        }

        writer.EndMessage(msg);
    }

    /// <summary>Writes an <c>RTM_GETADDR</c> dump, filtered by family and (with strict checking) ifindex in the kernel.</summary>
    internal static void WriteDump(ref NetlinkWriter writer, byte family, int index, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetAddr, NlmsgFlags.Request | NlmsgFlags.Dump, sequence, portId);
        writer.WriteStruct(new IfAddrMsg { Family = family, Index = index });
        writer.EndMessage(msg);
    }
}

/// <summary>An address to add, replace or delete.</summary>
/// <param name="Index">The ifindex.</param>
/// <param name="Prefix">The address and prefix length (<c>10.0.0.1/30</c>).</param>
public sealed record AddressSpec(int Index, IPPrefix Prefix)
{
    /// <summary>The peer of a point-to-point address.</summary>
    public IPAddress? Peer { get; init; }

    /// <summary>The broadcast address (IPv4).</summary>
    public IPAddress? Broadcast { get; init; }

    /// <summary>The label (IPv4; must start with the interface name).</summary>
    public string? Label { get; init; }

    /// <summary>The scope.</summary>
    public Scope Scope { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Index <= 0)
        {
            throw new ArgumentException($"invalid ifindex {Index} for address {Prefix}", nameof(Index));
        }

        if (Prefix.Address is null)
        {
            throw new ArgumentException("address has no prefix", nameof(Prefix));
        }

        if (Peer is not null && Peer.AddressFamily != Prefix.Family)
        {
            throw new ArgumentException($"peer {Peer} is not of the family of {Prefix}", nameof(Peer));
        }

        if (Label is not null && System.Text.Encoding.UTF8.GetByteCount(Label) > InterfaceName.MaxLength)
        {
            throw new ArgumentException($"label '{Label}' is over {InterfaceName.MaxLength} bytes", nameof(Label));
        }
    }
}
