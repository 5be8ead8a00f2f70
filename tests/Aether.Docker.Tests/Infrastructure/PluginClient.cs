using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Aether.Docker.Tests.Infrastructure;

/// <summary>Speaks the plugin protocol to a unix socket as dockerd does: <c>POST /Method</c> with a JSON body.</summary>
public sealed class PluginClient(string socketPath) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://plugin") };

    /// <summary>Posts <paramref name="body"/> (JSON text) to <c>/METHOD</c>; returns the status and the answer.</summary>
    public async Task<(int Status, JsonElement Body)> CallAsync(string method, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.docker.plugins.v1.2+json");
        using var response = await _http.PostAsync("/" + method, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public void Dispose() => _http.Dispose();
}
