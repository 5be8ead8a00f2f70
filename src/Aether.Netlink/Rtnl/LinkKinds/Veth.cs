using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>
/// A veth pair (<c>veth</c>). When creating, the peer is described inside <c>VETH_INFO_PEER</c> (its own
/// <c>ifinfomsg</c> and attributes) and may be created directly in another namespace. The kernel does not report
/// the peer in dumps: a veth's peer is read from <see cref="Link.LinkIndex"/> and <see cref="Link.LinkNetNsId"/>.
/// </summary>
/// <param name="PeerName">The peer's name; null lets the kernel pick <c>vethN</c>.</param>
public sealed record Veth(string? PeerName = null) : LinkKindData
{
    /// <summary><c>VETH_INFO_PEER</c>.</summary>
    public const ushort InfoPeer = 1;

    /// <inheritdoc/>
    public override string Kind => "veth";

    /// <summary>Create the peer inside this namespace (<c>IFLA_NET_NS_FD</c> in the peer's attributes).</summary>
    public NetworkNamespace? PeerNamespace { get; init; }

    /// <summary>The peer's MTU, or the kernel's default.</summary>
    public int? PeerMtu { get; init; }

    /// <summary>The peer's MAC address (<c>aa:bb:cc:dd:ee:ff</c>), or a random one.</summary>
    public string? PeerMacAddress { get; init; }

    internal override void Validate()
    {
        if (PeerName is not null)
        {
            InterfaceName.Validate(PeerName, nameof(PeerName));
        }

        if (PeerMtu is < 68 or > 65535)
        {
            throw new ArgumentException($"invalid peer MTU {PeerMtu}: must be 68..65535", nameof(PeerMtu));
        }

        if (PeerMacAddress is not null)
        {
            MacAddress.Parse(PeerMacAddress, nameof(PeerMacAddress));
        }
    }

    internal override void WriteData(ref NetlinkWriter writer)
    {
        var peer = writer.BeginNested(InfoPeer);
        // The peer cannot be created up: the kernel configures it before the pair is joined and veth_open
        // refuses with ENOTCONN. Bring it up afterwards through a handle in its namespace.
        writer.WriteStruct(default(IfInfoMsg));
        if (PeerName is not null)
        {
            writer.WriteString(Ifla.IfName, PeerName);
        }

        if (PeerNamespace is not null)
        {
            writer.WriteU32(Ifla.NetNsFd, (uint)PeerNamespace.Fd);
        }

        if (PeerMtu is int mtu)
        {
            writer.WriteU32(Ifla.Mtu, (uint)mtu);
        }

        if (PeerMacAddress is not null)
        {
            MacAddress.Write(ref writer, Ifla.Address, PeerMacAddress);
        }

        writer.EndNested(peer);
    }

    internal static Veth Parse(ReadOnlySpan<byte> data)
    {
        string? peer = null;
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            if (attr.Type == InfoPeer && attr.Payload.Length >= IfInfoMsg.Size)
            {
                foreach (var inner in new NetlinkAttributeEnumerator(attr.Payload[IfInfoMsg.Size..]))
                {
                    if (inner.Type == Ifla.IfName)
                    {
                        peer = inner.GetString();
                    }
                }
            }
        }

        return new Veth(peer);
    }
}
