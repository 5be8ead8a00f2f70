using System.Net;
using System.Text.Json;
using Aether.Hub;
using Aether.Reconcile;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aether.Server.Tests;

/// <summary>
/// The Generic Host API as a .NET developer uses it: an app of one's own built with <c>AddAetherHub</c>,
/// <c>AddAetherLabs</c> and <c>MapAetherApi</c>, its options bound from the configuration's <c>Aether</c> section
/// and changed in code, validated when the host starts; a fake hub, on a test server in the test process.
/// </summary>
public sealed class HostApiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-hostapi-").FullName;
    private readonly FakeHub _hub = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WebApplication Build(Action<ServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aether:DatabasePath"] = Path.Combine(_dir, "hub.db"),
            ["Aether:LabStateDirectory"] = _dir,
            ["Aether:HubResync"] = "00:00:07",
            ["Aether:LabRuntimes"] = "false",
            ["Aether:Version"] = "from-configuration",
        });
        builder.Services.AddSingleton<IHubStore>(new InMemoryHubStore());
        builder.Services.AddAetherHub(o =>
        {
            o.Hub = (_, _) => Task.FromResult<IWireGuardHub>(_hub);
            configure?.Invoke(o);
        });
        builder.Services.AddAetherLabs(o => o.Version = "mine");
        var app = builder.Build();
        app.MapAetherApi();
        return app;
    }

    [Fact]
    public async Task An_app_with_AddAether_and_MapAetherApi_serves_the_api_health_and_metrics()
    {
        await using var app = Build();
        await app.StartAsync();
        using var client = app.GetTestClient();

        // Bound from the configuration, then the code's changes over it.
        var options = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(7), options.HubResync);
        Assert.Equal(Path.Combine(_dir, "hub.db"), options.DatabasePath);
        Assert.False(options.LabRuntimes);
        Assert.Equal("mine", options.Version);

        var status = JsonDocument.Parse(await client.GetStringAsync("/v1/status")).RootElement;
        Assert.Equal("mine", status.GetProperty("version").GetString());

        using var added = await client.PostAsync("/v1/hub/networks", Requests.Json(Requests.Valid()));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Single(_hub.Mutations);

        var labs = JsonDocument.Parse(await client.GetStringAsync("/v1/labs")).RootElement;
        Assert.Equal(JsonValueKind.Array, labs.ValueKind);

        var ready = JsonDocument.Parse(await client.GetStringAsync("/readyz")).RootElement;
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        Assert.Equal(4, ready.GetProperty("checks").GetArrayLength());

        using var metrics = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("# TYPE aether_hub_networks gauge", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_failing_loop_makes_the_app_degraded_with_the_reason_and_still_ready()
    {
        _hub.Loops =
        [
            new ReconcileStatus("hub/host", true, 5, 2, null, null, new PassReport(5, "hub/host", PassOutcome.Failed, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(3), [], [], [], "add wg1: Operation not permitted")),
            new ReconcileStatus("hub/container c1", true, 4, 0, DateTimeOffset.UtcNow, null, null),
        ];
        await using var app = Build();
        await app.StartAsync();
        using var client = app.GetTestClient();

        foreach (var path in new[] { "/readyz", "/v1/health" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // degraded is still ready: the API answers
            var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("degraded", ready.GetProperty("status").GetString());
            var loops = ready.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "loops");
            Assert.Equal("degraded", loops.GetProperty("status").GetString());
            Assert.Equal("hub/host: 2 failed pass(es) in a row: add wg1: Operation not permitted", loops.GetProperty("description").GetString());
        }

        // Liveness runs no check: the process serves.
        Assert.Equal("healthy", JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement.GetProperty("status").GetString());
        await app.StopAsync();
    }

    [Fact]
    public async Task Invalid_options_stop_the_start_with_every_problem_named()
    {
        await using var app = Build(o =>
        {
            o.DatabasePath = "";
            o.Listen = new Uri("http://192.0.2.1:7070");
            o.HubResync = TimeSpan.Zero;
        });
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("DatabasePath (--db): is required", refused.Failures);
        Assert.Contains(refused.Failures, f => f.Contains("only a loopback address", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("HubResync (--hub-resync): must be more than 0", StringComparison.Ordinal));
        Assert.Empty(_hub.Calls); // the hub was never started
    }

    [Fact]
    public void Map_without_the_services_says_what_is_missing()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var app = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapAetherApi());
        Assert.Contains("AddAetherHub", error.Message, StringComparison.Ordinal);
    }
}
