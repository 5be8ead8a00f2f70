using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests;

/// <summary>The app on Kestrel in this process, against what a hostile client sends: bodies over the limit (chunked
/// too), header and request-line floods, too many connections, requests without a token in their thousands, and a
/// handler that never returns when the daemon stops. Each refusal is checked with the fake hub's record of calls: no
/// request over a limit reached it.</summary>
public sealed partial class LimitTests : IDisposable
{
    private const string Token = "aet-limits-token-0123456789abcdef0123456789";

    private readonly string _dir = Directory.CreateTempSubdirectory("aether-limits-").FullName;
    private readonly FakeHub _hub = new();

    private string Socket => Path.Combine(_dir, "aether.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WebApplication Build(Uri? listen = null, Action<WebApplicationBuilder>? more = null)
    {
        var token = Path.Combine(_dir, "token");
        File.WriteAllText(token, Token);
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return AetherServer.BuildApp(new ServerOptions
        {
            SocketPath = Socket,
            DatabasePath = Path.Combine(_dir, "aether.db"),
            Listen = listen,
            TokenFile = token,
            Hub = (_, _) => Task.FromResult<IWireGuardHub>(_hub),
            ConfigureBuilder = b =>
            {
                b.Services.AddSingleton<IHubStore>(new InMemoryHubStore());
                more?.Invoke(b);
            },
        });
    }

    private static string PostHead(string extra = "") =>
        "POST /v1/hub/networks HTTP/1.1\r\nHost: aether\r\nContent-Type: application/json\r\n" + extra;

    /// <summary>A valid network after <paramref name="padding"/> bytes of whitespace: accepted whole, were it not
    /// for the limit.</summary>
    private static byte[] PaddedNetwork(string id, int index, int padding) =>
        [.. Enumerable.Repeat((byte)' ', padding), .. Encoding.UTF8.GetBytes(Requests.Valid(id, index).ToJsonString())];

    [Fact]
    public async Task Bodies_over_1_MiB_chunked_or_not_get_413_and_reach_nothing_while_one_under_it_is_served()
    {
        var app = Build();
        await using (app)
        {
            await app.StartAsync();

            // Control: a chunked body of 900 KiB is read whole and the network added (the oracle sees a mutation).
            var under = await RawHttp.ExchangeAsync(Socket, PostHead("Transfer-Encoding: chunked\r\n\r\n"), RawHttp.Chunked(PaddedNetwork("aetok", 1, 900 * 1024)));
            Assert.Equal(201, under);
            Assert.Equal(["add aetok"], _hub.Mutations);

            // Chunked, over the limit by a little and by a lot: 413, the hub never hears of it.
            foreach (var (id, size) in new[] { ("aetbig1", (1024 * 1024) + 1), ("aetbig2", 3 * 1024 * 1024) })
            {
                var status = await RawHttp.ExchangeAsync(Socket, PostHead("Transfer-Encoding: chunked\r\n\r\n"), RawHttp.Chunked(PaddedNetwork(id, 2, size)));
                Assert.Equal(413, status);
            }

            // A Content-Length over the limit: refused before a byte of the body is read (the hub's endpoint refuses
            // any over 64 KiB itself, with 400 naming the body).
            var declared = await RawHttp.ExchangeAsync(Socket, PostHead("Content-Length: 5000000\r\n\r\n"), [PaddedNetwork("aetbig3", 3, 1000)]);
            Assert.Equal(400, declared);

            // A lab file (YAML) over the limit, chunked and declared: 413 from Kestrel, no lab.
            var yaml = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("# aet padding line\n", 120_000)));
            Assert.True(yaml.Length > ServerLimits.MaxBodyBytes);
            const string labHead = "POST /v1/labs HTTP/1.1\r\nHost: aether\r\nContent-Type: application/yaml\r\n";
            Assert.Equal(413, await RawHttp.ExchangeAsync(Socket, labHead + "Transfer-Encoding: chunked\r\n\r\n", RawHttp.Chunked(yaml)));
            Assert.Equal(413, await RawHttp.ExchangeAsync(Socket, labHead + $"Content-Length: {yaml.Length}\r\n\r\n", [yaml]));

            Assert.Equal(["add aetok"], _hub.Mutations);
            using var unix = Unix.Client(Socket);
            Assert.Equal("aetok", Assert.Single(System.Text.Json.JsonDocument.Parse(await unix.GetStringAsync("/v1/hub/networks")).RootElement.EnumerateArray()).GetProperty("networkId").GetString());
            Assert.Empty(System.Text.Json.JsonDocument.Parse(await unix.GetStringAsync("/v1/labs")).RootElement.EnumerateArray());
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Header_floods_and_long_request_lines_are_refused_before_any_handler()
    {
        var app = Build();
        await using (app)
        {
            await app.StartAsync();
            var body = Requests.Valid("aetflood", 4).ToJsonString();
            string Post(string headers) => PostHead(headers + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n") + body;

            // Control: the same request with a few extra headers is served.
            Assert.Equal(201, await RawHttp.ExchangeAsync(Socket, Post("X-Aet-1: a\r\nX-Aet-2: b\r\n")));
            Assert.Equal(["add aetflood"], _hub.Mutations);
            _hub.Calls.Clear();

            var count = string.Concat(Enumerable.Range(0, ServerLimits.MaxHeaderCount + 1).Select(i => $"X-Aet-{i}: v\r\n"));
            var many = string.Concat(Enumerable.Range(0, 10_000).Select(i => $"X-Aet-{i}: v\r\n"));
            var big = $"X-Aet-Big: {new string('a', ServerLimits.MaxHeaderBytes + 1)}\r\n";
            var spread = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Aet-{i}: {new string('b', 500)}\r\n"));
            foreach (var (name, headers) in new[] { ("65 headers", count), ("10000 headers", many), ("one 16 KiB header", big), ("40 x 500 bytes", spread) })
            {
                var status = await RawHttp.ExchangeAsync(Socket, Post(headers));
                Assert.True(status == 431, $"{name}: {status}");
            }

            var line = $"GET /v1/hub/networks/{new string('x', ServerLimits.MaxRequestLineBytes)} HTTP/1.1\r\nHost: aether\r\n\r\n";
            Assert.Equal(414, await RawHttp.ExchangeAsync(Socket, line));
            var postLine = $"POST /v1/hub/networks?{new string('q', ServerLimits.MaxRequestLineBytes)} HTTP/1.1\r\nHost: aether\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
            Assert.Equal(414, await RawHttp.ExchangeAsync(Socket, postLine));

            Assert.Empty(_hub.Calls);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Connections_past_the_limit_are_closed_unanswered_and_served_again_once_some_go()
    {
        var app = Build();
        await using (app)
        {
            await app.StartAsync();
            var held = new List<Socket>();
            try
            {
                for (var i = 0; i < ServerLimits.MaxConnections; i++)
                {
                    var s = await RawHttp.ConnectAsync(Socket);
                    held.Add(s);
                    await s.SendAsync("GET /v1/health HTTP/1.1\r\nHost: aether\r\n\r\n"u8.ToArray(), SocketFlags.None);
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    Assert.Equal(200, await RawHttp.ReadStatusAsync(s, cts.Token)); // each one counted, kept alive
                }

                var refused = await RawHttp.ExchangeAsync(Socket, "GET /v1/health HTTP/1.1\r\nHost: aether\r\n\r\n", timeout: TimeSpan.FromSeconds(10));
                Assert.Equal(0, refused);

                foreach (var s in held.Take(8))
                {
                    s.Dispose();
                }

                var served = 0;
                for (var attempt = 0; attempt < 50 && served != 200; attempt++)
                {
                    served = await RawHttp.ExchangeAsync(Socket, "GET /v1/health HTTP/1.1\r\nHost: aether\r\n\r\n", timeout: TimeSpan.FromSeconds(10));
                    if (served != 200)
                    {
                        await Task.Delay(100);
                    }
                }

                Assert.Equal(200, served);
            }
            finally
            {
                held.ForEach(s => s.Dispose());
            }

            await app.StopAsync();
        }
    }

    [Fact]
    public async Task A_stop_with_a_handler_that_never_returns_and_a_stalled_upload_ends_within_10_seconds()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var app = Build(more: b => b.Services.AddSingleton<IStartupFilter>(new StuckFilter(entered)));
        await using (app)
        {
            await app.StartAsync();
            using var unix = Unix.Client(Socket);
            var stuck = unix.GetAsync("/aet-stuck");
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

            using var upload = await RawHttp.ConnectAsync(Socket);
            await upload.SendAsync(Encoding.ASCII.GetBytes(PostHead("Content-Length: 60000\r\n\r\n{")), SocketFlags.None);
            using var partial = await RawHttp.ConnectAsync(Socket);
            await partial.SendAsync("GET /v1/health HTTP/1.1\r\nHost: aeth"u8.ToArray(), SocketFlags.None);
            await Task.Delay(200);

            var clock = Stopwatch.StartNew();
            await app.StopAsync();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopped in {clock.Elapsed}");
            Assert.True(clock.Elapsed >= ServerLimits.ShutdownTimeout - TimeSpan.FromSeconds(1), $"stopped in {clock.Elapsed}: the requests had their time first");
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => stuck);
            Assert.Empty(_hub.Mutations);
        }
    }

    /// <summary>A handler at <c>/aet-stuck</c> that never returns and ignores its cancellation.</summary>
    private sealed class StuckFilter(TaskCompletionSource entered) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (HttpContext context, RequestDelegate rest) =>
            {
                if (context.Request.Path == "/aet-stuck")
                {
                    entered.TrySetResult();
                    await Task.Delay(Timeout.Infinite, CancellationToken.None);
                }

                await rest(context);
            });
            next(app);
        };
    }
}
