using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aether.Netlink.Names;

namespace Aether.Cli;

/// <summary>A failure to reach the daemon, said for people.</summary>
internal sealed class DaemonUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One answer of the daemon.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Body">The body as sent.</param>
internal sealed record DaemonResponse(int Status, string Body)
{
    public bool Ok => Status is >= 200 and < 300;
}

/// <summary>HTTP/JSON to the daemon over its unix socket.</summary>
internal sealed class DaemonClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _socket;

    public DaemonClient(string socket)
    {
        _socket = Path.GetFullPath(socket);
        _http = new HttpClient(Aether.Http.UnixSocketHttp.Handler(_socket)) { BaseAddress = new Uri("http://aether/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public Task<DaemonResponse> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<DaemonResponse> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    public Task<DaemonResponse> PostAsync(string path, string json, CancellationToken ct) => SendAsync(HttpMethod.Post, path, json, ct);

    public Task<DaemonResponse> PutAsync(string path, string json, CancellationToken ct) => SendAsync(HttpMethod.Put, path, json, ct);

    public void Dispose() => _http.Dispose();

    private async Task<DaemonResponse> SendAsync(HttpMethod method, string path, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        try
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            return new DaemonResponse((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException s)
        {
            throw new DaemonUnreachableException(s.SocketErrorCode switch
            {
                SocketError.AccessDenied => $"cannot connect to the daemon at {_socket}: permission denied (its socket is root only)",
                SocketError.ConnectionRefused => $"no daemon is running: nothing listens on {_socket} (start one with 'aether serve')",
                _ when !File.Exists(_socket) => $"no daemon is running: {_socket} does not exist (start one with 'aether serve')",
                _ => $"cannot connect to the daemon at {_socket}: {s.Message}",
            }, e);
        }
    }

    /// <summary>Prints a problem-details answer for people; the exit code: 2 for a 400 (invalid input, nothing
    /// changed), 1 otherwise.</summary>
    public static int Fail(DaemonResponse response)
    {
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            var root = doc.RootElement;
            var detail = Text(root, "detail") ?? Text(root, "title") ?? "HTTP " + response.Status;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                Output.Fail("invalid request, nothing was changed:");
                foreach (var error in errors.EnumerateArray())
                {
                    var field = Text(error, "field") ?? "?";
                    Console.Error.WriteLine(NameText.Printable("  " + Option(field) + ": " + Text(error, "message")));
                }
            }
            else
            {
                Output.Fail(Text(root, "step") is { } step ? $"{detail} (step: {step})" : detail);
            }
        }
        catch (JsonException)
        {
            Output.Fail($"the daemon answered {response.Status}: {response.Body.Trim()}");
        }

        return response.Status == 400 ? ExitCodes.InvalidInput : ExitCodes.Failure;
    }

    /// <summary>A request field as the option that gives it: <c>networkCidr</c> → <c>--network-cidr</c>.</summary>
    internal static string Option(string field)
    {
        if (field is "body")
        {
            return "request";
        }

        switch (field)
        {
            case "privateKey":
                return "--private-key-file";
            case "attachmentId":
                return "--id";
            case "presharedKey":
                return "--preshared-key-file";
        }

        var kebab = new StringBuilder("--");
        foreach (var c in field)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                kebab.Append('-').Append(char.ToLowerInvariant(c));
            }
            else
            {
                kebab.Append(c);
            }
        }

        return kebab.ToString();
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
