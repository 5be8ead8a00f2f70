using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Aether.Ovsdb.Internal;

namespace Aether.Ovsdb;

/// <summary>
/// A connection to ovsdb-server (RFC 7047): JSON-RPC over its unix socket. Requests are matched to replies by id, so
/// several may be in flight from any threads; <c>update</c> notifications go to their monitor's channel; the server's
/// <c>echo</c> is answered. One task reads the socket for the connection's lifetime; when the connection ends, every
/// pending request and every monitor fails with the reason.
/// </summary>
public sealed partial class OvsdbClient : IAsyncDisposable, IDisposable
{
    private readonly Stream _stream;
    private readonly JsonValueFramer _framer = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly ConcurrentDictionary<string, Channel<OvsdbUpdate>> _monitors = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;
    private Exception? _closedBy;
    private long _nextId;
    private int _disposed;

    /// <summary>A client over an open stream (a connected socket, or an in-memory pair in tests).</summary>
    internal OvsdbClient(Stream stream, OvsdbEndpoint endpoint)
    {
        _stream = stream;
        Endpoint = endpoint;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Where the client is connected.</summary>
    public OvsdbEndpoint Endpoint { get; }

    /// <summary>False once the connection has ended (closed by either side, or broken).</summary>
    public bool IsConnected => Volatile.Read(ref _closedBy) is null;

    /// <summary>Completes when the connection ends (it never faults; <see cref="CloseReason"/> says why).</summary>
    public Task Completion => _closed.Task;

    /// <summary>Why the connection ended, or null while it is up.</summary>
    public Exception? CloseReason => Volatile.Read(ref _closedBy);

    /// <summary>Connects to ovsdb-server at <paramref name="endpoint"/> (the system's default when null).</summary>
    /// <exception cref="OvsdbConnectionException">Nothing listens there. The message says where the client looked,
    /// the errno (<c>ENOENT</c>: no socket; <c>ECONNREFUSED</c>: a socket nobody serves) and how to start Open
    /// vSwitch or name another socket.</exception>
    public static async Task<OvsdbClient> ConnectAsync(OvsdbEndpoint? endpoint = null, CancellationToken cancellationToken = default)
    {
        endpoint ??= OvsdbEndpoint.Default;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint.SocketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw NotReachable(endpoint, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new OvsdbClient(new NetworkStream(socket, ownsSocket: true), endpoint);
    }

    /// <summary>Closes the connection: pending requests fail, monitors complete.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The token source and the lock stay undisposed: a reply sent in the background may still reach for them.
        await _closing.CancelAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
    }

    /// <summary>Closes the connection (see <see cref="DisposeAsync"/>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The message for a socket that could not be reached: where, the errno, how to start Open vSwitch.</summary>
    internal static OvsdbConnectionException NotReachable(OvsdbEndpoint endpoint, SocketException ex)
    {
        // .NET reports both a missing path and a socket nobody listens on as EADDRNOTAVAIL for unix sockets: tell
        // them apart by whether the path exists (the kernel's ENOENT and ECONNREFUSED).
        var exists = Path.Exists(endpoint.SocketPath);
        var errno = ex.SocketErrorCode switch
        {
            _ when !exists => "ENOENT",
            SocketError.AccessDenied => "EACCES",
            SocketError.ConnectionRefused or SocketError.AddressNotAvailable => "ECONNREFUSED",
            var other => other.ToString(),
        };
        var head = errno is "ENOENT" or "ECONNREFUSED"
            ? $"ovsdb-server is not running at {endpoint.SocketPath} ({errno})"
            : $"cannot connect to ovsdb-server at {endpoint.SocketPath} ({errno}: {ex.Message})";
        return new OvsdbConnectionException(
            head + ": start Open vSwitch (`/usr/share/openvswitch/scripts/ovs-ctl start`, or `systemctl start openvswitch-switch`) or give its socket with --ovsdb unix:PATH",
            endpoint,
            errno,
            ex);
    }

    private async Task ReadLoopAsync()
    {
        Exception reason;
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(_framer.GetMemory(16 << 10), _closing.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    reason = new OvsdbConnectionException($"ovsdb-server at {Endpoint.SocketPath} closed the connection", Endpoint);
                    break;
                }

                _framer.Advance(n);
                while (_framer.TryRead(out var message))
                {
                    Dispatch(message!);
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            reason = new ObjectDisposedException(nameof(OvsdbClient), "the ovsdb client was closed");
        }
        catch (OvsdbProtocolException ex)
        {
            reason = new OvsdbProtocolException($"ovsdb-server at {Endpoint.SocketPath}: {ex.Message}; connection closed", ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            reason = new OvsdbConnectionException($"the connection to ovsdb-server at {Endpoint.SocketPath} broke: {ex.Message}", Endpoint, null, ex);
        }
        catch (Exception ex)
        {
            // A message that parsed as JSON but not as what it claimed to be: the stream cannot be trusted any more.
            reason = new OvsdbProtocolException($"ovsdb-server at {Endpoint.SocketPath}: unexpected message ({ex.Message}); connection closed", ex);
        }

        Close(reason);
    }

    private void Close(Exception reason)
    {
        Interlocked.CompareExchange(ref _closedBy, reason, null);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Completion.TrySetException(reason);
            }
        }

        foreach (var id in _monitors.Keys)
        {
            if (_monitors.TryRemove(id, out var channel))
            {
                channel.Writer.TryComplete(reason);
            }
        }

        _stream.Dispose();
        _framer.Dispose();
        _closed.TrySetResult();
    }

    /// <summary>Routes one message: a reply to its request, a notification to its monitor, an echo back.</summary>
    private void Dispatch(JsonDocument message)
    {
        var root = message.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            message.Dispose();
            throw new OvsdbProtocolException($"a message is not a JSON object: {OvsdbDatum.Shorten(root.GetRawText())}");
        }

        if (root.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String)
        {
            using (message)
            {
                OnRequest(root, method.GetString()!);
            }

            return;
        }

        if (!root.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id))
        {
            message.Dispose();
            throw new OvsdbProtocolException($"a reply without a numeric id: {OvsdbDatum.Shorten(root.GetRawText())}");
        }

        if (!_pending.TryRemove(id, out var pending))
        {
            message.Dispose(); // a reply to a request whose caller gave up (cancelled)
            return;
        }

        if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            var ex = JsonRpc.ToException(error, pending.Method);
            message.Dispose();
            pending.Completion.TrySetException(ex);
            return;
        }

        if (!pending.Completion.TrySetResult(message))
        {
            message.Dispose();
        }
    }

    /// <summary>A request or notification from the server: <c>echo</c> is answered with its params, an <c>update</c>
    /// goes to its monitor, a request of another method gets an error reply, other notifications are ignored.</summary>
    private void OnRequest(JsonElement root, string method)
    {
        var id = root.TryGetProperty("id", out var i) ? i : default;
        var hasId = id.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);
        var parameters = root.TryGetProperty("params", out var p) ? p : default;
        switch (method)
        {
            case "echo" when hasId:
                using (var empty = JsonDocument.Parse("[]"u8.ToArray()))
                {
                    SendInBackground(JsonRpc.Result(id, parameters.ValueKind == JsonValueKind.Undefined ? empty.RootElement : parameters));
                }

                break;
            case "update" when parameters.ValueKind == JsonValueKind.Array && parameters.GetArrayLength() == 2:
                var monitorId = parameters[0].ValueKind == JsonValueKind.String ? parameters[0].GetString()! : parameters[0].GetRawText();
                if (_monitors.TryGetValue(monitorId, out var channel))
                {
                    channel.Writer.TryWrite(OvsdbUpdate.Parse(parameters[1]));
                }

                break;
            case var _ when hasId:
                SendInBackground(JsonRpc.Error(id, "unknown method", $"this client does not serve '{method}'"));
                break;
        }
    }

    /// <summary>Sends a reply without holding up the read loop (which must keep reading while a writer waits).</summary>
    private void SendInBackground(ReadOnlyMemory<byte> bytes) => _ = SendQuietlyAsync(bytes);

    private async Task SendQuietlyAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await SendAsync(bytes, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // The connection is going: the read loop reports why.
        }
    }

    /// <summary>Writes one whole message; messages never interleave. Once the lock is held the write is not
    /// cancelled by the caller (half a message would break the stream), only by closing.</summary>
    private async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, _closing.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private readonly record struct Pending(TaskCompletionSource<JsonDocument> Completion, string Method);
}
