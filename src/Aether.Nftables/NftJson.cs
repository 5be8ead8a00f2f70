using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aether.Nftables;

/// <summary>
/// The JSON of libnftables' schema (<c>libnftables-json(5)</c>) as this library reads and writes it: a canonical
/// form (object keys sorted, no whitespace) so that two spellings of the same object compare equal as strings, and
/// the small lookups the table, chain and rule codecs share.
/// </summary>
internal static class NftJson
{
    /// <summary>The keys that place an object (family, table, handle, position) rather than describe it.</summary>
    public static readonly string[] PlacementKeys = ["family", "table", "handle", "position", "index"];

    /// <summary>A deep copy of <paramref name="node"/> with every object's keys in ordinal order.</summary>
    public static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => CanonicalObject(obj, skip: []),
        JsonArray array => new JsonArray([.. array.Select(Canonical)]),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>A canonical copy of <paramref name="obj"/> without the keys in <paramref name="skip"/>.</summary>
    public static JsonObject CanonicalObject(JsonObject obj, string[] skip)
    {
        var sorted = new JsonObject();
        foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (Array.IndexOf(skip, key) < 0)
            {
                sorted[key] = Canonical(value);
            }
        }

        return sorted;
    }

    /// <summary>Compact JSON text.</summary>
    public static string Text(JsonNode? node) => node is null ? "null" : node.ToJsonString();

    /// <summary>Parses <paramref name="json"/>, naming <paramref name="what"/> in the error.</summary>
    /// <exception cref="ArgumentException">Not JSON.</exception>
    public static JsonNode? Parse(string json, string what)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{what}: not JSON: {ex.Message}", nameof(json), ex);
        }
    }

    /// <summary>The string property <paramref name="key"/>, or null when absent or not a string.</summary>
    public static string? String(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The integer property <paramref name="key"/>, or null when absent or not an integer.</summary>
    public static long? Integer(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    /// <summary>An nft object name (table, chain): 1 to 255 bytes of UTF-8, no NUL, no control characters.</summary>
    public static bool IsValidName(string? name, out string? why)
    {
        why = name switch
        {
            null or "" => "empty",
            _ when System.Text.Encoding.UTF8.GetByteCount(name) > 255 => "longer than 255 bytes",
            _ when name.Any(char.IsControl) => "contains control characters",
            _ => null,
        };
        return why is null;
    }
}
