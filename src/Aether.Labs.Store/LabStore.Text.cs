namespace Aether.Labs.Store;

public sealed partial class LabStore
{
    /// <summary>The text a status is stored as: the reference's <c>actual_state</c> values.</summary>
    internal static string StatusText(LinkStatus status) => StoreText.Status(status);

    /// <summary>A stored <c>actual_state</c>; a value this build does not know reads as
    /// <see cref="LinkStatus.Error"/> rather than failing the whole read.</summary>
    internal static LinkStatus ParseStatus(string text) => StoreText.ParseStatus(text);

    internal static string FabricText(LabFabric fabric) => StoreText.Fabric(fabric);

    /// <summary>Ordinal equality, nulls equal.</summary>
    private static bool Same(string? a, string? b) => StoreText.Same(a, b);

    internal static LabFabric ParseFabric(string text) => StoreText.ParseFabric(text);
}
