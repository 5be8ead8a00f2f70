using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aether.Hub;
using Aether.Labs;
using Aether.Labs.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Aether.Server.Api;

/// <summary><c>/v1/labs/...</c>: labs deployed, listed, read and deleted; their interface mappings and node interfaces.
/// The links' endpoints are in <c>LabApi.Links.cs</c>.</summary>
internal static partial class LabApi
{
    /// <summary>The media types of a lab file sent as it is.</summary>
    private static readonly string[] YamlTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

    /// <summary>How request bodies are read: camelCase, and a field the request does not have is an error.</summary>
    internal static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static void Map(IEndpointRouteBuilder app)
    {
        var labs = app.MapGroup("/v1/labs").WithTags("labs");

        labs.MapPost("", DeployAsync)
            .WithName("DeployLab")
            .WithSummary("Deploy a lab: its file as the body (application/yaml or text/yaml), or {\"definition\": \"...\"} as JSON")
            .WithDescription("The file is validated whole before anything is touched: 400 with every problem and its position. 201 when the lab is new, 200 when a lab of that name was deployed already (deployed again with this definition: links and nodes it no longer has are removed). Either way the body has every link's state: a link that could not be made is 'error' with why, and 'error' at the top says when the engine itself failed.")
            .Accepts<LabDeployRequest>("application/json", YamlTypes)
            .Produces<LabLinksView>(StatusCodes.Status201Created)
            .Produces<LabLinksView>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapGet("", ListAsync)
            .WithName("ListLabs")
            .WithSummary("The deployed labs, by name, with their links' counts and what keeps each")
            .Produces<IReadOnlyList<LabSummary>>();

        labs.MapGet("/{lab}", GetAsync)
            .WithName("GetLab")
            .WithSummary("A lab: its nodes (namespace present, process), links with their states, and what keeps it")
            .Produces<LabDetails>()
            .Produces<PlacedLabView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        labs.MapDelete("/{lab}", DeleteAsync)
            .WithName("DeleteLab")
            .WithSummary("Stop the lab's runtime and processes, remove everything it owns (its namespaces), forget it")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapGet("/{lab}/interface-mappings", MappingsAsync)
            .WithName("LabInterfaceMappings")
            .WithSummary("The lab's interface mappings as stored: per node interface its Linux and vendor names, device type, and OVS port, bridge and tag (ovs fabric)")
            .Produces<IReadOnlyList<InterfaceMapping>>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        labs.MapPost("/{lab}/interface-mappings/sync", SyncAsync)
            .WithName("SyncLabInterfaceMappings")
            .WithSummary("Rewrite the lab's interface mappings from the lab and what the kernel (and OVSDB) hold; say what changed")
            .Produces<MappingSyncResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        labs.MapGet("/{lab}/nodes/{node}/interfaces", NodeInterfacesAsync)
            .WithName("LabNodeInterfaces")
            .WithSummary("A node's interfaces under both names, with their links' states and what the kernel holds")
            .Produces<NodeInterfaces>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        MapLinks(labs);
    }

    /// <summary>At most <paramref name="limit"/> bytes of <paramref name="body"/>: what is beyond is not read (the size
    /// check then sees a body over the limit).</summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (buffer.Length < limit)
        {
            var read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit - buffer.Length)), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static async Task<IResult> DeployAsync(HttpRequest http, LabHost host, CancellationToken ct)
    {
        string text;
        if (http.HasJsonContentType())
        {
            LabDeployRequest? request;
            try
            {
                request = await JsonSerializer.DeserializeAsync<LabDeployRequest>(http.Body, RequestJson, ct).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                return Problems.Invalid(Field(e.Path), Describe(e));
            }
            catch (BadHttpRequestException e)
            {
                return TypedResults.Problem(statusCode: e.StatusCode, title: "Bad request body", detail: e.Message);
            }

            if (request?.Definition is not { } definition)
            {
                return Problems.Invalid("definition", "required: the lab file's text");
            }

            text = definition;
        }
        else if (MediaTypeHeaderValue.TryParse(http.ContentType, out var type) && YamlTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            byte[] body;
            try
            {
                body = await ReadBoundedAsync(http.Body, Aether.Topology.DefinitionFile.MaxBytes + 1, ct).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                return TypedResults.Problem(statusCode: e.StatusCode, title: "Bad request body", detail: e.Message);
            }

            // Strict UTF-8 and the size limit, as for a lab file: 400 with the offset of the first byte that is not.
            var decoded = Aether.Topology.DefinitionFile.FromBytes(body);
            if (decoded.Text is null)
            {
                var problem = decoded.Problem!;
                return Problems.From(LabRequestException.InvalidLab([new LabError(LabHost.DefinitionFile, problem.Line, problem.Column, problem.Message)]));
            }

            text = decoded.Text;
        }
        else
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                detail: "the body must be the lab file (Content-Type: application/yaml or text/yaml) or JSON {\"definition\": \"...\"} (application/json)");
        }

        return await GuardAsync(null, async () =>
        {
            if (host.Parse(text) is { IsPlaced: true } placed)
            {
                var (isNew, status) = await host.DeployPlacedAsync(placed, text, ct).ConfigureAwait(false);
                var placedView = PlacedLabView.From("deploy", status);
                return isNew ? TypedResults.Created("/v1/labs/" + Uri.EscapeDataString(placed.Name), placedView) : TypedResults.Ok(placedView);
            }

            var (created, name, result) = await host.DeployAsync(text, ct).ConfigureAwait(false);
            var view = LabLinksView.From("deploy", name, result);
            return created ? TypedResults.Created("/v1/labs/" + Uri.EscapeDataString(name), view) : TypedResults.Ok(view);
        }).ConfigureAwait(false);
    }

    private static Task<IResult> ListAsync(LabHost host, CancellationToken ct) => GuardAsync(null, async () =>
        TypedResults.Ok(await SummariesAsync(host, ct).ConfigureAwait(false)));

    /// <summary>The labs as <c>GET /v1/labs</c> lists them (the web view's overview too).</summary>
    internal static async Task<List<LabSummary>> SummariesAsync(LabHost host, CancellationToken ct)
    {
        var summaries = new List<LabSummary>();
        foreach (var stored in await host.Store.ListLabsAsync(ct).ConfigureAwait(false))
        {
            var links = await host.Store.GetLinksAsync(stored.Name, ct).ConfigureAwait(false);
            var nodes = LabLoader.Parse(stored.Definition, stored.SourcePath ?? stored.Name, host.Profiles).Lab?.Nodes.Count ?? 0;
            var (up, down) = (links.Count(l => l.Status == LinkStatus.Up), links.Count(l => l.Status == LinkStatus.Down));
            summaries.Add(new LabSummary(stored.Name, FabricName(stored.Fabric), stored.Created, nodes, links.Count, up, down, links.Count - up - down, host.RuntimeOf(stored.Name)));
        }

        return summaries;
    }

    private static Task<IResult> GetAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        var (stored, spec) = await host.LoadAsync(lab, ct).ConfigureAwait(false);
        if (spec.IsPlaced)
        {
            var status = await host.PlacedStatusAsync(spec, ct).ConfigureAwait(false);
            return TypedResults.Ok(PlacedLabView.From("get", status, stored.Definition, status.Placements.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal)));
        }

        var links = await host.Store.GetLinksAsync(lab, ct).ConfigureAwait(false);
        var byEnd = links.SelectMany(l => new[] { (l.A.Key, l), (l.B.Key, l) }).ToDictionary(p => p.Key, p => p.l, StringComparer.Ordinal);
        var nodes = spec.Nodes.Select(node =>
        {
            var interfaces = spec.Links.SelectMany(l => new[] { (End: l.A, Link: l), (End: l.B, Link: l) })
                .Where(p => string.Equals(p.End.Node, node.Name, StringComparison.Ordinal))
                .OrderBy(p => p.End.Linux, StringComparer.Ordinal)
                .Select(p => new NodeInterfaceSummary(p.End.Vendor, p.End.Linux, p.Link.Id.Value, byEnd.TryGetValue(p.End.Key, out var s) ? LinkView.StateName(s.Status) : null));
            return new LabNodeInfo(node.Name, node.Kind, node.Namespace, NamespaceExists(node.Namespace), node.Exec, ProcessInfo(host, lab, node), [.. interfaces]);
        });
        return TypedResults.Ok(new LabDetails(stored.Name, FabricName(stored.Fabric), stored.Created, stored.SourcePath, stored.Definition, host.RuntimeOf(lab), [.. nodes], [.. links.Select(LinkView.From)]));
    });

    private static Task<IResult> DeleteAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
        await host.DeleteAsync(lab, ct).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : Problems.From(LabRequestException.NotFound(lab, $"no lab named '{lab}'")));

    private static Task<IResult> MappingsAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        _ = await host.LoadAsync(lab, ct).ConfigureAwait(false);
        return TypedResults.Ok(await host.Store.GetMappingsAsync(lab, ct).ConfigureAwait(false));
    });

    private static Task<IResult> SyncAsync(string lab, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        var sync = await host.SyncMappingsAsync(lab, ct).ConfigureAwait(false);
        return TypedResults.Ok(new MappingSyncResponse(lab, sync.Added, sync.Removed, sync.Updated, sync.Mappings, sync.Interfaces));
    });

    private static Task<IResult> NodeInterfacesAsync(string lab, string node, LabHost host, CancellationToken ct) => GuardAsync(lab, async () =>
    {
        var (_, spec) = await host.LoadAsync(lab, ct).ConfigureAwait(false);
        if (spec.Nodes.FirstOrDefault(n => string.Equals(n.Name, node, StringComparison.Ordinal)) is not { } found)
        {
            return Problems.From(LabRequestException.NotFound(lab, $"lab {lab} has no node '{node}' (its nodes: {string.Join(", ", spec.Nodes.Select(n => n.Name))})"));
        }

        var links = (await host.Store.GetLinksAsync(lab, ct).ConfigureAwait(false)).ToDictionary(l => l.Id);
        var kernel = (await host.ReadInterfacesAsync(spec, ct).ConfigureAwait(false))
            .Where(i => string.Equals(i.Node, node, StringComparison.Ordinal))
            .ToDictionary(i => i.Linux, StringComparer.Ordinal);
        var interfaces = spec.Links
            .SelectMany(l => new[] { (End: l.A, Peer: l.B, Link: l), (End: l.B, Peer: l.A, Link: l) })
            .Where(p => string.Equals(p.End.Node, node, StringComparison.Ordinal))
            .OrderBy(p => p.End.Linux, StringComparer.Ordinal)
            .Select(p =>
            {
                var state = links.GetValueOrDefault(p.Link.Id);
                return new NodeInterfaceInfo(
                    p.End.Vendor, p.End.Linux, p.Link.Id.Value, p.Peer.ToString(), state is null ? null : LinkView.StateName(state.Status), state?.Error,
                    kernel.TryGetValue(p.End.Linux, out var seen) ? KernelInterfaceInfo.From(seen) : null);
            });
        return TypedResults.Ok(new NodeInterfaces(lab, found.Name, found.Kind, found.Namespace, [.. interfaces]));
    });

    /// <summary>Runs a handler: a lab name in the path is checked first (400), refusals and failures become problem
    /// details.</summary>
    private static async Task<IResult> GuardAsync(string? lab, Func<Task<IResult>> body)
    {
        if (lab is not null && !LabNames.IsLabName(lab, out var why))
        {
            return Problems.Invalid("lab", $"{Aether.Netlink.Names.NameText.Quote(lab)} is not a lab name: {why}; allowed: 1-{LabNames.MaxLabNameLength} lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit");
        }

        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (LabRequestException e)
        {
            return Problems.From(e);
        }
        catch (LabStoreException e)
        {
            return Problems.From(LabRequestException.Failed(lab ?? string.Empty, "store", e.Message, e));
        }
        catch (Labs.Cluster.ClusterException e)
        {
            return Problems.From(LabRequestException.Failed(lab ?? string.Empty, "cluster", e.Message, e));
        }
    }

    private static NodeProcessInfo? ProcessInfo(LabHost host, string lab, LabNode node)
    {
        if (host.ProcessOf(lab, node.Name) is { } status)
        {
            var state = status.State switch
            {
                Labs.Supervision.NodeProcessState.Running => "running",
                Labs.Supervision.NodeProcessState.BackingOff => "backing-off",
                _ => "stopped",
            };
            return new NodeProcessInfo(state, status.Pid, status.Restarts, status.LastExit?.ToString(), status.StartedAt, status.LastError);
        }

        return host.ProcessErrorOf(lab, node.Name) is { } error ? new NodeProcessInfo("stopped", null, 0, null, null, error) : null;
    }

    private static bool NamespaceExists(string name) => File.Exists(Path.Combine(Netlink.Namespaces.NetworkNamespace.RunDirectory, name));

    private static string FabricName(LabFabric fabric) => fabric == LabFabric.Ovs ? "ovs" : "veth";

    /// <summary>What is wrong with a JSON body, for people.</summary>
    internal static string Describe(JsonException e) => e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal)
        ? "is not a field of the request (see /openapi/v1.json)"
        : e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
            ? "has the wrong type (see /openapi/v1.json)"
            : "malformed JSON: " + e.Message.Split(" Path:", 2)[0];

    /// <summary>The field a JSON error is about: <c>$.definition</c> → <c>definition</c>; the body as a whole otherwise.</summary>
    internal static string Field(string? path) =>
        path is { Length: > 2 } && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
}
