using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Aether.Server.Tests;

/// <summary>
/// The real daemon's metrics and health, read as Prometheus and a probe would: a scrape of <c>/metrics</c> parsed as the
/// text format, after a flood of unauthenticated requests over TCP with a path and method each (their labels must stay
/// bounded), and <c>/healthz</c>, <c>/readyz</c>, <c>/v1/health</c>. Its hub is bound to a test namespace and has no
/// networks.
/// </summary>
public sealed class DaemonTelemetryTests : IAsyncLifetime
{
    private const string Token = "telemetry-token-of-at-least-32-bytes";
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-telemetry-").FullName;
    private readonly Sandbox _box = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _box.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_scrape_follows_the_conventions_and_a_flood_leaves_the_labels_bounded()
    {
        var socket = Path.Combine(_dir, "aether.sock");
        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, Token);
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var port = FreePort();
        var ns = await _box.CreateNamespaceWithIpAsync("h");
        await using var daemon = RealDaemon.Start([
            "serve", "--socket", socket, "--db", Path.Combine(_dir, "aether.db"), "--namespace", ns, "--wireguard-prefix", _box.Name("w"),
            "--listen", $"http://127.0.0.1:{port}", "--token-file", tokenFile, "--hub-resync", "500ms"]);
        await daemon.WaitReadyAsync(socket);

        using var http = Unix.Client(socket);
        (await http.GetAsync("v1/status")).EnsureSuccessStatusCode();
        using var tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var sent = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            var path = "/aet" + Guid.NewGuid().ToString("N");
            var method = (i % 4) switch
            {
                0 => HttpMethod.Get,
                1 => new HttpMethod("AET" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant()),
                2 => HttpMethod.Post,
                _ => new HttpMethod("get"),
            };
            sent.Add(path[1..]);
            if (method.Method.StartsWith("AET", StringComparison.Ordinal))
            {
                sent.Add(method.Method);
            }

            using var request = new HttpRequestMessage(method, path + "?q=" + i);
            request.Headers.TryAddWithoutValidation("X-Aet-" + i, Guid.NewGuid().ToString());
            using var response = await tcp.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a resync pass or two, and past the exporter's 300 ms cache
        using var scrape = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        var text = await scrape.Content.ReadAsStringAsync();
        var families = PrometheusText.Parse(text);

        // The reconcile meter: names after the conventions, seconds, attributes from fixed sets.
        Assert.Equal("counter", families["aether_reconcile_passes_total"].Type);
        Assert.True(families["aether_reconcile_passes_total"].Sum("", "aether_reconcile_source_kind=\"hub/host\"", "aether_reconcile_outcome=\"in_sync\"") >= 2);
        Assert.Equal("histogram", families["aether_reconcile_pass_duration_seconds"].Type);
        Assert.True(families["aether_reconcile_pass_duration_seconds"].Sum("_count", "aether_reconcile_source_kind=\"hub/host\"") >= 2);
        Assert.InRange(families["aether_reconcile_pass_duration_seconds"].Sum("_sum", "aether_reconcile_source_kind=\"hub/host\""), 0, 60);
        var lastSuccess = families["aether_reconcile_last_success_time_seconds"].Sum("");
        Assert.InRange(lastSuccess, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 120, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.Equal(0, families["aether_hub_networks"].Sum(""));

        // ASP.NET Core's own HTTP metrics: the route template, the method from a fixed set, the status code.
        var requests = families["http_server_request_duration_seconds"];
        Assert.Equal("histogram", requests.Type);
        Assert.True(requests.Sum("_count", "http_route=\"/v1/status\"", "http_response_status_code=\"200\"") >= 1);
        Assert.Equal(1000, requests.Sum("_count", "http_response_status_code=\"401\""));
        var series = requests.Samples.Keys.Where(k => k.Suffix == "_count").Select(k => k.Labels).ToList();
        Assert.True(series.Count <= 8, string.Join("\n", series)); // GET, POST, _OTHER refused; /v1/status; /readyz
        Assert.DoesNotContain(sent, text.Contains);
        Assert.DoesNotContain(ns, text, StringComparison.Ordinal); // no label names a namespace

        // Kestrel's and the runtime's.
        Assert.True(families.ContainsKey("kestrel_active_connections"), "no Kestrel metrics");
        Assert.True(families.ContainsKey("dotnet_gc_collections_total") || families.ContainsKey("dotnet_process_cpu_time_seconds_total"), "no runtime metrics");

        // Over TCP, the scrape needs the token as everything else does.
        Assert.Equal(HttpStatusCode.Unauthorized, (await tcp.GetAsync("/metrics")).StatusCode);
        Assert.Equal(0, await daemon.StopAsync());
    }

    [Fact]
    public async Task Liveness_readiness_and_v1_health_answer_with_each_check()
    {
        var socket = Path.Combine(_dir, "aether.sock");
        await using var daemon = RealDaemon.Start([
            "serve", "--socket", socket, "--db", Path.Combine(_dir, "aether.db"), "--namespace", await _box.CreateNamespaceWithIpAsync("h"), "--wireguard-prefix", _box.Name("w")]);
        await daemon.WaitReadyAsync(socket);
        using var http = Unix.Client(socket);

        var live = await ReadAsync(http, "healthz");
        Assert.Equal("healthy", live.GetProperty("status").GetString());
        Assert.Empty(live.GetProperty("checks").EnumerateArray());

        foreach (var path in new[] { "readyz", "v1/health" })
        {
            var ready = await ReadAsync(http, path);
            Assert.Equal("healthy", ready.GetProperty("status").GetString());
            var checks = ready.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
            Assert.Equal(["hub", "labs", "loops", "store"], checks.Keys.Order(StringComparer.Ordinal));
            Assert.All(checks.Values, c => Assert.Equal("healthy", c.GetProperty("status").GetString()));
            Assert.Equal("the hub is up with 0 network(s)", checks["hub"].GetProperty("description").GetString());
            Assert.Equal("the store answers: 0 network(s) stored", checks["store"].GetProperty("description").GetString());
        }

        Assert.Equal(0, await daemon.StopAsync());
    }

    private static async Task<JsonElement> ReadAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
