using System.Text.Json;
using System.Threading.Channels;
using Aether.Ovsdb.Internal;

namespace Aether.Ovsdb;

/// <summary>The requests: transact, monitor, echo, list_dbs, and any other method by name.</summary>
public sealed partial class OvsdbClient
{
    private long _nextMonitor;

    /// <summary>Runs a transaction (RFC 7047 section 4.1.3). All its operations commit, or none.</summary>
    /// <returns>Each operation's result, in order.</returns>
    /// <exception cref="OvsdbException">An operation failed, or the commit did (a constraint, a reference): the
    /// exception carries the server's <c>error</c> and <c>details</c>, the operation's index and description.</exception>
    /// <exception cref="OvsdbConnectionException">The connection is gone.</exception>
    public async Task<OvsdbTransactResult> TransactAsync(OvsdbTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        using var reply = await RequestAsync("transact", transaction.WriteParams, cancellationToken).ConfigureAwait(false);
        var result = Result(reply, "transact");
        if (result.ValueKind != JsonValueKind.Array)
        {
            throw new OvsdbProtocolException($"transact: the result is not an array: {OvsdbDatum.Shorten(result.GetRawText())}");
        }

        // One result per operation; an error object at the operation that failed (later ones are null); one more
        // element, an error, when the operations ran but the commit failed.
        var results = new JsonElement[result.GetArrayLength()];
        var i = 0;
        foreach (var element in result.EnumerateArray())
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                var what = i < transaction.Count ? transaction.Descriptions[i] : "commit";
                throw JsonRpc.ToException(element, $"transact {transaction.Database}", i, what);
            }

            results[i++] = element.Clone();
        }

        if (results.Length < transaction.Count)
        {
            throw new OvsdbProtocolException($"transact: {results.Length} results for {transaction.Count} operations");
        }

        return new OvsdbTransactResult(results);
    }

    /// <summary>Sends <c>echo</c> and waits for the server to send it back: a round trip that touches no database.</summary>
    public async Task EchoAsync(CancellationToken cancellationToken = default)
    {
        using var reply = await RequestAsync("echo", static w => { w.WriteStartArray(); w.WriteStringValue("aether"); w.WriteEndArray(); }, cancellationToken).ConfigureAwait(false);
        _ = Result(reply, "echo");
    }

    /// <summary>The databases the server serves (<c>list_dbs</c>).</summary>
    public async Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken = default)
    {
        using var reply = await RequestAsync("list_dbs", static w => { w.WriteStartArray(); w.WriteEndArray(); }, cancellationToken).ConfigureAwait(false);
        return [.. Result(reply, "list_dbs").EnumerateArray().Select(OvsdbDatum.ReadString)];
    }

    /// <summary>Any method by name (<c>get_schema</c>, <c>lock</c>): writes its params with <paramref name="writeParams"/>,
    /// returns the result (a copy that outlives the reply).</summary>
    /// <exception cref="OvsdbException">The server answered with an error.</exception>
    public async Task<JsonElement> CallAsync(string method, Action<Utf8JsonWriter> writeParams, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(writeParams);
        using var reply = await RequestAsync(method, writeParams, cancellationToken).ConfigureAwait(false);
        return Result(reply, method).Clone();
    }

    /// <summary>
    /// Starts a monitor (RFC 7047 section 4.1.5): the rows of the given tables now (<see cref="OvsdbMonitor.Initial"/>),
    /// then every insert, delete and change of the given columns as an <c>update</c> notification in
    /// <see cref="OvsdbMonitor.Updates"/>. The channel is unbounded (a replica must not lose an update): read it.
    /// Disposing the monitor sends <c>monitor_cancel</c>.
    /// </summary>
    public async Task<OvsdbMonitor> MonitorAsync(string database, IReadOnlyList<OvsdbMonitorRequest> tables, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(tables);
        var id = "aether-" + Interlocked.Increment(ref _nextMonitor).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Registered before the request goes: the first update may follow the reply at once.
        var channel = Channel.CreateUnbounded<OvsdbUpdate>(new UnboundedChannelOptions { SingleWriter = true });
        _monitors[id] = channel;
        try
        {
            using var reply = await RequestAsync("monitor", w => WriteMonitorParams(w, database, id, tables), cancellationToken).ConfigureAwait(false);
            var initial = OvsdbUpdate.Parse(Result(reply, "monitor"));
            return new OvsdbMonitor(this, database, id, initial, channel.Reader);
        }
        catch (Exception ex)
        {
            _monitors.TryRemove(id, out _);
            channel.Writer.TryComplete(ex);
            throw;
        }
    }

    /// <summary>Stops a monitor: its channel completes; the server is told when the connection is still up.</summary>
    internal async Task CancelMonitorAsync(string id, CancellationToken cancellationToken)
    {
        if (!_monitors.TryRemove(id, out var channel))
        {
            return;
        }

        channel.Writer.TryComplete();
        if (!IsConnected)
        {
            return;
        }

        try
        {
            using var reply = await RequestAsync("monitor_cancel", w => { w.WriteStartArray(); w.WriteStringValue(id); w.WriteEndArray(); }, cancellationToken).ConfigureAwait(false);
            _ = Result(reply, "monitor_cancel");
        }
        catch (Exception ex) when (ex is OvsdbConnectionException or ObjectDisposedException)
        {
            // Gone with its connection.
        }
    }

    /// <summary>Sends a request and waits for its reply (the caller disposes it). An error reply is thrown as
    /// <see cref="OvsdbException"/>.</summary>
    private async Task<JsonDocument> RequestAsync(string method, Action<Utf8JsonWriter> writeParams, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var id = Interlocked.Increment(ref _nextId);
        var bytes = JsonRpc.Request(method, writeParams, id);
        var completion = new TaskCompletionSource<JsonDocument>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = new Pending(completion, method);
        if (Volatile.Read(ref _closedBy) is { } closed && _pending.TryRemove(id, out _))
        {
            // Closed before the request was registered: Close did not see it.
            throw Rethrowable(closed, method);
        }

        using var registration = cancellationToken.Register(() =>
        {
            if (_pending.TryRemove(id, out var p))
            {
                p.Completion.TrySetCanceled(cancellationToken);
            }
        });
        try
        {
            await SendAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            _pending.TryRemove(id, out _);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw Volatile.Read(ref _closedBy) is { } reason ? Rethrowable(reason, method) : ex;
        }

        try
        {
            return await completion.Task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ReferenceEquals(ex, Volatile.Read(ref _closedBy)))
        {
            throw Rethrowable(ex, method);
        }
    }

    /// <summary>The connection's end as a new exception for one request (one instance is not thrown from many
    /// places at once).</summary>
    private Exception Rethrowable(Exception reason, string method) => reason switch
    {
        OvsdbConnectionException c => new OvsdbConnectionException($"{method}: {c.Message}", Endpoint, c.Errno, c),
        OvsdbProtocolException p => new OvsdbProtocolException($"{method}: {p.Message}", p),
        ObjectDisposedException => new ObjectDisposedException(nameof(OvsdbClient), $"{method}: the ovsdb client was closed"),
        _ => new OvsdbConnectionException($"{method}: {reason.Message}", Endpoint, null, reason),
    };

    private static JsonElement Result(JsonDocument reply, string method) =>
        reply.RootElement.TryGetProperty("result", out var result)
            ? result
            : throw new OvsdbProtocolException($"{method}: a reply without a result: {OvsdbDatum.Shorten(reply.RootElement.GetRawText())}");

    private static void WriteMonitorParams(Utf8JsonWriter w, string database, string id, IReadOnlyList<OvsdbMonitorRequest> tables)
    {
        w.WriteStartArray();
        w.WriteStringValue(database);
        w.WriteStringValue(id);
        w.WriteStartObject();
        foreach (var table in tables)
        {
            w.WriteStartObject(table.Table);
            if (table.Columns is { } columns)
            {
                w.WriteStartArray("columns");
                foreach (var column in columns)
                {
                    w.WriteStringValue(column);
                }

                w.WriteEndArray();
            }

            w.WriteStartObject("select");
            w.WriteBoolean("initial", table.Initial);
            w.WriteBoolean("insert", true);
            w.WriteBoolean("delete", true);
            w.WriteBoolean("modify", true);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndArray();
    }
}
