using System.Text.Json;
using System.Text.Json.Serialization;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Api;

/// <summary><c>/v1/hub/...</c>: the hub's networks.</summary>
internal static class HubApi
{
    /// <summary>The largest request body accepted (a network request is well under 1 KiB).</summary>
    private const int MaxBody = 64 * 1024;

    /// <summary>How request bodies are read: the web's camelCase, and a field the request does not have is an error
    /// (a misspelt <c>networkCIDR</c> would otherwise read as a missing one).</summary>
    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static void Map(IEndpointRouteBuilder app)
    {
        var hub = app.MapGroup("/v1/hub").WithTags("hub");

        hub.MapPost("/networks", AddAsync)
            .WithName("AddNetwork")
            .WithSummary("Add a network: wgN and veth-rootN in the host namespace, ethN in the container, the peer, the routes and (on the container's first network) NAT")
            .WithDescription("201 with the network when it was created; 200 when the same network was there already (a no-op but for repairs). Every field is checked before anything is touched.")
            .Accepts<HubNetworkRequest>("application/json")
            .Produces<HubNetworkInfo>(StatusCodes.Status201Created)
            .Produces<HubNetworkInfo>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapDelete("/networks/{id}", RemoveAsync)
            .WithName("RemoveNetwork")
            .WithSummary("Remove a network's objects; the other networks keep working")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapGet("/networks", (HubHost host) => TypedResults.Ok(host.Hub.ListNetworks()))
            .WithName("ListNetworks")
            .WithSummary("The networks as accepted, by index");

        hub.MapGet("/networks/{id}", Get)
            .WithName("GetNetwork")
            .WithSummary("One network as accepted")
            .Produces<HubNetworkInfo>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        hub.MapGet("/networks/{id}/peer.conf", PeerConf)
            .WithName("GetPeerConf")
            .WithSummary("The wg-quick configuration of the far side of a network, for one of its peers")
            .WithDescription("peer=KEY picks the peer (needed when the network has several); endpoint=HOST (the hub's address or DNS name) fills in the Endpoint. The peer's private key and the preshared key are left as comments: the hub never holds the one and never prints the other.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        hub.MapPost("/networks/{id}/attachments", AttachAsync)
            .WithName("AttachContainer")
            .WithSummary("Attach one more container to a network: a veth pair vethN-K (host) to an interface in the container, an address, routes")
            .WithDescription("201 with the attachment when it was created; 200 when the same attachment was there already. Fields left out are chosen: the lowest ethK free in the container, the lowest free address of the network.")
            .Accepts<HubAttachRequest>("application/json")
            .Produces<HubAttachmentInfo>(StatusCodes.Status201Created)
            .Produces<HubAttachmentInfo>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapDelete("/networks/{id}/attachments/{attachmentId}", DetachAsync)
            .WithName("DetachContainer")
            .WithSummary("Detach a container from a network; the network and its other containers keep working")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapPut("/networks/{id}/peers", SetPeerAsync)
            .WithName("SetPeer")
            .WithSummary("Add a peer to a live network, or update it in place; the other peers' sessions are not touched")
            .WithDescription("201 with the peer when it was added; 200 when it was there (updated, or unchanged).")
            .Accepts<HubPeerRequest>("application/json")
            .Produces<HubPeerInfo>(StatusCodes.Status201Created)
            .Produces<HubPeerInfo>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapDelete("/networks/{id}/peers/{publicKey}", RemovePeerAsync)
            .WithName("RemovePeer")
            .WithSummary("Remove a peer (its key in base64url, or base64 percent-encoded); the other peers are not touched")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        hub.MapGet("/status", async (HubHost host, CancellationToken ct) => TypedResults.Ok(await host.Hub.GetStatusAsync(ct).ConfigureAwait(false)))
            .WithName("HubStatus")
            .WithSummary("The networks with what their devices report: peers, endpoints, latest handshakes, transfer counters");
    }

    /// <summary>Reads a JSON body as <typeparamref name="T"/>: the request, or the problem that answers it.</summary>
    private static async Task<(T? Request, IResult? Problem)> ReadAsync<T>(HttpRequest http, CancellationToken ct)
        where T : class
    {
        if (!http.HasJsonContentType())
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: "the body must be JSON (Content-Type: application/json)"));
        }

        if (http.ContentLength > MaxBody)
        {
            return (null, Problems.Invalid("body", $"is larger than {MaxBody} bytes"));
        }

        T? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<T>(http.Body, RequestJson, ct).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return (null, Problems.Invalid(Field(e.Path), Describe(typeof(T), e)));
        }
        catch (BadHttpRequestException e)
        {
            // A body over Kestrel's limit (413) or cut short by the client.
            return (null, TypedResults.Problem(statusCode: e.StatusCode, title: "Bad request body", detail: e.Message));
        }

        return request is null ? (null, Problems.Invalid("body", "must be a JSON object")) : (request, null);
    }

    private static async Task<IResult> AttachAsync(string id, HttpRequest http, HubHost host, CancellationToken ct)
    {
        if (!ValidId(id, out var bad))
        {
            return bad;
        }

        var (request, problem) = await ReadAsync<HubAttachRequest>(http, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            _ = request!.Validate();
            var result = await host.Hub.AttachAsync(id, request, ct).ConfigureAwait(false);
            return result.Created
                ? TypedResults.Created("/v1/hub/networks/" + Uri.EscapeDataString(id) + "/attachments/" + Uri.EscapeDataString(result.Attachment.AttachmentId), result.Attachment)
                : TypedResults.Ok(result.Attachment);
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task<IResult> DetachAsync(string id, string attachmentId, HubHost host, CancellationToken ct)
    {
        if (!ValidId(id, out var problem) || !ValidId(attachmentId, out problem, "attachmentId"))
        {
            return problem;
        }

        try
        {
            await host.Hub.DetachAsync(id, attachmentId, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task<IResult> SetPeerAsync(string id, HttpRequest http, HubHost host, CancellationToken ct)
    {
        if (!ValidId(id, out var bad))
        {
            return bad;
        }

        var (request, problem) = await ReadAsync<HubPeerRequest>(http, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            _ = request!.Validate();
            var result = await host.Hub.SetPeerAsync(id, request, ct).ConfigureAwait(false);
            return result.Created
                ? TypedResults.Created("/v1/hub/networks/" + Uri.EscapeDataString(id) + "/peers/" + Uri.EscapeDataString(result.Peer.PublicKey), result.Peer)
                : TypedResults.Ok(result.Peer);
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task<IResult> RemovePeerAsync(string id, string publicKey, HubHost host, CancellationToken ct)
    {
        if (!ValidId(id, out var problem))
        {
            return problem;
        }

        try
        {
            // Routing leaves %2F encoded in a segment; a key has no '%' of its own.
            publicKey = Uri.UnescapeDataString(publicKey);
            _ = WireGuardHub.ParseKey(publicKey);
            await host.Hub.RemovePeerAsync(id, publicKey, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task<IResult> AddAsync(HttpRequest http, HubHost host, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync<HubNetworkRequest>(http, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            // Checked here, before the hub sees it: a rejected request reaches nothing that could change anything.
            _ = request!.Validate();
            var result = await host.Hub.AddNetworkAsync(request, ct).ConfigureAwait(false);
            return result.Created
                ? TypedResults.Created("/v1/hub/networks/" + Uri.EscapeDataString(result.Network.NetworkId), result.Network)
                : TypedResults.Ok(result.Network);
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task<IResult> RemoveAsync(string id, HubHost host, CancellationToken ct)
    {
        if (!ValidId(id, out var problem))
        {
            return problem;
        }

        try
        {
            await host.Hub.RemoveNetworkAsync(id, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    private static IResult Get(string id, HubHost host)
    {
        if (!ValidId(id, out var problem))
        {
            return problem;
        }

        return host.Hub.ListNetworks().FirstOrDefault(n => string.Equals(n.NetworkId, id, StringComparison.Ordinal)) is { } network
            ? TypedResults.Ok(network)
            : Problems.From(new HubException(HubErrorKind.NotFound, $"no network '{id}'") { NetworkId = id });
    }

    private static IResult PeerConf(string id, string? peer, string? endpoint, HubHost host)
    {
        if (!ValidId(id, out var problem))
        {
            return problem;
        }

        if (host.Hub.ListNetworks().FirstOrDefault(n => string.Equals(n.NetworkId, id, StringComparison.Ordinal)) is not { } network)
        {
            return Problems.From(new HubException(HubErrorKind.NotFound, $"no network '{id}'") { NetworkId = id });
        }

        try
        {
            return TypedResults.Text(HubPeerConf.Write(network, peer, endpoint), "text/plain; charset=utf-8");
        }
        catch (HubException e)
        {
            return Problems.From(e);
        }
    }

    /// <summary>An id in a path is checked as <see cref="HubNetworkRequest.NetworkId"/> is.</summary>
    private static bool ValidId(string id, out IResult problem, string field = "networkId")
    {
        if (id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            problem = null!;
            return true;
        }

        problem = Problems.Invalid(field, "must be 1 to 64 of A-Z a-z 0-9 . _ -");
        return false;
    }

    /// <summary>What is wrong, for people: System.Text.Json's messages name .NET types (<c>Nullable`1</c>).</summary>
    private static string Describe(Type type, JsonException e)
    {
        var property = type.GetProperty(Field(e.Path), System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
        if (e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            return "is not a field of the request (see /openapi/v1.json)";
        }

        if (property is not null && e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return property.PropertyType == typeof(string) ? "must be a JSON string"
                : property.PropertyType == typeof(IReadOnlyList<string>) ? "must be a JSON array of strings"
                : property.PropertyType == typeof(IReadOnlyList<HubPeerRequest>) ? "must be a JSON array of peer objects"
                : "must be a JSON integer";
        }

        return "malformed JSON: " + e.Message.Split(" Path:", 2)[0];
    }

    /// <summary>The field a JSON error is about: <c>$.index</c> → <c>index</c>; the body as a whole otherwise.</summary>
    private static string Field(string? path) =>
        path is { Length: > 2 } && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
}
