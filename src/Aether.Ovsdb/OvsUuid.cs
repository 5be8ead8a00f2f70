using System.Globalization;

namespace Aether.Ovsdb;

/// <summary>The identity of a row in an OVSDB database: its <c>_uuid</c>, written <c>["uuid", "…"]</c> on the wire.</summary>
/// <param name="Value">The UUID.</param>
public readonly record struct OvsUuid(Guid Value)
{
    /// <summary>Parses the text form (<c>550e8400-e29b-41d4-a716-446655440000</c>).</summary>
    /// <exception cref="FormatException">It is not a UUID.</exception>
    public static OvsUuid Parse(string text) => new(Guid.ParseExact(text, "D"));

    /// <summary>The text form, as <c>ovs-vsctl</c> prints it.</summary>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}
