using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>A TUN or TAP device (<c>tun</c>), as the kernel reports it. TUN devices are created through
/// <c>/dev/net/tun</c>, not rtnetlink, so this kind is read-only here.</summary>
public sealed record Tun : LinkKindData
{
    /// <summary><c>IFLA_TUN_OWNER</c>.</summary>
    public const ushort OwnerAttr = 1;

    /// <summary><c>IFLA_TUN_TYPE</c>.</summary>
    public const ushort TypeAttr = 3;

    /// <summary><c>IFLA_TUN_PERSIST</c>.</summary>
    public const ushort PersistAttr = 6;

    /// <inheritdoc/>
    public override string Kind => "tun";

    /// <summary>True for a TAP (Ethernet) device, false for TUN (IP).</summary>
    public bool IsTap { get; init; }

    /// <summary>Whether the device outlives its file descriptor.</summary>
    public bool Persist { get; init; }

    /// <summary>The owning uid, when set.</summary>
    public uint? Owner { get; init; }

    internal override void Validate() =>
        throw new NotSupportedException("tun devices are created through /dev/net/tun, not rtnetlink");

    internal static Tun Parse(ReadOnlySpan<byte> data)
    {
        var tun = new Tun();
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            tun = attr.Type switch
            {
                TypeAttr => tun with { IsTap = attr.GetU8() == 2 },
                PersistAttr => tun with { Persist = attr.GetU8() != 0 },
                OwnerAttr => tun with { Owner = attr.GetU32() },
                _ => tun,
            };
        }

        return tun;
    }
}
