using System.Text.Json.Nodes;

namespace Aether.Nftables;

/// <summary>A named set of a table whose elements are plain values (interface names, addresses): <c>set n0 { type
/// ifname; elements = { "wg0", "veth-root0" } }</c>. Its elements are kept in ordinal order, as
/// <see cref="NftTable"/>'s canonical form lists them (the kernel lists a hash set's elements in no fixed order).</summary>
public sealed class NftSet
{
    /// <summary>Creates the set.</summary>
    /// <exception cref="ArgumentException">The name or type is invalid, or an element is empty.</exception>
    public NftSet(string name, string type, IEnumerable<string> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        if (!NftJson.IsValidName(name, out var why))
        {
            throw new ArgumentException($"set name '{name}': {why}", nameof(name));
        }

        if (!NftJson.IsValidName(type, out why))
        {
            throw new ArgumentException($"set {name}: type '{type}': {why}", nameof(type));
        }

        Name = name;
        Type = type;
        Elements = [.. elements.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (Elements.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"set {name}: an element is empty", nameof(elements));
        }
    }

    /// <summary>The set's name.</summary>
    public string Name { get; }

    /// <summary>Its type (<c>ifname</c>, <c>ipv4_addr</c>).</summary>
    public string Type { get; }

    /// <summary>Its elements, in ordinal order, each once.</summary>
    public IReadOnlyList<string> Elements { get; }

    /// <summary>The set as an object of libnftables' schema without its placement, as the kernel lists it.</summary>
    internal JsonObject ToJson()
    {
        var body = new JsonObject { ["name"] = Name, ["type"] = Type };
        if (Elements.Count > 0)
        {
            body["elem"] = new JsonArray([.. Elements.Select(e => (JsonNode?)JsonValue.Create(e))]);
        }

        return new JsonObject { ["set"] = NftJson.CanonicalObject(body, []) };
    }

    /// <summary>A set read from a listing's canonical body, or null when it is not a set of plain values.</summary>
    internal static NftSet? FromJson(JsonObject body)
    {
        if (NftJson.String(body, "name") is not { } name || body["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type))
        {
            return null;
        }

        var elements = new List<string>();
        if (body["elem"] is JsonArray array)
        {
            foreach (var e in array)
            {
                if (e is not JsonValue v || !v.TryGetValue<string>(out var text))
                {
                    return null;
                }

                elements.Add(text);
            }
        }

        return NftJson.IsValidName(name, out _) && NftJson.IsValidName(type, out _) ? new NftSet(name, type, elements) : null;
    }

    /// <summary>Whether <paramref name="other"/> has the same name, type and elements.</summary>
    public bool ContentEquals(NftSet? other) =>
        other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal) && string.Equals(Type, other.Type, StringComparison.Ordinal) && Elements.SequenceEqual(other.Elements, StringComparer.Ordinal);
}
