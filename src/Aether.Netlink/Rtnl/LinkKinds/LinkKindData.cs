using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>
/// The kind of a link and its kind-specific data (<c>IFLA_LINKINFO</c>: <c>IFLA_INFO_KIND</c> and
/// <c>IFLA_INFO_DATA</c>). Each kind lives in its own file with its model and codec; a kind this library does not
/// know is kept as <see cref="UnknownLinkKind"/> with its raw attributes, so a newer kernel never breaks parsing.
/// </summary>
public abstract record LinkKindData
{
    /// <summary>The kernel's kind string (<c>veth</c>, <c>bridge</c>, …).</summary>
    public abstract string Kind { get; }

    /// <summary>Writes the attributes that go inside <c>IFLA_INFO_DATA</c> when creating a link of this kind.</summary>
    internal virtual void WriteData(ref NetlinkWriter writer)
    {
    }

    /// <summary>Checks the values before anything is sent.</summary>
    internal virtual void Validate()
    {
    }

    /// <summary>Decodes <c>IFLA_INFO_DATA</c> for <paramref name="kind"/>.</summary>
    internal static LinkKindData Parse(string kind, ReadOnlySpan<byte> data) => kind switch
    {
        "veth" => Veth.Parse(data),
        "bridge" => Bridge.Parse(data),
        "vxlan" => Vxlan.Parse(data),
        "macvlan" => Macvlan.Parse(data),
        "tun" => Tun.Parse(data),
        _ => UnknownLinkKind.FromRaw(kind, data),
    };

    /// <summary>Keeps every attribute as raw bytes.</summary>
    internal static List<RawAttribute> RawList(ReadOnlySpan<byte> data)
    {
        var list = new List<RawAttribute>();
        foreach (var attr in new NetlinkAttributeEnumerator(data))
        {
            list.Add(new RawAttribute(attr.Type, attr.GetBytes()));
        }

        return list;
    }
}

/// <summary>A kind this library does not decode; its data attributes are kept raw.</summary>
/// <param name="KindName">The kind string.</param>
/// <param name="Data">The raw <c>IFLA_INFO_DATA</c> attributes.</param>
public sealed record UnknownLinkKind(string KindName, IReadOnlyList<RawAttribute> Data) : LinkKindData
{
    /// <inheritdoc/>
    public override string Kind => KindName;

    internal static UnknownLinkKind FromRaw(string kind, ReadOnlySpan<byte> data) => new(kind, RawList(data));

    internal override void WriteData(ref NetlinkWriter writer)
    {
        foreach (var attr in Data)
        {
            writer.WriteAttribute(attr.Type, attr.Value);
        }
    }
}
