using System.Text.Json;
using Aether.Hub;
using Aether.Labs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Api;

/// <summary><c>/v1/labs/{lab}/links/...</c>: a lab's links, their administrative state, the reconciliation, and hot
/// connect and disconnect. A link in a path is its identity (<c>r1:eth1-r2:eth1</c>) or its two endpoints under either
/// name (<c>r1:Ethernet1-r2:ge-0/0/0</c>), percent-encoded or not (the rest of the path is the link).</summary>
internal static partial class LabApi
{
    private static void MapLinks(RouteGroupBuilder labs)
    {
        labs.MapGet("/{lab}/links", LinksAsync)
            .WithName("LabLinks")
            .WithSummary("The lab's links with their stored states (as aether lab links -o json prints them)")
            .Produces<LabLinksView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        labs.MapPost("/{lab}/links", ConnectAsync)
            .WithName("ConnectLabLink")
            .WithSummary("Hot connect: add a link to the deployed lab, {\"endpoints\": [\"r1:Ethernet3\", \"r2:ge-0/0/2\"], \"mtu\": 1500}")
            .WithDescription("The lab with the link is validated as a lab file (400 with the request's fields when it is not valid: an unknown node, an interface the node's kind cannot name, an interface another link uses, the same link twice), deployed, and the link verified: 201 with its state, 'error' with why when it could not be made.")
            .Accepts<LinkConnectRequest>("application/json")
            .Produces<LinkView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapPost("/{lab}/links/reconcile", ReconcileAsync)
            .WithName("ReconcileLabLinks")
            .WithSummary("Verify every link, repair what is broken, and say how many were checked, valid, repaired and still in error")
            .Produces<LabLinksView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapPatch("/{lab}/links/{**id}", PatchAsync)
            .WithName("SetLabLinkState")
            .WithSummary("Set a link administratively down (both ends kept down) or up again: {\"state\": \"down\"} or {\"state\": \"up\"}")
            .Accepts<LinkAdminRequest>("application/json")
            .Produces<LinkView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapDelete("/{lab}/links/{**id}", DisconnectAsync)
            .WithName("DisconnectLabLink")
            .WithSummary("Hot disconnect: the lab without the link is deployed (its veth is deleted)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status500InternalServerError);
    }

    private static Task<IResult> LinksAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        var (_, spec) = await host.LoadAsync(lab, ct).ConfigureAwait(false);
        if (spec.IsPlaced)
        {
            return TypedResults.Ok(PlacedLabView.From("links", await host.PlacedStatusAsync(spec, ct).ConfigureAwait(false)));
        }

        var links = await host.Store.GetLinksAsync(lab, ct).ConfigureAwait(false);
        return TypedResults.Ok(LabLinksView.From("links", lab, new LabResult(links, [], null)));
    });

    private static Task<IResult> ReconcileAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
        TypedResults.Ok(LabLinksView.From("reconcile", lab, await host.ReconcileAsync(lab, ct).ConfigureAwait(false))));

    private static async Task<IResult> PatchAsync(string lab, string id, HttpRequest http, LabHost host, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync<LinkAdminRequest>(http, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        bool up;
        switch (request!.State)
        {
            case "up":
                up = true;
                break;
            case "down":
                up = false;
                break;
            default:
                return Problems.Invalid("state", request.State is null ? "required: \"down\" or \"up\"" : $"must be \"down\" or \"up\", not \"{request.State}\"");
        }

        return await GuardAsync(lab, async () =>
            TypedResults.Ok(LinkView.From(await host.SetAdminStateAsync(lab, LinkPath(id), up, ct).ConfigureAwait(false)))).ConfigureAwait(false);
    }

    private static async Task<IResult> ConnectAsync(string lab, HttpRequest http, LabHost host, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync<LinkConnectRequest>(http, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        List<HubFieldError> errors = [];
        var endpoints = request!.Endpoints ?? [];
        if (endpoints.Count != 2)
        {
            errors.Add(new HubFieldError("endpoints", $"a link has exactly two endpoints, [\"r1:Ethernet1\", \"r2:ge-0/0/0\"]; got {endpoints.Count}"));
        }

        for (var i = 0; i < endpoints.Count; i++)
        {
            if (endpoints[i] is not { } end || end.IndexOf(':', StringComparison.Ordinal) <= 0)
            {
                errors.Add(new HubFieldError($"endpoints[{i}]", $"expected 'node:interface', got {(endpoints[i] is null ? "null" : $"'{endpoints[i]}'")}"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.From(LabRequestException.Invalid(errors, lab));
        }

        return await GuardAsync(lab, async () =>
        {
            var state = await host.ConnectAsync(lab, [.. endpoints.Select(e => e!)], request.Mtu, ct).ConfigureAwait(false);
            return TypedResults.Created($"/v1/labs/{Uri.EscapeDataString(lab)}/links/{Uri.EscapeDataString(state.Id.Value)}", LinkView.From(state));
        }).ConfigureAwait(false);
    }

    private static Task<IResult> DisconnectAsync(string lab, string id, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        var link = LinkPath(id);
        if (await host.DisconnectAsync(lab, link, ct).ConfigureAwait(false))
        {
            return TypedResults.NoContent();
        }

        var (_, spec) = await host.LoadAsync(lab, ct).ConfigureAwait(false);
        return Problems.From(LabRequestException.NotFound(lab, $"lab {lab} has no link '{link}' (its links: {(spec.Links.Count == 0 ? "none" : string.Join(", ", spec.Links.Select(l => l.Id.Value)))})"));
    });

    /// <summary>A link in a path: Kestrel leaves <c>%2F</c> encoded in a path (a <c>/</c> in <c>ge-0/0/0</c>), so what
    /// is still encoded is decoded here.</summary>
    private static string LinkPath(string id) => id.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(id) : id;

    /// <summary>Reads a JSON body, or the problem with it (415 when it is not JSON, 400 naming the field).</summary>
    private static async Task<(T? Request, IResult? Problem)> ReadAsync<T>(HttpRequest http, CancellationToken ct)
        where T : class
    {
        if (!http.HasJsonContentType())
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: "the body must be JSON (Content-Type: application/json)"));
        }

        try
        {
            var request = await JsonSerializer.DeserializeAsync<T>(http.Body, RequestJson, ct).ConfigureAwait(false);
            return request is null ? (null, Problems.Invalid("body", "must be a JSON object")) : (request, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Invalid(Field(e.Path), Describe(e)));
        }
        catch (BadHttpRequestException e)
        {
            return (null, TypedResults.Problem(statusCode: e.StatusCode, title: "Bad request body", detail: e.Message));
        }
    }
}
