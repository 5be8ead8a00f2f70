using System.Net;
using Aether.Hub;
using Aether.Labs;
using Aether.Labs.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server.Api;

/// <summary><c>/v1/cluster</c> (the controller's role, the leader, the hosts), <c>/v1/labs/{lab}/tunnels</c> (a
/// placed lab's VTEPs) and <c>/v1/overlay/detach-link</c> (the reference's explicit detach).</summary>
internal static class ClusterApi
{
    /// <summary>The longest link id (as the lab store's link key).</summary>
    private const int MaxLinkIdLength = 255;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cluster", ClusterAsync)
            .WithName("Cluster")
            .WithTags("cluster")
            .WithSummary("This controller's role (leader or follower), the leader as the database sees it, and every host (up, or unreachable since when)")
            .Produces<ClusterView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        app.MapGet("/v1/labs/{lab}/tunnels", TunnelsAsync)
            .WithName("LabTunnels")
            .WithTags("labs")
            .WithSummary("The lab's VTEPs (one per host and remote host), each with link_count and its links; none for a lab on one host")
            .Produces<TunnelsView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapPost("/v1/overlay/detach-link", DetachAsync)
            .WithName("DetachLink")
            .WithTags("cluster")
            .WithSummary("Detach a link from a VTEP: {\"lab\", \"link_id\", \"host\", \"remote\" or \"remote_ip\"}; the VTEP goes with its last link")
            .Accepts<DetachLinkRequest>("application/json")
            .Produces<DetachLinkResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
    }

    private static async Task<IResult> ClusterAsync(LabHost labs, CancellationToken ct)
    {
        if (labs.Cluster is not { Store: { } store } cluster)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No cluster", detail: "this daemon controls no cluster: its lab store is not PostgreSQL (aether serve --db postgres://USER@HOST/DB)");
        }

        try
        {
            var leader = await cluster.FindLeaderAsync(ct).ConfigureAwait(false);
            var hosts = await store.ListHostsAsync(ClusterHost.HostTimeout, ct).ConfigureAwait(false);
            var self = cluster.IsLeader;
            return TypedResults.Ok(new ClusterView(
                self ? "leader" : "follower",
                cluster.Name,
                cluster.RoleSince,
                leader is null ? null : new LeaderView(leader.Name, leader.BackendPid, leader.Client, leader.Since, self && string.Equals(leader.Name, cluster.Name, StringComparison.Ordinal)),
                cluster.LastError,
                cluster.LastSweep is { } sweep ? new SweepView(sweep.At, sweep.Result.Placements, sweep.Result.Vteps, sweep.Result.LinkEnds, sweep.Result.Vnis) : null,
                [.. hosts.Select(HostView.From)]));
        }
        catch (ClusterException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "A step failed", detail: e.Message);
        }
    }

    private static async Task<IResult> TunnelsAsync(string lab, LabHost labs, CancellationToken ct)
    {
        if (!LabNames.IsLabName(lab, out var why))
        {
            return Problems.Invalid("lab", $"'{lab}' is not a lab name: {why}");
        }

        try
        {
            var (_, spec) = await labs.LoadAsync(lab, ct).ConfigureAwait(false);
            if (!spec.IsPlaced || labs.Cluster?.Store is not { } store)
            {
                return TypedResults.Ok(new TunnelsView(lab, []));
            }

            var tunnels = await store.ListTunnelsAsync(lab, ct).ConfigureAwait(false);
            return TypedResults.Ok(new TunnelsView(lab, [.. tunnels.Select(TunnelView.From)]));
        }
        catch (LabRequestException e)
        {
            return Problems.From(e);
        }
        catch (ClusterException e)
        {
            return Problems.From(LabRequestException.Failed(lab, "cluster", e.Message, e));
        }
    }

    private static async Task<IResult> DetachAsync(HttpRequest http, LabHost labs, CancellationToken ct)
    {
        if (!http.HasJsonContentType())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: "the body must be JSON (Content-Type: application/json)");
        }

        DetachLinkRequest? request;
        try
        {
            request = await System.Text.Json.JsonSerializer.DeserializeAsync<DetachLinkRequest>(http.Body, LabApi.RequestJson, ct).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException e)
        {
            return Problems.Invalid(LabApi.Field(e.Path), LabApi.Describe(e));
        }

        if (request is null)
        {
            return Problems.Invalid("body", "must be a JSON object {\"lab\", \"link_id\", \"host\", \"remote\" or \"remote_ip\"}");
        }

        var (errors, host, remote, remoteIp) = Check(request);
        if (errors.Count > 0)
        {
            return Problems.From(LabRequestException.Invalid(errors, request.Lab));
        }

        var lab = request.Lab!;
        var linkId = request.LinkId!;
        try
        {
            var cluster = labs.Leading(lab);
            var (_, spec) = await labs.LoadAsync(lab, ct).ConfigureAwait(false);
            if (!spec.Links.Any(l => string.Equals(l.Id.Value, linkId, StringComparison.Ordinal)))
            {
                return Problems.From(LabRequestException.NotFound(lab, $"link_id: lab {lab} has no link '{linkId}' (its links: {(spec.Links.Count == 0 ? "none" : string.Join(", ", spec.Links.Select(l => l.Id.Value)))})"));
            }

            var store = cluster.Store!;
            if (remoteIp is not null)
            {
                var hosts = await store.ListHostsAsync(ClusterHost.HostTimeout, ct).ConfigureAwait(false);
                if (hosts.FirstOrDefault(h => h.Underlay.Equals(remoteIp)) is not { } found)
                {
                    return Problems.From(LabRequestException.NotFound(lab, $"remote_ip: no registered host has underlay {remoteIp}"));
                }

                remote = found.Id;
            }

            var change = await store.DetachAsync(lab, host, remote, linkId, ct).ConfigureAwait(false);
            if (!change.Changed)
            {
                return Problems.From(LabRequestException.NotFound(lab, $"link_id: link '{linkId}' of lab {lab} is not attached to a VTEP on host '{host}' towards '{remote}'"));
            }

            return TypedResults.Ok(new DetachLinkResponse(lab, linkId, host.Value, remote.Value, true, change.Action == VtepAction.DeletePort, change.LinkCount));
        }
        catch (LabRequestException e)
        {
            return Problems.From(e);
        }
        catch (ArgumentException e)
        {
            return Problems.Invalid(e.ParamName ?? "body", e.Message);
        }
        catch (ClusterException e)
        {
            return Problems.From(LabRequestException.Failed(lab, "cluster", e.Message, e));
        }
    }

    /// <summary>Every bad field of a detach, and the hosts it names.</summary>
    private static (List<HubFieldError> Errors, HostId Host, HostId Remote, IPAddress? RemoteIp) Check(DetachLinkRequest request)
    {
        List<HubFieldError> errors = [];
        if (request.Lab is null)
        {
            errors.Add(new HubFieldError("lab", "required: the lab's name"));
        }
        else if (!LabNames.IsLabName(request.Lab, out var why))
        {
            errors.Add(new HubFieldError("lab", $"'{request.Lab}' is not a lab name: {why}"));
        }

        if (string.IsNullOrEmpty(request.LinkId))
        {
            errors.Add(new HubFieldError("link_id", "required: the link's id (r1:eth1-r2:eth1)"));
        }
        else if (request.LinkId.Length > MaxLinkIdLength || request.LinkId.Any(char.IsControl))
        {
            errors.Add(new HubFieldError("link_id", $"1 to {MaxLinkIdLength} printable characters"));
        }

        var host = default(HostId);
        if (request.Host is null)
        {
            errors.Add(new HubFieldError("host", "required: the id of the host whose VTEP the link leaves"));
        }
        else if (!HostId.TryParse(request.Host, out host))
        {
            errors.Add(new HubFieldError("host", $"'{request.Host}' is not a host id: {HostId.Allowed}"));
        }

        var remote = default(HostId);
        IPAddress? remoteIp = null;
        if ((request.Remote is null) == (request.RemoteIp is null))
        {
            errors.Add(new HubFieldError("remote", "exactly one of remote (the remote host's id) and remote_ip (its underlay address)"));
        }
        else if (request.Remote is not null && !HostId.TryParse(request.Remote, out remote))
        {
            errors.Add(new HubFieldError("remote", $"'{request.Remote}' is not a host id: {HostId.Allowed}"));
        }
        else if (request.Remote is not null && remote == host && host.Value is not null)
        {
            errors.Add(new HubFieldError("remote", $"'{request.Remote}' is the host itself: a VTEP joins two hosts"));
        }
        else if (request.RemoteIp is not null && !IPAddress.TryParse(request.RemoteIp, out remoteIp))
        {
            errors.Add(new HubFieldError("remote_ip", $"'{request.RemoteIp}' is not an IP address"));
        }

        return (errors, host, remote, remoteIp);
    }
}
