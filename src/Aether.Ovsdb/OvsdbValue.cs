using System.Text.Json;

namespace Aether.Ovsdb;

/// <summary>The kinds of <see cref="OvsdbValue"/> (RFC 7047 section 5.1: atoms, sets and maps).</summary>
public enum OvsdbValueKind
{
    /// <summary>A string atom.</summary>
    StringAtom,

    /// <summary>An integer atom.</summary>
    IntegerAtom,

    /// <summary>A boolean atom.</summary>
    BooleanAtom,

    /// <summary>A row's identity: <c>["uuid", "…"]</c>.</summary>
    Uuid,

    /// <summary>A row inserted earlier in the same transaction, by the name its insert gave it:
    /// <c>["named-uuid", "name"]</c>.</summary>
    NamedUuid,

    /// <summary>A set of atoms: <c>["set", [...]]</c>.</summary>
    Set,

    /// <summary>A map of atom pairs: <c>["map", [[k, v], ...]]</c>.</summary>
    Map,
}

/// <summary>
/// A value written into an OVSDB request: an atom, a set or a map in the protocol's JSON notation. Values are built
/// with the factory methods and written with a <see cref="Utf8JsonWriter"/>; nothing is serialized by reflection.
/// </summary>
public readonly struct OvsdbValue : IEquatable<OvsdbValue>
{
    private readonly object? _payload;
    private readonly long _integer;

    private OvsdbValue(OvsdbValueKind kind, object? payload, long integer = 0)
    {
        Kind = kind;
        _payload = payload;
        _integer = integer;
    }

    /// <summary>What the value is.</summary>
    public OvsdbValueKind Kind { get; }

    /// <summary>The empty set (<c>["set", []]</c>): an optional column with no value, such as a port without a tag.</summary>
    public static OvsdbValue EmptySet { get; } = new(OvsdbValueKind.Set, Array.Empty<OvsdbValue>());

    /// <summary>A string atom.</summary>
    public static OvsdbValue Of(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(OvsdbValueKind.StringAtom, value);
    }

    /// <summary>An integer atom.</summary>
    public static OvsdbValue Of(long value) => new(OvsdbValueKind.IntegerAtom, null, value);

    /// <summary>A boolean atom.</summary>
    public static OvsdbValue Of(bool value) => new(OvsdbValueKind.BooleanAtom, null, value ? 1 : 0);

    /// <summary>A row's identity.</summary>
    public static OvsdbValue Uuid(OvsUuid value) => new(OvsdbValueKind.Uuid, value);

    /// <summary>A row inserted earlier in the same transaction, by its <c>uuid-name</c>.</summary>
    /// <exception cref="ArgumentException">The name is not an identifier (<c>[A-Za-z_][A-Za-z0-9_]*</c>).</exception>
    public static OvsdbValue NamedUuid(string name)
    {
        OvsdbTransaction.ValidateUuidName(name);
        return new(OvsdbValueKind.NamedUuid, name);
    }

    /// <summary>A set of atoms.</summary>
    /// <exception cref="ArgumentException">An element is itself a set or a map.</exception>
    public static OvsdbValue Set(params IEnumerable<OvsdbValue> atoms)
    {
        ArgumentNullException.ThrowIfNull(atoms);
        var array = atoms.ToArray();
        if (array.Any(a => a.Kind is OvsdbValueKind.Set or OvsdbValueKind.Map))
        {
            throw new ArgumentException("a set holds atoms only", nameof(atoms));
        }

        return new(OvsdbValueKind.Set, array);
    }

    /// <summary>An optional integer column: the integer, or the empty set for null.</summary>
    public static OvsdbValue OptionalInteger(long? value) => value is long v ? Of(v) : EmptySet;

    /// <summary>A map of strings to strings (<c>external_ids</c>, <c>other_config</c>).</summary>
    public static OvsdbValue StringMap(params IEnumerable<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return new(OvsdbValueKind.Map, pairs.Select(p => (Of(p.Key), Of(p.Value))).ToArray());
    }

    /// <summary>A map of one string to a string.</summary>
    public static OvsdbValue StringMap(string key, string value) => StringMap([new KeyValuePair<string, string>(key, value)]);

    /// <summary>Writes the value in the protocol's notation.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (Kind)
        {
            case OvsdbValueKind.StringAtom:
                writer.WriteStringValue((string)_payload!);
                break;
            case OvsdbValueKind.IntegerAtom:
                writer.WriteNumberValue(_integer);
                break;
            case OvsdbValueKind.BooleanAtom:
                writer.WriteBooleanValue(_integer != 0);
                break;
            case OvsdbValueKind.Uuid:
                writer.WriteStartArray();
                writer.WriteStringValue("uuid");
                writer.WriteStringValue(((OvsUuid)_payload!).ToString());
                writer.WriteEndArray();
                break;
            case OvsdbValueKind.NamedUuid:
                writer.WriteStartArray();
                writer.WriteStringValue("named-uuid");
                writer.WriteStringValue((string)_payload!);
                writer.WriteEndArray();
                break;
            case OvsdbValueKind.Set:
                writer.WriteStartArray();
                writer.WriteStringValue("set");
                writer.WriteStartArray();
                foreach (var atom in (OvsdbValue[])_payload!)
                {
                    atom.WriteTo(writer);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
                break;
            default:
                writer.WriteStartArray();
                writer.WriteStringValue("map");
                writer.WriteStartArray();
                foreach (var (key, value) in ((OvsdbValue, OvsdbValue)[])_payload!)
                {
                    writer.WriteStartArray();
                    key.WriteTo(writer);
                    value.WriteTo(writer);
                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
                break;
        }
    }

    /// <summary>The value as JSON text (for messages and tests).</summary>
    public override string ToString()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Equal when both write the same JSON.</summary>
    public bool Equals(OvsdbValue other) => Kind == other.Kind && string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is OvsdbValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(ToString()));

    /// <summary>Whether two values write the same JSON.</summary>
    public static bool operator ==(OvsdbValue left, OvsdbValue right) => left.Equals(right);

    /// <summary>Whether two values differ.</summary>
    public static bool operator !=(OvsdbValue left, OvsdbValue right) => !left.Equals(right);
}
