using System.Text;
using System.Text.Json;
using Aether.Labs;
using Aether.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Aether.Server.Ui;

/// <summary>
/// The web view's data: <c>GET /v1/ui/labs/{lab}</c> (a lab as drawn, read from the kernel now) and
/// <c>GET /v1/ui/events</c>, a server-sent event stream: <c>overview</c> (the labs, the daemon's loops, the hub) when
/// it changes, read every <see cref="OverviewEvery"/>, and with <c>?lab=NAME</c> a <c>lab</c> event whenever the lab's
/// kernel state changes (<see cref="LabWatch"/>: the kernel's link events, not a timer). A comment line every
/// <see cref="Heartbeat"/> keeps idle connections open. The buttons use the labs' own endpoints (<c>PATCH</c> a link,
/// <c>POST .../links/reconcile</c>). Everything here needs the token over TCP, as the rest of <c>/v1</c> does.
/// </summary>
internal static class UiApi
{
    /// <summary>How often the overview (labs, loops, hub) is read for the stream.</summary>
    public static readonly TimeSpan OverviewEvery = TimeSpan.FromSeconds(2);

    /// <summary>How often an idle stream gets a comment line.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static void Map(IEndpointRouteBuilder app, bool labs)
    {
        var ui = app.MapGroup("/v1/ui").WithTags("ui");
        if (labs)
        {
            ui.MapGet("/labs/{lab}", ViewAsync)
                .WithName("LabUiView")
                .WithSummary("A lab as the web view draws it: nodes, and links as the kernel holds them now with both ends' kernel facts (nothing stored)")
                .Produces<LabUiView>()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        ui.MapGet("/events", EventsAsync)
            .WithName("UiEvents")
            .WithSummary("Server-sent events: 'overview' (labs, loops, hub) when it changes, and with ?lab=NAME 'lab' (LabUiView) whenever the lab's kernel state changes")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task<IResult> ViewAsync(string lab, LabHost host, CancellationToken ct)
    {
        if (!LabNames.IsLabName(lab, out var why))
        {
            return Problems.Invalid("lab", $"'{lab}' is not a lab name: {why}");
        }

        try
        {
            var (_, spec) = await host.LoadAsync(lab, ct).ConfigureAwait(false);
            if (spec.IsPlaced)
            {
                return TypedResults.Ok(await LabUiViews.PlacedAsync(spec, host, lab, ct).ConfigureAwait(false));
            }

            var live = await host.ObserveAsync(spec, ct).ConfigureAwait(false);
            return TypedResults.Ok(LabUiViews.From(spec, live, await host.Store.GetLinksAsync(lab, ct).ConfigureAwait(false), host, lab));
        }
        catch (LabRequestException e)
        {
            return Problems.From(e);
        }
    }

    private static async Task EventsAsync(HttpContext http, string? lab, IHostApplicationLifetime lifetime, IOptions<JsonOptions> json)
    {
        var services = http.RequestServices;
        var labs = services.GetService<LabHost>();
        if (lab is not null && (labs is null || !LabNames.IsLabName(lab, out _)))
        {
            await Problems.Invalid("lab", $"'{lab}' is not a lab name, or this daemon keeps no labs").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.StartAsync(ct).ConfigureAwait(false);

        var options = json.Value.SerializerOptions;
        using var writing = new SemaphoreSlim(1, 1);
        async Task SendAsync(string? name, string data)
        {
            var text = name is null ? $": {data}\n\n" : $"event: {name}\ndata: {data}\n\n";
            await writing.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                writing.Release();
            }
        }

        var tasks = new List<Task> { OverviewAsync(services, options, SendAsync, ct), HeartbeatAsync(SendAsync, ct) };
        LabWatches.Lease? lease = null;
        if (lab is not null)
        {
            lease = await services.GetRequiredService<LabWatches>().SubscribeAsync(lab, ct).ConfigureAwait(false);
            tasks.Add(Task.Run(
                async () =>
                {
                    await foreach (var view in lease.Views.ReadAllAsync(ct).ConfigureAwait(false))
                    {
                        await SendAsync("lab", JsonSerializer.Serialize(view, options)).ConfigureAwait(false);
                    }
                },
                ct));
        }

        try
        {
            await Task.WhenAny(tasks).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task OverviewAsync(IServiceProvider services, JsonSerializerOptions options, Func<string?, string, Task> send, CancellationToken ct)
    {
        string? last = null;
        using var timer = new PeriodicTimer(OverviewEvery);
        do
        {
            var text = JsonSerializer.Serialize(await ReadOverviewAsync(services, ct).ConfigureAwait(false), options);
            if (!string.Equals(text, last, StringComparison.Ordinal))
            {
                await send("overview", text).ConfigureAwait(false);
                last = text;
            }
        }
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
    }

    private static async Task<UiOverview> ReadOverviewAsync(IServiceProvider services, CancellationToken ct)
    {
        var problems = new List<string>();
        List<LabSummary>? labs = null;
        DaemonStatus? status = null;
        Aether.Hub.HubStatus? hub = null;
        if (services.GetService<LabHost>() is { } labHost)
        {
            try
            {
                labs = await LabApi.SummariesAsync(labHost, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Aether.Labs.Store.LabStoreException or LabRequestException or InvalidOperationException)
            {
                problems.Add("labs: " + ex.Message);
            }
        }

        if (services.GetService<HubHost>() is { } hubHost)
        {
            try
            {
                status = await services.GetRequiredService<DaemonInfo>().StatusAsync(hubHost.Hub, ct).ConfigureAwait(false);
                hub = await hubHost.Hub.GetStatusAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Aether.Hub.HubException or InvalidOperationException or IOException)
            {
                problems.Add("hub: " + ex.Message);
            }
        }

        return new UiOverview(labs, status, hub, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    private static async Task HeartbeatAsync(Func<string?, string, Task> send, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Heartbeat);
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            await send(null, "keep-alive").ConfigureAwait(false);
        }
    }
}
