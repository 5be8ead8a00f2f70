using System.Text.Json;
using System.Threading.Channels;

namespace Aether.Ovsdb;

/// <summary>What to monitor in one table: some columns (null: all) and whether the rows present now are sent in
/// the reply.</summary>
/// <param name="Table">The table.</param>
/// <param name="Columns">The columns whose changes are reported, or null for all.</param>
public sealed record OvsdbMonitorRequest(string Table, IReadOnlyList<string>? Columns = null)
{
    /// <summary>Whether the reply carries the rows present now (true by default).</summary>
    public bool Initial { get; init; } = true;
}

/// <summary>How a row changed in an update.</summary>
public enum OvsdbRowChange
{
    /// <summary>The row is new (or present when the monitor started): only <see cref="OvsdbRowUpdate.New"/>.</summary>
    Insert,

    /// <summary>The row was deleted: only <see cref="OvsdbRowUpdate.Old"/>.</summary>
    Delete,

    /// <summary>Monitored columns changed: <see cref="OvsdbRowUpdate.Old"/> holds their old values,
    /// <see cref="OvsdbRowUpdate.New"/> the whole row's monitored columns.</summary>
    Modify,
}

/// <summary>One row's change in an update (RFC 7047 section 4.1.6, <c>&lt;row-update&gt;</c>).</summary>
/// <param name="Table">The table.</param>
/// <param name="Uuid">The row.</param>
/// <param name="Old">The old values (deletes and modifies), or null.</param>
/// <param name="New">The new values (inserts and modifies), or null.</param>
public sealed record OvsdbRowUpdate(string Table, OvsUuid Uuid, JsonElement? Old, JsonElement? New)
{
    /// <summary>Insert, delete or modify.</summary>
    public OvsdbRowChange Change => (Old, New) switch
    {
        (null, _) => OvsdbRowChange.Insert,
        (_, null) => OvsdbRowChange.Delete,
        _ => OvsdbRowChange.Modify,
    };
}

/// <summary>The rows one <c>update</c> notification (or a monitor's reply) carries.</summary>
/// <param name="Rows">Every row's change, table by table as the server sent them.</param>
public sealed record OvsdbUpdate(IReadOnlyList<OvsdbRowUpdate> Rows)
{
    /// <summary>Parses <c>&lt;table-updates&gt;</c>: <c>{table: {uuid: {"old": row, "new": row}}}</c>. The rows are
    /// copies that outlive the message.</summary>
    /// <exception cref="OvsdbProtocolException">It is not shaped so.</exception>
    public static OvsdbUpdate Parse(JsonElement tableUpdates)
    {
        if (tableUpdates.ValueKind != JsonValueKind.Object)
        {
            throw new OvsdbProtocolException($"table-updates is not an object: {OvsdbDatum.Shorten(tableUpdates.GetRawText())}");
        }

        var rows = new List<OvsdbRowUpdate>();
        foreach (var table in tableUpdates.EnumerateObject())
        {
            if (table.Value.ValueKind != JsonValueKind.Object)
            {
                throw new OvsdbProtocolException($"table-update of {table.Name} is not an object");
            }

            foreach (var row in table.Value.EnumerateObject())
            {
                if (!Guid.TryParseExact(row.Name, "D", out var uuid) || row.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new OvsdbProtocolException($"row-update {row.Name} of {table.Name} is malformed");
                }

                rows.Add(new OvsdbRowUpdate(table.Name, new OvsUuid(uuid), Member(row.Value, "old"), Member(row.Value, "new")));
            }
        }

        return new OvsdbUpdate(rows);
    }

    private static JsonElement? Member(JsonElement row, string name) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value.Clone() : null;
}

/// <summary>
/// A running monitor: the rows when it started, then every change as it happens. The channel completes when the
/// monitor is disposed, and fails with the reason when the connection ends.
/// </summary>
public sealed class OvsdbMonitor : IAsyncDisposable
{
    private readonly OvsdbClient _client;
    private int _disposed;

    internal OvsdbMonitor(OvsdbClient client, string database, string id, OvsdbUpdate initial, ChannelReader<OvsdbUpdate> updates)
    {
        _client = client;
        Database = database;
        Id = id;
        Initial = initial;
        Updates = updates;
    }

    /// <summary>The database monitored.</summary>
    public string Database { get; }

    /// <summary>The monitor's id on this connection (the <c>json-value</c> of RFC 7047).</summary>
    public string Id { get; }

    /// <summary>The rows present when the monitor started (of the tables that asked for them).</summary>
    public OvsdbUpdate Initial { get; }

    /// <summary>Every update since, in the order the server sent them.</summary>
    public ChannelReader<OvsdbUpdate> Updates { get; }

    /// <summary>Cancels the monitor (<c>monitor_cancel</c>) and completes <see cref="Updates"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _client.CancelMonitorAsync(Id, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                // A server that does not answer within seconds: the channel is complete all the same.
            }
        }
    }
}
