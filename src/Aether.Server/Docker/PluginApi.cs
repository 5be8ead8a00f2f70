using System.Text.Json;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Docker;

/// <summary>The protocol's endpoints: <c>POST /Plugin.Activate</c> and <c>POST /NetworkDriver.*</c>, JSON in and out,
/// every error <c>{"Err": "..."}</c> with the status of its kind (400 invalid, 404 unknown, 409 conflict, 500 failed).
/// They answer on the plugin's socket only (its connections carry <see cref="ConnectionMark"/>).</summary>
internal static class PluginApi
{
    /// <summary>The connection item that marks a connection to the plugin's socket.</summary>
    public const string ConnectionMark = "aether.docker-plugin";

    /// <summary>The media type of the protocol's answers.</summary>
    public const string MediaType = "application/vnd.docker.plugins.v1.2+json";

    /// <summary>The largest request body (dockerd's are well under 4 KiB).</summary>
    private const int MaxBody = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = false };

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").ExcludeFromDescription().AddEndpointFilter(async (context, next) =>
            context.HttpContext.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ConnectionMark) == true
                ? await next(context).ConfigureAwait(false)
                : Results.NotFound());

        group.MapPost("/Plugin.Activate", () => Answer(new Dictionary<string, string[]>(StringComparer.Ordinal) { ["Implements"] = ["NetworkDriver"] }));
        group.MapPost("/NetworkDriver.GetCapabilities", () => Answer(new Dictionary<string, string>(StringComparer.Ordinal) { ["Scope"] = "local", ["ConnectivityScope"] = "local" }));
        group.MapPost("/NetworkDriver.CreateNetwork", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<CreateNetworkMessage>(http, async m => { await host.Driver.CreateNetworkAsync(m, ct).ConfigureAwait(false); return Empty; }));
        group.MapPost("/NetworkDriver.DeleteNetwork", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<EndpointMessage>(http, async m => { await host.Driver.DeleteNetworkAsync(m, ct).ConfigureAwait(false); return Empty; }));
        group.MapPost("/NetworkDriver.CreateEndpoint", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<EndpointMessage>(http, async m => await host.Driver.CreateEndpointAsync(m, ct).ConfigureAwait(false)));
        group.MapPost("/NetworkDriver.DeleteEndpoint", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<EndpointMessage>(http, async m => { await host.Driver.DeleteEndpointAsync(m, ct).ConfigureAwait(false); return Empty; }));
        group.MapPost("/NetworkDriver.Join", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<EndpointMessage>(http, async m => await host.Driver.JoinAsync(m, ct).ConfigureAwait(false)));
        group.MapPost("/NetworkDriver.Leave", (HttpContext http, DriverHost host, CancellationToken ct) =>
            HandleAsync<EndpointMessage>(http, async m => { await host.Driver.LeaveAsync(m, ct).ConfigureAwait(false); return Empty; }));
        group.MapPost("/NetworkDriver.EndpointOperInfo", (HttpContext http, DriverHost host) =>
            HandleAsync<EndpointMessage>(http, m => Task.FromResult<object>(new Dictionary<string, object>(StringComparer.Ordinal) { ["Value"] = host.Driver.OperInfo(m) })));

        // Nothing to do for a local-scope driver that programs no external connectivity, but dockerd calls them.
        foreach (var method in (string[])["DiscoverNew", "DiscoverDelete", "ProgramExternalConnectivity", "RevokeExternalConnectivity", "AllocateNetwork", "FreeNetwork"])
        {
            group.MapPost("/NetworkDriver." + method, () => Answer(Empty));
        }
    }

    private static readonly Dictionary<string, string> Empty = new(StringComparer.Ordinal);

    private static IResult Answer(object value, int status = StatusCodes.Status200OK) =>
        Results.Json(value, Json, MediaType, status);

    private static async Task<IResult> HandleAsync<T>(HttpContext http, Func<T, Task<object>> handler)
        where T : class
    {
        T? message;
        try
        {
            using var limited = new MemoryStream();
            await http.Request.Body.CopyToAsync(limited, http.RequestAborted).ConfigureAwait(false);
            if (limited.Length > MaxBody)
            {
                return Answer(new ErrorAnswer($"body: larger than {MaxBody} bytes"), StatusCodes.Status413PayloadTooLarge);
            }

            limited.Position = 0;
            message = limited.Length == 0 ? null : await JsonSerializer.DeserializeAsync<T>(limited, Json, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return Answer(new ErrorAnswer("body: not the protocol's JSON: " + e.Message), StatusCodes.Status400BadRequest);
        }

        if (message is null)
        {
            return Answer(new ErrorAnswer("body: a JSON object is required"), StatusCodes.Status400BadRequest);
        }

        try
        {
            return Answer(await handler(message).ConfigureAwait(false));
        }
        catch (DriverException e)
        {
            return Answer(new ErrorAnswer(e.Message), e.Kind switch
            {
                HubErrorKind.Invalid => StatusCodes.Status400BadRequest,
                HubErrorKind.NotFound => StatusCodes.Status404NotFound,
                HubErrorKind.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status500InternalServerError,
            });
        }
    }
}
