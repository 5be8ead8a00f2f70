using System.Text.Json;

namespace Aether.Ovsdb;

/// <summary>
/// Reads values in the protocol's JSON notation out of replies and updates: a set is <c>["set", [...]]</c> or, with
/// one element, the bare atom; a map is <c>["map", [[k, v], ...]]</c>; a UUID is <c>["uuid", "…"]</c>.
/// </summary>
public static class OvsdbDatum
{
    /// <summary>A UUID atom.</summary>
    /// <exception cref="OvsdbProtocolException">It is not one.</exception>
    public static OvsUuid ReadUuid(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2 && value[0].ValueKind == JsonValueKind.String
            && value[0].ValueEquals("uuid"u8) && value[1].GetString() is { } text && Guid.TryParseExact(text, "D", out var guid))
        {
            return new OvsUuid(guid);
        }

        throw new OvsdbProtocolException($"expected [\"uuid\", UUID], got {value.GetRawText()}");
    }

    /// <summary>The atoms of a set (a bare atom is a set of one).</summary>
    /// <exception cref="OvsdbProtocolException">A set with a malformed body.</exception>
    public static IReadOnlyList<JsonElement> ReadSet(JsonElement value)
    {
        if (IsTagged(value, "set"u8))
        {
            var body = value[1];
            if (body.ValueKind != JsonValueKind.Array)
            {
                throw new OvsdbProtocolException($"a set's elements are an array, got {body.GetRawText()}");
            }

            var atoms = new JsonElement[body.GetArrayLength()];
            var i = 0;
            foreach (var atom in body.EnumerateArray())
            {
                atoms[i++] = atom;
            }

            return atoms;
        }

        return [value];
    }

    /// <summary>The UUIDs in a set of references (<c>ports</c>, <c>interfaces</c>).</summary>
    public static IReadOnlyList<OvsUuid> ReadUuidSet(JsonElement value) => [.. ReadSet(value).Select(ReadUuid)];

    /// <summary>An optional integer column (a set of at most one): the integer, or null when empty.</summary>
    /// <exception cref="OvsdbProtocolException">It holds more than one value or not an integer.</exception>
    public static long? ReadOptionalInteger(JsonElement value)
    {
        var atoms = ReadSet(value);
        return atoms.Count switch
        {
            0 => null,
            1 when atoms[0].ValueKind == JsonValueKind.Number && atoms[0].TryGetInt64(out var n) => n,
            _ => throw new OvsdbProtocolException($"expected an optional integer, got {value.GetRawText()}"),
        };
    }

    /// <summary>An optional string column (a set of at most one): the string, or null when empty.</summary>
    /// <exception cref="OvsdbProtocolException">It holds more than one value or not a string.</exception>
    public static string? ReadOptionalString(JsonElement value)
    {
        var atoms = ReadSet(value);
        return atoms.Count switch
        {
            0 => null,
            1 when atoms[0].ValueKind == JsonValueKind.String => atoms[0].GetString(),
            _ => throw new OvsdbProtocolException($"expected an optional string, got {value.GetRawText()}"),
        };
    }

    /// <summary>A string atom.</summary>
    /// <exception cref="OvsdbProtocolException">It is not one.</exception>
    public static string ReadString(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new OvsdbProtocolException($"expected a string, got {value.GetRawText()}");

    /// <summary>A map of strings to strings (<c>external_ids</c>).</summary>
    /// <exception cref="OvsdbProtocolException">It is not such a map.</exception>
    public static IReadOnlyDictionary<string, string> ReadStringMap(JsonElement value)
    {
        if (!IsTagged(value, "map"u8) || value[1].ValueKind != JsonValueKind.Array)
        {
            throw new OvsdbProtocolException($"expected [\"map\", [...]], got {value.GetRawText()}");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in value[1].EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
            {
                throw new OvsdbProtocolException($"a map's pair is [key, value], got {pair.GetRawText()}");
            }

            map[ReadString(pair[0])] = ReadString(pair[1]);
        }

        return map;
    }

    /// <summary>A column of a row; a column the row lacks is a protocol error naming it.</summary>
    /// <exception cref="OvsdbProtocolException">The row has no such column.</exception>
    public static JsonElement Column(JsonElement row, string column) =>
        row.ValueKind == JsonValueKind.Object && row.TryGetProperty(column, out var value)
            ? value
            : throw new OvsdbProtocolException($"row has no column '{column}': {Shorten(row.GetRawText())}");

    internal static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private static bool IsTagged(JsonElement value, ReadOnlySpan<byte> tag) =>
        value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2 && value[0].ValueKind == JsonValueKind.String && value[0].ValueEquals(tag);
}
