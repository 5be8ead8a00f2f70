namespace Aether.Labs.Store;

public sealed partial class LabStore
{
    /// <summary>The text a status is stored as: the reference's <c>actual_state</c> values.</summary>
    internal static string StatusText(LinkStatus status) => status switch
    {
        LinkStatus.Pending => "pending",
        LinkStatus.Creating => "creating",
        LinkStatus.Up => "up",
        LinkStatus.Error => "error",
        LinkStatus.Down => "down",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown link status"),
    };

    /// <summary>A stored <c>actual_state</c>; a value this build does not know reads as
    /// <see cref="LinkStatus.Error"/> rather than failing the whole read.</summary>
    internal static LinkStatus ParseStatus(string text) => text switch
    {
        "pending" => LinkStatus.Pending,
        "creating" => LinkStatus.Creating,
        "up" => LinkStatus.Up,
        "error" => LinkStatus.Error,
        "down" => LinkStatus.Down,
        _ => LinkStatus.Error,
    };

    internal static string FabricText(LabFabric fabric) => fabric switch
    {
        LabFabric.Veth => "veth",
        LabFabric.Ovs => "ovs",
        _ => throw new ArgumentOutOfRangeException(nameof(fabric), fabric, "unknown fabric"),
    };

    /// <summary>Ordinal equality, nulls equal.</summary>
    private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

    internal static LabFabric ParseFabric(string text) => string.Equals(text, "ovs", StringComparison.Ordinal) ? LabFabric.Ovs : LabFabric.Veth;
}
