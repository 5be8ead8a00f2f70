namespace Aether.Labs;

/// <summary>Where a link is in its life (the reference's state machine: <c>pending → creating → up | error</c>, and
/// <c>down</c> when set administratively down).</summary>
public enum LinkStatus
{
    /// <summary>Declared, not made yet.</summary>
    Pending,

    /// <summary>Being made: written before the kernel (or OVSDB) is touched.</summary>
    Creating,

    /// <summary>Made, and verification read it from the kernel (and OVSDB) as whole.</summary>
    Up,

    /// <summary>Could not be made, or verification found it broken and repair could not fix it; the message says why.</summary>
    Error,

    /// <summary>Set administratively down: both ends are kept down.</summary>
    Down,
}

/// <summary>A link's stored state.</summary>
/// <param name="Id">The link's identity.</param>
/// <param name="A">The first endpoint as the lab file wrote it.</param>
/// <param name="B">The second endpoint.</param>
/// <param name="Status">Where it is.</param>
public sealed record LinkState(LinkId Id, LabEndpoint A, LabEndpoint B, LinkStatus Status)
{
    /// <summary>Why it is <see cref="LinkStatus.Error"/> (the kernel's or OVSDB's message, or what verification found),
    /// else null.</summary>
    public string? Error { get; init; }

    /// <summary>The VLAN tag both of its ports carry (ovs fabric), else null.</summary>
    public int? Vlan { get; init; }

    /// <summary>The MTU the lab asks for, or null.</summary>
    public int? Mtu { get; init; }

    /// <summary>When verification last read it, or null when it never has.</summary>
    public DateTimeOffset? Checked { get; init; }

    /// <summary>When the row was first written (the oldest of duplicates is the one kept).</summary>
    public DateTimeOffset Created { get; init; }
}

/// <summary>One node interface under each of its names, and where it sits on the fabric (the reference's
/// <c>interface_mappings</c> row).</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Linux">The Linux name (<c>eth1</c>).</param>
/// <param name="Vendor">The vendor name (<c>Ethernet1</c>).</param>
/// <param name="DeviceType">The node's kind (<c>arista_ceos</c>).</param>
public sealed record InterfaceMapping(string Node, string Linux, string Vendor, string DeviceType)
{
    /// <summary>The Open vSwitch port (the veth's outer end) on the ovs fabric, else null.</summary>
    public string? OvsPort { get; init; }

    /// <summary>The lab's bridge on the ovs fabric, else null.</summary>
    public string? OvsBridge { get; init; }

    /// <summary>The VLAN tag of its link on the ovs fabric, else null.</summary>
    public int? VlanTag { get; init; }
}

/// <summary>A lab as the store keeps it.</summary>
/// <param name="Name">The lab's name.</param>
/// <param name="Fabric">Its fabric.</param>
/// <param name="Definition">The lab file's text, so that commands given only the name can read the lab again.</param>
/// <param name="SourcePath">The file it was deployed from, or null (deployed through the API).</param>
/// <param name="Created">When it was first deployed.</param>
public sealed record StoredLab(string Name, LabFabric Fabric, string Definition, string? SourcePath, DateTimeOffset Created);
