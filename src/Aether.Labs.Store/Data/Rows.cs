namespace Aether.Labs.Store.Data;

/// <summary>One row of <c>labs</c>.</summary>
internal sealed class LabRow
{
    /// <summary>A GUID in its 36-character text form.</summary>
    public required string Id { get; set; }

    public required string Name { get; set; }

    /// <summary><c>veth</c> or <c>ovs</c>.</summary>
    public required string Fabric { get; set; }

    /// <summary>The lab file's text.</summary>
    public required string Definition { get; set; }

    public string? SourcePath { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One row of <c>nodes</c>.</summary>
internal sealed class NodeRow
{
    public required string Id { get; set; }

    public required string LabId { get; set; }

    public required string Name { get; set; }

    /// <summary>The device kind (<c>arista_ceos</c>).</summary>
    public required string Kind { get; set; }

    public required string Namespace { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One row of <c>link_states</c>: a link as written (<c>source_*</c>, <c>target_*</c>: the vendor or Linux
/// names the file used), its identity (<c>link_key</c>, <see cref="LinkId.Value"/>) and its state.</summary>
internal sealed class LinkRow
{
    public required string Id { get; set; }

    public required string LabId { get; set; }

    /// <summary><c>r1:Ethernet1-r2:ge-0/0/0</c>: the link as the file wrote it.</summary>
    public required string LinkName { get; set; }

    /// <summary>The direction-independent identity by Linux names (unique per lab).</summary>
    public required string LinkKey { get; set; }

    /// <summary>Where the link stands in the lab: the order links were first stored.</summary>
    public int Seq { get; set; }

    public required string SourceNode { get; set; }

    /// <summary>The interface as written (vendor or Linux name).</summary>
    public required string SourceInterface { get; set; }

    public required string SourceLinux { get; set; }

    public required string TargetNode { get; set; }

    public required string TargetInterface { get; set; }

    public required string TargetLinux { get; set; }

    /// <summary><c>pending</c>, <c>creating</c>, <c>up</c>, <c>error</c> or <c>down</c>.</summary>
    public required string ActualState { get; set; }

    public string? ErrorMessage { get; set; }

    public int? VlanTag { get; set; }

    public int? Mtu { get; set; }

    public DateTimeOffset? CheckedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One row of <c>interface_mappings</c> (the reference's table, column for column).</summary>
internal sealed class MappingRow
{
    public required string Id { get; set; }

    public required string LabId { get; set; }

    public required string NodeId { get; set; }

    public string? OvsPort { get; set; }

    public string? OvsBridge { get; set; }

    public int? VlanTag { get; set; }

    public required string LinuxInterface { get; set; }

    public string? VendorInterface { get; set; }

    public string? DeviceType { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
