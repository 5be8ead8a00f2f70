using System.Net.Sockets;
using System.Text;

namespace Aether.Server.Tests;

/// <summary>HTTP/1.1 written by hand on a unix socket: what a hostile client sends (floods, chunked bodies, requests
/// it never finishes), which <see cref="HttpClient"/> would not.</summary>
public static class RawHttp
{
    /// <summary>A connected socket.</summary>
    public static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="head"/> and then <paramref name="body"/> (while reading, so a server that answers
    /// early is heard) and returns the status code of the first response, or 0 when the connection closed without one.</summary>
    public static async Task<int> ExchangeAsync(string path, string head, IEnumerable<byte[]>? body = null, TimeSpan? timeout = null)
    {
        using var socket = await ConnectAsync(path);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var reading = ReadStatusAsync(socket, cts.Token);
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cts.Token);
            foreach (var part in body ?? [])
            {
                if (reading.IsCompleted)
                {
                    break;
                }

                await socket.SendAsync(part, SocketFlags.None, cts.Token);
            }
        }
        catch (SocketException)
        {
            // The server answered and closed while the body was still going: the answer is what counts.
        }

        return await reading;
    }

    /// <summary>A chunked body: <paramref name="payload"/> in chunks of 64 KiB, then the last chunk.</summary>
    public static IEnumerable<byte[]> Chunked(byte[] payload)
    {
        const int size = 64 * 1024;
        for (var offset = 0; offset < payload.Length; offset += size)
        {
            var n = Math.Min(size, payload.Length - offset);
            var chunk = new byte[n + 16];
            var header = Encoding.ASCII.GetBytes($"{n:x}\r\n");
            header.CopyTo(chunk, 0);
            Array.Copy(payload, offset, chunk, header.Length, n);
            "\r\n"u8.CopyTo(chunk.AsSpan(header.Length + n));
            yield return chunk[..(header.Length + n + 2)];
        }

        yield return "0\r\n\r\n"u8.ToArray();
    }

    /// <summary>Reads until the status line is complete; 0 when the peer closed (or reset) first.</summary>
    public static async Task<int> ReadStatusAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    return 0;
                }

                seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
                var text = seen.ToString();
                var end = text.IndexOf("\r\n", StringComparison.Ordinal);
                if (end > 0)
                {
                    var parts = text[..end].Split(' ');
                    return int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}
