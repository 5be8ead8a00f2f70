using System.Text.Json;

namespace Aether.Ovsdb;

/// <summary>The results of a transaction's operations, in order (copies that outlive the reply).</summary>
public sealed class OvsdbTransactResult
{
    private readonly JsonElement[] _results;

    internal OvsdbTransactResult(JsonElement[] results) => _results = results;

    /// <summary>The number of results.</summary>
    public int Count => _results.Length;

    /// <summary>Operation <paramref name="index"/>'s result as the server sent it.</summary>
    public JsonElement this[int index] => _results[index];

    /// <summary>The rows a <c>select</c> returned.</summary>
    /// <exception cref="OvsdbProtocolException">The result holds no rows.</exception>
    public IReadOnlyList<JsonElement> Rows(int index) =>
        _results[index].ValueKind == JsonValueKind.Object && _results[index].TryGetProperty("rows", out var rows) && rows.ValueKind == JsonValueKind.Array
            ? [.. rows.EnumerateArray()]
            : throw new OvsdbProtocolException($"operation {index}: no rows in {OvsdbDatum.Shorten(_results[index].GetRawText())}");

    /// <summary>How many rows an <c>update</c>, <c>mutate</c> or <c>delete</c> matched.</summary>
    /// <exception cref="OvsdbProtocolException">The result holds no count.</exception>
    public long RowCount(int index) =>
        _results[index].ValueKind == JsonValueKind.Object && _results[index].TryGetProperty("count", out var count) && count.TryGetInt64(out var n)
            ? n
            : throw new OvsdbProtocolException($"operation {index}: no count in {OvsdbDatum.Shorten(_results[index].GetRawText())}");

    /// <summary>The UUID an <c>insert</c> gave its row.</summary>
    /// <exception cref="OvsdbProtocolException">The result holds no uuid.</exception>
    public OvsUuid InsertedUuid(int index) =>
        _results[index].ValueKind == JsonValueKind.Object && _results[index].TryGetProperty("uuid", out var uuid)
            ? OvsdbDatum.ReadUuid(uuid)
            : throw new OvsdbProtocolException($"operation {index}: no uuid in {OvsdbDatum.Shorten(_results[index].GetRawText())}");
}
