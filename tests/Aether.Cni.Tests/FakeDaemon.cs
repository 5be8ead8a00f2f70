using System.Net.Sockets;
using System.Text;

namespace Aether.Cni.Tests;

/// <summary>One request the fake daemon received.</summary>
public sealed record FakeRequest(string Method, string Path, string Body);

/// <summary>
/// A stand-in for the daemon on a unix socket: HTTP/1.1, one request per connection, answered by a function of the
/// request (status and JSON body). It records every request, so a test sees what the plugin asked and what it never
/// asked (a refused configuration reaches nothing).
/// </summary>
public sealed class FakeDaemon : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<FakeRequest, (int Status, string Body)> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<FakeRequest> _requests = [];

    public FakeDaemon(string socket, Func<FakeRequest, (int Status, string Body)> answer)
    {
        Socket = socket;
        _answer = answer;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socket));
        _listener.Listen(16);
        _loop = Task.Run(LoopAsync);
    }

    public string Socket { get; }

    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var stream = new NetworkStream(client, ownsSocket: true);
        while (true)
        {
            // Headers up to the blank line, then Content-Length bytes of body; keep-alive until the client closes.
            var head = new List<byte>();
            var one = new byte[1];
            while (!EndsWithBlankLine(head))
            {
                if (await stream.ReadAsync(one) == 0)
                {
                    return;
                }

                head.Add(one[0]);
            }

            var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
            var start = lines[0].Split(' ');
            var length = lines.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(l => int.Parse(l[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
            var body = new byte[length];
            await stream.ReadExactlyAsync(body);
            var request = new FakeRequest(start[0], start[1], Encoding.UTF8.GetString(body));
            lock (_requests)
            {
                _requests.Add(request);
            }

            var (status, json) = _answer(request);
            var payload = Encoding.UTF8.GetBytes(json);
            var response = $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {payload.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
            await stream.WriteAsync(payload);
        }
    }

    private static bool EndsWithBlankLine(List<byte> b) =>
        b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';
}
