using Aether.Netlink.Namespaces;

namespace Aether.Netlink.Rtnl;

/// <summary>A link named by ifindex or by name; converts implicitly from either.</summary>
public readonly record struct LinkRef
{
    /// <summary>By index.</summary>
    /// <exception cref="ArgumentException">Not positive.</exception>
    public LinkRef(int index)
    {
        if (index <= 0)
        {
            throw new ArgumentException($"invalid ifindex {index}: must be positive", nameof(index));
        }

        Index = index;
    }

    /// <summary>By name.</summary>
    /// <exception cref="ArgumentException">Not a valid interface name.</exception>
    public LinkRef(string name)
    {
        InterfaceName.Validate(name);
        Name = name;
    }

    /// <summary>The ifindex, or 0 when named.</summary>
    public int Index { get; }

    /// <summary>The name, or null when by index.</summary>
    public string? Name { get; }

    /// <summary>By index.</summary>
    public static implicit operator LinkRef(int index) => new(index);

    /// <summary>By name.</summary>
    public static implicit operator LinkRef(string name) => new(name);

    /// <inheritdoc/>
    public override string ToString() => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What to create: one options record for every kind.</summary>
/// <param name="Name">The new link's name.</param>
/// <param name="Kind">The kind and its data (<see cref="Veth"/>, <see cref="Bridge"/>, <see cref="Vxlan"/>, <see cref="Macvlan"/>).</param>
public sealed record LinkSpec(string Name, LinkKindData Kind)
{
    /// <summary>Bring it up as it is created.</summary>
    public bool Up { get; init; }

    /// <summary>The MTU, or the kernel's default.</summary>
    public int? Mtu { get; init; }

    /// <summary>The MAC address, or a random one.</summary>
    public string? MacAddress { get; init; }

    /// <summary>The parent device for macvlan (<c>IFLA_LINK</c>).</summary>
    public int? ParentIndex { get; init; }

    /// <summary>Enslave to this master at creation.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>The alias (an ownership mark, for instance). The kernel ignores <c>IFLA_IFALIAS</c> in a create request,
    /// so <see cref="NetlinkHandle.CreateLinkAsync"/> sets it right after creating the link; a batch cannot.</summary>
    public string? Alias { get; init; }

    /// <summary>Create it directly in this namespace.</summary>
    public NetworkNamespace? Namespace { get; init; }

    /// <summary>Ask for this ifindex.</summary>
    public int? Index { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        InterfaceName.Validate(Name, nameof(Name));
        ArgumentNullException.ThrowIfNull(Kind);
        LinkChange.ValidateCommon(Mtu, MacAddress, Alias, MasterIndex);
        if (ParentIndex is <= 0 || Index is <= 0)
        {
            throw ParentIndex is <= 0
                ? new ArgumentException($"invalid parent ifindex {ParentIndex} for '{Name}': must be positive", nameof(ParentIndex))
                : new ArgumentException($"invalid ifindex {Index} for '{Name}': must be positive", nameof(Index));
        }

        if (Kind is Macvlan && ParentIndex is null)
        {
            throw new ArgumentException($"macvlan '{Name}' needs a parent device (ParentIndex)", nameof(ParentIndex));
        }

        Kind.Validate();
    }
}

/// <summary>Changes to an existing link; null leaves a property as it is.</summary>
public sealed record LinkChange
{
    /// <summary>Set administratively up or down.</summary>
    public bool? Up { get; init; }

    /// <summary>New MTU.</summary>
    public int? Mtu { get; init; }

    /// <summary>New name.</summary>
    public string? Name { get; init; }

    /// <summary>New alias.</summary>
    public string? Alias { get; init; }

    /// <summary>New master ifindex; 0 removes it from its master.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>New MAC address.</summary>
    public string? MacAddress { get; init; }

    /// <summary>Move the link into this namespace.</summary>
    public NetworkNamespace? Namespace { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Name is not null)
        {
            InterfaceName.Validate(Name, nameof(Name));
        }

        ValidateCommon(Mtu, MacAddress, Alias, MasterIndex);
    }

    internal static void ValidateCommon(int? mtu, string? mac, string? alias, int? master)
    {
        if (mtu is < 68 or > 65535)
        {
            throw new ArgumentException($"invalid MTU {mtu}: must be 68..65535", nameof(Mtu));
        }

        if (mac is not null)
        {
            Rtnl.MacAddress.Parse(mac, nameof(MacAddress));
        }

        if (alias is not null && System.Text.Encoding.UTF8.GetByteCount(alias) > 255)
        {
            throw new ArgumentException($"alias of {System.Text.Encoding.UTF8.GetByteCount(alias)} bytes is over the kernel's 255", nameof(Alias));
        }

        if (master is < 0)
        {
            throw new ArgumentException($"invalid master ifindex {master}", nameof(MasterIndex));
        }
    }
}
