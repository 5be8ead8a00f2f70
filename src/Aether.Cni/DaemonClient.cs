using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Aether.Cni;

/// <summary>One answer of the daemon.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The body.</param>
internal sealed record DaemonAnswer(int Status, string Body);

/// <summary>HTTP/JSON to the daemon over its unix socket.</summary>
internal sealed class DaemonClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _socket;

    public DaemonClient(string socket)
    {
        _socket = socket;
        _http = new HttpClient(Aether.Http.UnixSocketHttp.Handler(_socket)) { BaseAddress = new Uri("http://aether/"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public Task<DaemonAnswer> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<DaemonAnswer> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    public Task<DaemonAnswer> PostAsync(string path, byte[] json, CancellationToken ct) => SendAsync(HttpMethod.Post, path, json, ct);

    public void Dispose() => _http.Dispose();

    /// <summary>The error for an answer the caller did not expect: 400 → code 7 naming each field the daemon named;
    /// 409 → code 100; 404 → code 102 (<paramref name="notFound"/>); anything else → code 101.</summary>
    public static CniException Failure(string what, DaemonAnswer answer, int notFound = CniCodes.DaemonFailed)
    {
        ArgumentNullException.ThrowIfNull(answer);
        string? detail = null, step = null;
        var fields = new List<FieldError>();
        try
        {
            using var doc = JsonDocument.Parse(answer.Body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                detail = Text(root, "detail") ?? Text(root, "title");
                step = Text(root, "step");
                if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                {
                    fields.AddRange(errors.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object)
                        .Select(e => new FieldError(Text(e, "field") ?? "?", Text(e, "message") ?? "")));
                }
            }
        }
        catch (JsonException)
        {
            detail = answer.Body.Trim();
        }

        detail ??= "HTTP " + answer.Status;
        if (answer.Status == 400 && fields.Count > 0)
        {
            var e = CniException.Fields(CniCodes.InvalidNetworkConfig, what + " (refused by the daemon)", fields);
            return e;
        }

        var code = answer.Status switch
        {
            400 => CniCodes.InvalidNetworkConfig,
            404 => notFound,
            409 => CniCodes.Conflict,
            _ => CniCodes.DaemonFailed,
        };
        var message = $"{what}: the daemon answered {answer.Status}: {detail}" + (step is null ? "" : $" (step: {step})");
        var details = fields.Count > 0 ? string.Join("\n", fields.Select(f => f.Field + ": " + f.Message)) : answer.Body.Trim();
        return new CniException(code, message, details);
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private async Task<DaemonAnswer> SendAsync(HttpMethod method, string path, byte[]? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        try
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            return new DaemonAnswer((int)response.StatusCode, Encoding.UTF8.GetString(body));
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException s)
        {
            // The daemon not running (yet) is what code 11 is for: the runtime may try again later.
            throw new CniException(CniCodes.TryAgainLater, s.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"the aether daemon is not running: nothing listens on {_socket}",
                SocketError.AccessDenied => $"cannot connect to the aether daemon at {_socket}: permission denied",
                _ when !File.Exists(_socket) => $"the aether daemon is not running: {_socket} does not exist",
                _ => $"cannot connect to the aether daemon at {_socket}: {s.Message}",
            });
        }
        catch (HttpRequestException e)
        {
            throw new CniException(CniCodes.DaemonFailed, $"talking to the aether daemon at {_socket} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CniException(CniCodes.TryAgainLater, $"the aether daemon at {_socket} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }
}
