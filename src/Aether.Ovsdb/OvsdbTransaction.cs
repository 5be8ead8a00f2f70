using System.Buffers;
using System.Text.Json;

namespace Aether.Ovsdb;

/// <summary>A condition of a <c>where</c> clause: <c>[column, function, value]</c> (RFC 7047 section 5.1).</summary>
/// <param name="Column">The column.</param>
/// <param name="Function"><c>==</c>, <c>!=</c>, <c>includes</c>, <c>excludes</c>, <c>&lt;</c>, …</param>
/// <param name="Value">The value compared with.</param>
public readonly record struct OvsdbCondition(string Column, string Function, OvsdbValue Value)
{
    /// <summary><c>[column, "==", value]</c>.</summary>
    public static OvsdbCondition Equal(string column, OvsdbValue value) => new(column, "==", value);

    /// <summary><c>["_uuid", "==", ["uuid", …]]</c>: the one row.</summary>
    public static OvsdbCondition Row(OvsUuid uuid) => new("_uuid", "==", OvsdbValue.Uuid(uuid));

    /// <summary><c>[column, "includes", value]</c>: a set or map column that holds every element of the value.</summary>
    public static OvsdbCondition Includes(string column, OvsdbValue value) => new(column, "includes", value);
}

/// <summary>A mutation: <c>[column, mutator, value]</c> (<c>insert</c>, <c>delete</c>, <c>+=</c>, …).</summary>
/// <param name="Column">The column.</param>
/// <param name="Mutator">The mutator.</param>
/// <param name="Value">Its argument.</param>
public readonly record struct OvsdbMutation(string Column, string Mutator, OvsdbValue Value)
{
    /// <summary>Adds the value's elements to a set or map column.</summary>
    public static OvsdbMutation Insert(string column, OvsdbValue value) => new(column, "insert", value);

    /// <summary>Removes the value's elements from a set or map column.</summary>
    public static OvsdbMutation Delete(string column, OvsdbValue value) => new(column, "delete", value);

    /// <summary>Adds <paramref name="amount"/> to an integer column (<c>+=</c>).</summary>
    public static OvsdbMutation Add(string column, long amount) => new(column, "+=", OvsdbValue.Of(amount));
}

/// <summary>A row's columns for <c>insert</c> and <c>update</c>, in the order given: <c>new OvsdbRow { ["name"] =
/// OvsdbValue.Of("br0") }</c>.</summary>
public sealed class OvsdbRow : IEnumerable<KeyValuePair<string, OvsdbValue>>
{
    private readonly List<KeyValuePair<string, OvsdbValue>> _columns = [];

    /// <summary>The number of columns.</summary>
    public int Count => _columns.Count;

    /// <summary>Sets a column (a column set twice keeps the last value).</summary>
    public OvsdbValue this[string column]
    {
        get => _columns.First(c => string.Equals(c.Key, column, StringComparison.Ordinal)).Value;
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(column);
            _columns.RemoveAll(c => string.Equals(c.Key, column, StringComparison.Ordinal));
            _columns.Add(new(column, value));
        }
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, OvsdbValue>> GetEnumerator() => _columns.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    internal void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (column, value) in _columns)
        {
            writer.WritePropertyName(column);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// The operations of one <c>transact</c> request (RFC 7047 section 5.2), written as they are added. Each operation
/// may be described (<c>insert Port p1</c>): a failure names the one that failed. The server runs them all or none.
/// </summary>
public sealed class OvsdbTransaction
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly List<(int Start, int Length)> _ranges = [];
    private readonly List<string?> _descriptions = [];

    /// <summary>A transaction on <paramref name="database"/>.</summary>
    public OvsdbTransaction(string database)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        Database = database;
    }

    /// <summary>The database.</summary>
    public string Database { get; }

    /// <summary>The number of operations.</summary>
    public int Count => _ranges.Count;

    /// <summary>What each operation is for, as given (null where none was).</summary>
    public IReadOnlyList<string?> Descriptions => _descriptions;

    /// <summary>Inserts a row; <paramref name="uuidName"/> lets later operations refer to it with
    /// <see cref="OvsdbValue.NamedUuid"/>. Its result is <c>{"uuid": …}</c>.</summary>
    /// <returns>The operation's index.</returns>
    public int Insert(string table, OvsdbRow row, string? uuidName = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (uuidName is not null)
        {
            ValidateUuidName(uuidName);
        }

        return Add(description, w =>
        {
            WriteHead(w, "insert", table);
            w.WritePropertyName("row");
            row.WriteTo(w);
            if (uuidName is not null)
            {
                w.WriteString("uuid-name", uuidName);
            }
        });
    }

    /// <summary>Selects rows (all columns, or <paramref name="columns"/>). Its result is <c>{"rows": [...]}</c>.</summary>
    public int Select(string table, IReadOnlyList<OvsdbCondition> where, IReadOnlyList<string>? columns = null, string? description = null) =>
        Add(description, w =>
        {
            WriteHead(w, "select", table);
            WriteWhere(w, where);
            if (columns is not null)
            {
                WriteColumns(w, columns);
            }
        });

    /// <summary>Updates the matching rows. Its result is <c>{"count": N}</c>.</summary>
    public int Update(string table, IReadOnlyList<OvsdbCondition> where, OvsdbRow row, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        return Add(description, w =>
        {
            WriteHead(w, "update", table);
            WriteWhere(w, where);
            w.WritePropertyName("row");
            row.WriteTo(w);
        });
    }

    /// <summary>Mutates the matching rows. Its result is <c>{"count": N}</c>.</summary>
    public int Mutate(string table, IReadOnlyList<OvsdbCondition> where, IReadOnlyList<OvsdbMutation> mutations, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(mutations);
        return Add(description, w =>
        {
            WriteHead(w, "mutate", table);
            WriteWhere(w, where);
            w.WriteStartArray("mutations");
            foreach (var m in mutations)
            {
                w.WriteStartArray();
                w.WriteStringValue(m.Column);
                w.WriteStringValue(m.Mutator);
                m.Value.WriteTo(w);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        });
    }

    /// <summary>Deletes the matching rows. Its result is <c>{"count": N}</c>.</summary>
    public int Delete(string table, IReadOnlyList<OvsdbCondition> where, string? description = null) =>
        Add(description, w =>
        {
            WriteHead(w, "delete", table);
            WriteWhere(w, where);
        });

    /// <summary>Makes the transaction fail with <c>timed out</c> (nothing is committed) unless the rows matching
    /// <paramref name="where"/>, read as <paramref name="columns"/>, are exactly <paramref name="rows"/>
    /// (<paramref name="equal"/>) or are not (otherwise). With a timeout of 0 it is a check, not a wait: how a
    /// transaction makes its changes depend on what it read before.</summary>
    public int Wait(string table, IReadOnlyList<OvsdbCondition> where, IReadOnlyList<string> columns, IReadOnlyList<OvsdbRow> rows, bool equal = true, int timeoutMs = 0, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(timeoutMs);
        return Add(description, w =>
        {
            WriteHead(w, "wait", table);
            w.WriteNumber("timeout", timeoutMs);
            WriteWhere(w, where);
            WriteColumns(w, columns);
            w.WriteString("until", equal ? "==" : "!=");
            w.WriteStartArray("rows");
            foreach (var row in rows)
            {
                row.WriteTo(w);
            }

            w.WriteEndArray();
        });
    }

    /// <summary>Adds a comment the server writes into its log with the transaction.</summary>
    public int Comment(string comment)
    {
        ArgumentNullException.ThrowIfNull(comment);
        return Add(null, w =>
        {
            w.WriteString("op", "comment");
            w.WriteString("comment", comment);
        });
    }

    /// <summary>Writes <c>[database, op, op, ...]</c>: the params of the request.</summary>
    internal void WriteParams(Utf8JsonWriter writer)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(Database);
        var written = _buffer.WrittenSpan;
        foreach (var (start, length) in _ranges)
        {
            writer.WriteRawValue(written.Slice(start, length), skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    /// <summary>Throws unless <paramref name="name"/> is an identifier, as a <c>uuid-name</c> must be.</summary>
    internal static void ValidateUuidName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"uuid-name '{name}' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", nameof(name));
        }
    }

    private static void WriteHead(Utf8JsonWriter w, string op, string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        w.WriteString("op", op);
        w.WriteString("table", table);
    }

    private static void WriteWhere(Utf8JsonWriter w, IReadOnlyList<OvsdbCondition> where)
    {
        ArgumentNullException.ThrowIfNull(where);
        w.WriteStartArray("where");
        foreach (var c in where)
        {
            w.WriteStartArray();
            w.WriteStringValue(c.Column);
            w.WriteStringValue(c.Function);
            c.Value.WriteTo(w);
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    private static void WriteColumns(Utf8JsonWriter w, IReadOnlyList<string> columns)
    {
        w.WriteStartArray("columns");
        foreach (var column in columns)
        {
            w.WriteStringValue(column);
        }

        w.WriteEndArray();
    }

    private int Add(string? description, Action<Utf8JsonWriter> body)
    {
        var start = _buffer.WrittenCount;
        using (var writer = new Utf8JsonWriter(_buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        _ranges.Add((start, _buffer.WrittenCount - start));
        _descriptions.Add(description);
        return _ranges.Count - 1;
    }
}
