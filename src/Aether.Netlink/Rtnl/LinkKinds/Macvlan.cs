using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Macvlan modes (<c>MACVLAN_MODE_*</c>).</summary>
public enum MacvlanMode : uint
{
    /// <summary>Not reported.</summary>
    Unknown = 0,

    /// <summary><c>MACVLAN_MODE_PRIVATE</c>.</summary>
    Private = 1,

    /// <summary><c>MACVLAN_MODE_VEPA</c>.</summary>
    Vepa = 2,

    /// <summary><c>MACVLAN_MODE_BRIDGE</c>.</summary>
    Bridge = 4,

    /// <summary><c>MACVLAN_MODE_PASSTHRU</c>.</summary>
    Passthru = 8,

    /// <summary><c>MACVLAN_MODE_SOURCE</c>.</summary>
    Source = 16,
}

/// <summary>A macvlan on a parent device (<c>macvlan</c>); the parent is <see cref="LinkSpec.ParentIndex"/>.</summary>
/// <param name="Mode">The mode.</param>
public sealed record Macvlan(MacvlanMode Mode = MacvlanMode.Bridge) : LinkKindData
{
    /// <summary><c>IFLA_MACVLAN_MODE</c>.</summary>
    public const ushort ModeAttr = 1;

    /// <inheritdoc/>
    public override string Kind => "macvlan";

    internal override void Validate()
    {
        if (!Enum.IsDefined(Mode) || Mode == MacvlanMode.Unknown)
        {
            throw new ArgumentException($"invalid macvlan mode {Mode}", nameof(Mode));
        }
    }

    internal override void WriteData(ref NetlinkWriter writer) => writer.WriteU32(ModeAttr, (uint)Mode);

    internal static Macvlan Parse(ReadOnlySpan<byte> data)
    {
        var mode = MacvlanMode.Unknown;
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            if (attr.Type == ModeAttr)
            {
                mode = (MacvlanMode)attr.GetU32();
            }
        }

        return new Macvlan(mode);
    }
}
