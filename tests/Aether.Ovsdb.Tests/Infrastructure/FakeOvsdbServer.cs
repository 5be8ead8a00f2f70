using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Aether.Ovsdb.Tests.Infrastructure;

/// <summary>
/// The server's side of one OVSDB connection, played by the test: a unix socket in a temporary directory, one
/// accepted connection, the client's messages read with System.Text.Json's own reader (not the client's framer), and
/// whatever bytes the test wants written, in whatever pieces.
/// </summary>
public sealed class FakeOvsdbServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Socket _listener;
    private Socket? _connection;
    private byte[] _pending = [];

    private FakeOvsdbServer(string directory, Socket listener)
    {
        _directory = directory;
        _listener = listener;
    }

    public string SocketPath => Path.Combine(_directory, "db.sock");

    /// <summary>A listening server and a client connected to it.</summary>
    public static async Task<(FakeOvsdbServer Server, OvsdbClient Client)> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("aet" + RandomNumberGenerator.GetHexString(5, lowercase: true) + "fake").FullName;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(directory, "db.sock")));
        listener.Listen(1);
        var server = new FakeOvsdbServer(directory, listener);
        var accept = listener.AcceptAsync();
        var client = await OvsdbClient.ConnectAsync(OvsdbEndpoint.Unix(server.SocketPath));
        server._connection = await accept;
        return (server, client);
    }

    /// <summary>The next message the client sent.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var chunk = new byte[4096];
        while (true)
        {
            if (TryTake(out var message))
            {
                return message;
            }

            var n = await _connection!.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new EndOfStreamException("the client closed the connection");
            }

            _pending = [.. _pending, .. chunk.AsSpan(0, n)];
        }
    }

    /// <summary>Writes <paramref name="text"/> in one send.</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/> in one send.</summary>
    public async Task SendAsync(byte[] bytes) => await _connection!.SendAsync(bytes, SocketFlags.None);

    /// <summary>Writes <paramref name="text"/> in pieces cut at <paramref name="cuts"/>, pausing between them so
    /// that each piece is a read of its own on the client's side.</summary>
    public async Task SendInPiecesAsync(string text, params int[] cuts)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            await _connection!.SendAsync(bytes.AsMemory(start, cut - start), SocketFlags.None);
            start = cut;
            await Task.Delay(30);
        }
    }

    /// <summary>Closes the server's end of the connection.</summary>
    public void CloseConnection() => _connection?.Dispose();

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private bool TryTake(out JsonElement message)
    {
        var reader = new Utf8JsonReader(_pending, isFinalBlock: false, state: new JsonReaderState(new JsonReaderOptions { AllowMultipleValues = true }));
        if (JsonDocument.TryParseValue(ref reader, out var doc))
        {
            using (doc)
            {
                message = doc!.RootElement.Clone();
            }

            _pending = _pending[(int)reader.BytesConsumed..];
            return true;
        }

        message = default;
        return false;
    }
}
