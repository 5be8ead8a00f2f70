using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Operational state (<c>IF_OPER_*</c>, RFC 2863).</summary>
public enum OperState : byte
{
    /// <summary><c>IF_OPER_UNKNOWN</c>.</summary>
    Unknown = 0,

    /// <summary><c>IF_OPER_NOTPRESENT</c>.</summary>
    NotPresent = 1,

    /// <summary><c>IF_OPER_DOWN</c>.</summary>
    Down = 2,

    /// <summary><c>IF_OPER_LOWERLAYERDOWN</c>: the peer or parent is down.</summary>
    LowerLayerDown = 3,

    /// <summary><c>IF_OPER_TESTING</c>.</summary>
    Testing = 4,

    /// <summary><c>IF_OPER_DORMANT</c>.</summary>
    Dormant = 5,

    /// <summary><c>IF_OPER_UP</c>.</summary>
    Up = 6,
}

/// <summary>A network interface as the kernel reports it (<c>RTM_NEWLINK</c>).</summary>
public sealed record Link
{
    /// <summary>The ifindex.</summary>
    public required int Index { get; init; }

    /// <summary>The name.</summary>
    public required string Name { get; init; }

    /// <summary>The interface flags (<c>IFF_*</c>).</summary>
    public uint Flags { get; init; }

    /// <summary>Administratively up (<c>IFF_UP</c>).</summary>
    public bool IsUp => (Flags & Iff.Up) != 0;

    /// <summary>The lower layer is up (<c>IFF_LOWER_UP</c>): carrier.</summary>
    public bool IsLowerUp => (Flags & Iff.LowerUp) != 0;

    /// <summary>The hardware type (<c>ARPHRD_*</c>).</summary>
    public ushort HardwareType { get; init; }

    /// <summary>The MTU.</summary>
    public int Mtu { get; init; }

    /// <summary>The hardware address, formatted.</summary>
    public string? MacAddress { get; init; }

    /// <summary>The operational state.</summary>
    public OperState OperState { get; init; }

    /// <summary>The carrier (<c>IFLA_CARRIER</c>).</summary>
    public bool? Carrier { get; init; }

    /// <summary>The master's ifindex (bridge port, bond slave).</summary>
    public int? MasterIndex { get; init; }

    /// <summary><c>IFLA_LINK</c>: a veth's peer ifindex, a macvlan's parent; in the namespace named by <see cref="LinkNetNsId"/> when set.</summary>
    public int? LinkIndex { get; init; }

    /// <summary><c>IFLA_LINK_NETNSID</c>: the nsid (in this link's namespace) of the namespace that holds <see cref="LinkIndex"/>.</summary>
    public int? LinkNetNsId { get; init; }

    /// <summary>The alias (<c>IFLA_IFALIAS</c>).</summary>
    public string? Alias { get; init; }

    /// <summary>Alternative names (<c>IFLA_ALT_IFNAME</c> in <c>IFLA_PROP_LIST</c>).</summary>
    public IReadOnlyList<string> AltNames { get; init; } = [];

    /// <summary>The kind string (<c>veth</c>), or null for a plain device.</summary>
    public string? Kind => KindData?.Kind;

    /// <summary>The kind and its decoded data.</summary>
    public LinkKindData? KindData { get; init; }

    /// <summary>The kind of the master this link is a port of (<c>IFLA_INFO_SLAVE_KIND</c>: <c>bridge</c>).</summary>
    public string? PortKind { get; init; }

    /// <summary>
    /// Attributes this library does not decode, kept raw (type and bytes), so nothing a newer kernel adds is lost.
    /// Two known, bulky groups are left out on purpose: statistics (the library asks the kernel to skip them with
    /// <c>RTEXT_FILTER_SKIP_STATS</c>) and per-family configuration (<c>IFLA_AF_SPEC</c>, about 1 KiB per link).
    /// The bytes are kept in one array and split into attributes when first asked for.
    /// </summary>
    public IReadOnlyList<RawAttribute> Unknown => _unknown ??= DecodeUnknown(_attributes);

    private IReadOnlyList<RawAttribute>? _unknown;
    private byte[] _attributes = [];

    /// <summary>Decodes an <c>RTM_NEWLINK</c>/<c>RTM_DELLINK</c> message. Matches <see cref="MessageParser{T}"/>.</summary>
    public static bool TryParse(in NetlinkMessage message, out Link link)
    {
        var info = message.ReadStruct<IfInfoMsg>();
        string name = string.Empty;
        string? mac = null, alias = null, portKind = null;
        int mtu = 0;
        int? master = null, linkIndex = null, linkNs = null;
        bool? carrier = null;
        var oper = OperState.Unknown;
        LinkKindData? kind = null;
        List<string>? alt = null;
        foreach (var attr in message.Attributes(IfInfoMsg.Size))
        {
            switch (attr.Type)
            {
                case Ifla.IfName: name = attr.GetString(); break;
                case Ifla.Mtu: mtu = (int)attr.GetU32(); break;
                case Ifla.Address: mac = Rtnl.MacAddress.Format(attr.Payload); break;
                case Ifla.OperState: oper = (OperState)attr.GetU8(); break;
                case Ifla.Carrier: carrier = attr.GetU8() != 0; break;
                case Ifla.Master: master = (int)attr.GetU32(); break;
                case Ifla.Link: linkIndex = (int)attr.GetU32(); break;
                case Ifla.LinkNetNsId: linkNs = attr.GetS32(); break;
                case Ifla.Alias: alias = attr.GetString(); break;
                case Ifla.PropList:
                    foreach (var prop in attr.GetNested())
                    {
                        if (prop.Type == Ifla.AltName)
                        {
                            (alt ??= []).Add(prop.GetString());
                        }
                    }

                    break;
                case Ifla.LinkInfo:
                    (kind, portKind) = ParseLinkInfo(attr.Payload);
                    break;
            }
        }

        link = new Link
        {
            Index = info.Index,
            Name = name,
            Flags = info.Flags,
            HardwareType = info.Type,
            Mtu = mtu,
            MacAddress = mac,
            OperState = oper,
            Carrier = carrier,
            MasterIndex = master,
            LinkIndex = linkIndex,
            LinkNetNsId = linkNs,
            Alias = alias,
            AltNames = alt ?? (IReadOnlyList<string>)[],
            KindData = kind,
            PortKind = portKind,
            _attributes = KeepUndecoded(message),
        };
        return true;
    }

    /// <summary>Copies the attributes that are neither decoded nor deliberately dropped, headers included, into one array.</summary>
    private static byte[] KeepUndecoded(in NetlinkMessage message)
    {
        Span<byte> scratch = stackalloc byte[1024];
        var length = 0;
        byte[]? rented = null;
        try
        {
            var attributes = message.Payload.Length > IfInfoMsg.Size ? message.Payload[IfInfoMsg.Size..] : default;
            var offset = 0;
            foreach (var attr in new NetlinkAttributeEnumerator(attributes))
            {
                var total = 4 + attr.Payload.Length;
                var whole = attributes.Slice(offset, total);
                offset += Math.Min(NetlinkWriter.Pad(total), attributes.Length - offset);
                if (IsDecoded(attr.Type) || attr.Type is AfSpec or Stats or Stats64)
                {
                    continue;
                }

                var padded = NetlinkWriter.Pad(total);
                if (length + padded > scratch.Length)
                {
                    var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent((length + padded) * 2);
                    scratch[..length].CopyTo(bigger);
                    if (rented is not null)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                    }

                    rented = bigger;
                    scratch = bigger;
                }

                whole.CopyTo(scratch[length..]);
                scratch.Slice(length + total, padded - total).Clear();
                length += padded;
            }

            return length == 0 ? [] : scratch[..length].ToArray();
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private const ushort Stats = 7;    // IFLA_STATS
    private const ushort Stats64 = 23; // IFLA_STATS64
    private const ushort AfSpec = 26;  // IFLA_AF_SPEC

    /// <summary>Equal when every decoded property is equal (alternative names compared in order; raw attributes ignored).</summary>
    public bool Equals(Link? other) => other is not null
        && Index == other.Index && string.Equals(Name, other.Name, StringComparison.Ordinal) && Flags == other.Flags
        && HardwareType == other.HardwareType && Mtu == other.Mtu && string.Equals(MacAddress, other.MacAddress, StringComparison.Ordinal)
        && OperState == other.OperState && Carrier == other.Carrier && MasterIndex == other.MasterIndex
        && LinkIndex == other.LinkIndex && LinkNetNsId == other.LinkNetNsId && string.Equals(Alias, other.Alias, StringComparison.Ordinal)
        && AltNames.SequenceEqual(other.AltNames, StringComparer.Ordinal) && Equals(KindData, other.KindData)
        && string.Equals(PortKind, other.PortKind, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Name, Flags, Mtu, MacAddress, OperState, LinkIndex, KindData);

    private static bool IsDecoded(ushort type) => type is Ifla.IfName or Ifla.Mtu or Ifla.Address or Ifla.OperState or Ifla.Carrier
        or Ifla.Master or Ifla.Link or Ifla.LinkNetNsId or Ifla.Alias or Ifla.PropList or Ifla.LinkInfo;

    private static List<RawAttribute> DecodeUnknown(ReadOnlySpan<byte> attributes)
    {
        var list = new List<RawAttribute>();
        foreach (var attr in new NetlinkAttributeEnumerator(attributes))
        {
            if (!IsDecoded(attr.Type))
            {
                list.Add(new RawAttribute(attr.Type, attr.GetBytes()));
            }
        }

        return list;
    }

    private static (LinkKindData? Kind, string? PortKind) ParseLinkInfo(ReadOnlySpan<byte> payload)
    {
        string? kind = null, portKind = null;
        ReadOnlySpan<byte> data = default;
        foreach (var attr in new NetlinkAttributeEnumerator(payload))
        {
            switch (attr.Type)
            {
                case Ifla.InfoKind: kind = attr.GetString(); break;
                case Ifla.InfoData: data = attr.Payload; break;
                case Ifla.InfoSlaveKind: portKind = attr.GetString(); break;
            }
        }

        return (kind is null ? null : LinkKindData.Parse(kind, data), portKind);
    }

    /// <summary>Writes <c>RTM_NEWLINK</c> with <c>NLM_F_CREATE|NLM_F_EXCL|NLM_F_ACK</c>.</summary>
    internal static void WriteCreate(ref NetlinkWriter writer, LinkSpec spec, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.NewLink, NlmsgFlags.Request | NlmsgFlags.Ack | NlmsgFlags.Create | NlmsgFlags.Excl, sequence, portId);
        writer.WriteStruct(new IfInfoMsg { Index = spec.Index ?? 0, Flags = spec.Up ? Iff.Up : 0, Change = spec.Up ? Iff.Up : 0 });
        writer.WriteString(Ifla.IfName, spec.Name);
        if (spec.Mtu is int mtu)
        {
            writer.WriteU32(Ifla.Mtu, (uint)mtu);
        }

        if (spec.MacAddress is not null)
        {
            Rtnl.MacAddress.Write(ref writer, Ifla.Address, spec.MacAddress);
        }

        if (spec.ParentIndex is int parent)
        {
            writer.WriteU32(Ifla.Link, (uint)parent);
        }

        if (spec.MasterIndex is int master)
        {
            writer.WriteU32(Ifla.Master, (uint)master);
        }

        if (spec.Alias is not null)
        {
            writer.WriteString(Ifla.Alias, spec.Alias);
        }

        if (spec.Namespace is not null)
        {
            writer.WriteU32(Ifla.NetNsFd, (uint)spec.Namespace.Fd);
        }

        var info = writer.BeginNested(Ifla.LinkInfo);
        writer.WriteString(Ifla.InfoKind, spec.Kind.Kind);
        var data = writer.BeginNested(Ifla.InfoData);
        spec.Kind.WriteData(ref writer);
        writer.EndNested(data);
        writer.EndNested(info);
        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_NEWLINK</c> (no create) that changes an existing link.</summary>
    internal static void WriteChange(ref NetlinkWriter writer, LinkRef target, LinkChange change, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.NewLink, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        var flags = change.Up is true ? Iff.Up : 0;
        writer.WriteStruct(new IfInfoMsg { Index = target.Index, Flags = flags, Change = change.Up is null ? 0 : Iff.Up });
        if (target.Name is not null && change.Name is not null)
        {
            // Without an ifindex the kernel finds the link by IFLA_IFNAME, which a rename uses for the new name (and
            // IFLA_IFNAME wins over IFLA_ALT_IFNAME in the lookup): a rename needs the ifindex, as in iproute2.
            throw new ArgumentException($"renaming '{target.Name}' to '{change.Name}' needs the link's ifindex, not its name", nameof(target));
        }

        if (target.Name is not null)
        {
            writer.WriteString(Ifla.IfName, target.Name);
        }

        if (change.Name is not null)
        {
            writer.WriteString(Ifla.IfName, change.Name);
        }

        if (change.Mtu is int mtu)
        {
            writer.WriteU32(Ifla.Mtu, (uint)mtu);
        }

        if (change.MacAddress is not null)
        {
            Rtnl.MacAddress.Write(ref writer, Ifla.Address, change.MacAddress);
        }

        if (change.MasterIndex is int master)
        {
            writer.WriteU32(Ifla.Master, (uint)master);
        }

        if (change.Alias is not null)
        {
            writer.WriteString(Ifla.Alias, change.Alias);
        }

        if (change.Namespace is not null)
        {
            writer.WriteU32(Ifla.NetNsFd, (uint)change.Namespace.Fd);
        }

        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_DELLINK</c>.</summary>
    internal static void WriteDelete(ref NetlinkWriter writer, LinkRef target, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.DelLink, NlmsgFlags.Request | NlmsgFlags.Ack, sequence, portId);
        WriteSelector(ref writer, target);
        writer.EndMessage(msg);
    }

    /// <summary>Writes <c>RTM_GETLINK</c> for one link.</summary>
    internal static void WriteGet(ref NetlinkWriter writer, LinkRef target, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetLink, NlmsgFlags.Request, sequence, portId);
        WriteSelector(ref writer, target);
        writer.WriteU32(Ifla.ExtMask, SkipStats);
        writer.EndMessage(msg);
    }

    /// <summary>Writes an <c>RTM_GETLINK</c> dump request.</summary>
    internal static void WriteDump(ref NetlinkWriter writer, uint sequence, uint portId)
    {
        var msg = writer.BeginMessage(RtmType.GetLink, NlmsgFlags.Request | NlmsgFlags.Dump, sequence, portId);
        writer.WriteStruct(default(IfInfoMsg));
        writer.WriteU32(Ifla.ExtMask, SkipStats);
        writer.EndMessage(msg);
    }

    /// <summary><c>RTEXT_FILTER_SKIP_STATS</c>: the kernel leaves out IFLA_STATS and IFLA_STATS64.</summary>
    private const uint SkipStats = 1 << 3;

    private static void WriteSelector(ref NetlinkWriter writer, LinkRef target)
    {
        writer.WriteStruct(new IfInfoMsg { Index = target.Index });
        if (target.Name is not null)
        {
            writer.WriteString(Ifla.IfName, target.Name);
        }
    }
}

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
