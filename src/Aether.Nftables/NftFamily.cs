namespace Aether.Nftables;

/// <summary>The address family of an nftables table (<c>NFPROTO_*</c>), named as <c>nft</c> names it.</summary>
public enum NftFamily
{
    /// <summary><c>inet</c>: IPv4 and IPv6 in one table.</summary>
    Inet,

    /// <summary><c>ip</c>: IPv4.</summary>
    Ip,

    /// <summary><c>ip6</c>: IPv6.</summary>
    Ip6,

    /// <summary><c>arp</c>.</summary>
    Arp,

    /// <summary><c>bridge</c>.</summary>
    Bridge,

    /// <summary><c>netdev</c>: ingress and egress of one device.</summary>
    Netdev,
}

/// <summary>The names <c>nft</c> gives the families, both ways.</summary>
public static class NftFamilies
{
    /// <summary>The family's name in nft syntax and JSON (<c>inet</c>).</summary>
    public static string ToNftName(this NftFamily family) => family switch
    {
        NftFamily.Inet => "inet",
        NftFamily.Ip => "ip",
        NftFamily.Ip6 => "ip6",
        NftFamily.Arp => "arp",
        NftFamily.Bridge => "bridge",
        NftFamily.Netdev => "netdev",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not an nftables family"),
    };

    /// <summary>The family <c>nft</c> calls <paramref name="name"/>; false for a name it does not use.</summary>
    public static bool TryParse(string? name, out NftFamily family)
    {
        (var known, family) = name switch
        {
            "inet" => (true, NftFamily.Inet),
            "ip" => (true, NftFamily.Ip),
            "ip6" => (true, NftFamily.Ip6),
            "arp" => (true, NftFamily.Arp),
            "bridge" => (true, NftFamily.Bridge),
            "netdev" => (true, NftFamily.Netdev),
            _ => (false, NftFamily.Inet),
        };
        return known;
    }

    /// <summary>The <c>NFPROTO_*</c> number the kernel uses for the family (in <c>nfgenmsg.nfgen_family</c>).</summary>
    public static byte ToNfProto(this NftFamily family) => family switch
    {
        NftFamily.Inet => 1,
        NftFamily.Ip => 2,
        NftFamily.Arp => 3,
        NftFamily.Netdev => 5,
        NftFamily.Bridge => 7,
        NftFamily.Ip6 => 10,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not an nftables family"),
    };

    /// <summary>The family of an <c>NFPROTO_*</c> number; false for one that is not a table family.</summary>
    public static bool TryFromNfProto(byte value, out NftFamily family)
    {
        (var known, family) = value switch
        {
            1 => (true, NftFamily.Inet),
            2 => (true, NftFamily.Ip),
            3 => (true, NftFamily.Arp),
            5 => (true, NftFamily.Netdev),
            7 => (true, NftFamily.Bridge),
            10 => (true, NftFamily.Ip6),
            _ => (false, NftFamily.Inet),
        };
        return known;
    }
}
