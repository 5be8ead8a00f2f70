using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>A software bridge (<c>bridge</c>). Ports join it with <see cref="LinkChange.MasterIndex"/>.</summary>
public sealed record Bridge : LinkKindData
{
    /// <summary><c>IFLA_BR_FORWARD_DELAY</c>.</summary>
    public const ushort ForwardDelayAttr = 1;

    /// <summary><c>IFLA_BR_AGEING_TIME</c>.</summary>
    public const ushort AgeingTimeAttr = 4;

    /// <summary><c>IFLA_BR_STP_STATE</c>.</summary>
    public const ushort StpStateAttr = 5;

    /// <inheritdoc/>
    public override string Kind => "bridge";

    /// <summary>Spanning tree on or off; null leaves the kernel's default (off).</summary>
    public bool? Stp { get; init; }

    /// <summary>Forward delay in centiseconds (<c>USER_HZ</c>), or the default.</summary>
    public uint? ForwardDelay { get; init; }

    /// <summary>MAC ageing time in centiseconds, or the default.</summary>
    public uint? AgeingTime { get; init; }

    internal override void WriteData(ref NetlinkWriter writer)
    {
        if (Stp is bool stp)
        {
            writer.WriteU32(StpStateAttr, stp ? 1u : 0u);
        }

        if (ForwardDelay is uint delay)
        {
            writer.WriteU32(ForwardDelayAttr, delay);
        }

        if (AgeingTime is uint ageing)
        {
            writer.WriteU32(AgeingTimeAttr, ageing);
        }
    }

    internal static Bridge Parse(ReadOnlySpan<byte> data)
    {
        bool? stp = null;
        uint? delay = null, ageing = null;
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            switch (attr.Type)
            {
                case StpStateAttr: stp = attr.GetU32() != 0; break;
                case ForwardDelayAttr: delay = attr.GetU32(); break;
                case AgeingTimeAttr: ageing = attr.GetU32(); break;
            }
        }

        return new Bridge { Stp = stp, ForwardDelay = delay, AgeingTime = ageing };
    }
}
