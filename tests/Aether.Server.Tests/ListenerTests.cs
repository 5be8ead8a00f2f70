using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests;

/// <summary>The app on Kestrel, in this process: the unix socket (mode, stale file, live daemon), loopback TCP and its
/// token, and the options it refuses.</summary>
public sealed class ListenerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-listen-").FullName;

    private string Socket => Path.Combine(_dir, "aether.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private readonly FakeHub _hub = new();

    private const string Token = "s3cret-token-of-at-least-32-bytes";

    private ServerOptions Options(Uri? listen = null, string? token = Token, string db = "aether.db") => new()
    {
        SocketPath = Socket,
        DatabasePath = Path.Combine(_dir, db),
        Listen = listen,
        TokenFile = token is null ? null : WriteToken(token),
        Hub = (_, _) => Task.FromResult<IWireGuardHub>(_hub),
        ConfigureBuilder = b => b.Services.AddSingleton<IHubStore>(new InMemoryHubStore()),
    };

    private string WriteToken(string token)
    {
        var path = Path.Combine(_dir, "token");
        File.WriteAllText(path, token + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static Uri TcpAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(a => a.StartsWith("http://127.", StringComparison.Ordinal)));

    [Fact]
    public async Task Tcp_needs_the_token_and_the_unix_socket_does_not()
    {
        var app = AetherServer.BuildApp(Options(new Uri("http://127.0.0.1:0")));
        await using (app)
        {
            await app.StartAsync();
            using var tcp = new HttpClient { BaseAddress = TcpAddress(app) };

            var none = await Requests.ProblemAsync(await tcp.GetAsync("/v1/health"), 401);
            Assert.Contains("Bearer", none.GetProperty("detail").GetString(), StringComparison.Ordinal);

            using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v1/hub/networks");
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token-of-at-least-32-byteS");
            using var refused = await tcp.SendAsync(wrong);
            await Requests.ProblemAsync(refused, 401);
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);

            // A refused POST reaches nothing.
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/hub/networks") { Content = Requests.Json(Requests.Valid()) };
            await Requests.ProblemAsync(await tcp.SendAsync(post), 401);

            foreach (var path in new[] { "/v1/health", "/v1/hub/networks", "/metrics", "/openapi/v1.json" })
            {
                using var right = new HttpRequestMessage(HttpMethod.Get, path);
                right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
                using var ok = await tcp.SendAsync(right);
                Assert.True(ok.StatusCode == HttpStatusCode.OK, path + ": " + ok.StatusCode);
            }

            using var unix = Unix.Client(Socket);
            using var viaSocket = await unix.GetAsync("/v1/hub/networks");
            Assert.Equal(HttpStatusCode.OK, viaSocket.StatusCode);
            Assert.Equal("[]", await viaSocket.Content.ReadAsStringAsync());

            await app.StopAsync();
        }
    }

    [Fact]
    public async Task The_socket_has_mode_0600_replaces_a_stale_one_and_is_removed_at_stop_with_the_hub_disposed()
    {
        // A stale socket: bound, then its owner gone (closed without unlinking, as a killed daemon leaves it).
        StaleSocket.Create(Socket);
        Assert.True(File.Exists(Socket));
        var app = AetherServer.BuildApp(Options());
        await using (app)
        {
            await app.StartAsync();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Socket));
            using var unix = Unix.Client(Socket);
            Assert.Equal(HttpStatusCode.OK, (await unix.GetAsync("/v1/health")).StatusCode);
            Assert.False(_hub.Disposed);
            await app.StopAsync();
            Assert.True(_hub.Disposed);
        }

        Assert.False(File.Exists(Socket));
    }

    [Fact]
    public async Task A_second_daemon_on_a_live_socket_is_refused_and_the_first_keeps_serving()
    {
        var first = AetherServer.BuildApp(Options());
        await using (first)
        {
            await first.StartAsync();
            // Another database (one database has one daemon: DaemonFaultTests), the same socket.
            var e = Assert.ThrowsAny<InvalidOperationException>(() => AetherServer.BuildApp(Options(db: "other.db")));
            Assert.Contains("another daemon is listening", e.Message, StringComparison.Ordinal);

            using var unix = Unix.Client(Socket);
            Assert.Equal(HttpStatusCode.OK, (await unix.GetAsync("/v1/health")).StatusCode);
            await first.StopAsync();
        }
    }

    [Fact]
    public void A_path_that_is_not_a_socket_is_not_replaced()
    {
        File.WriteAllText(Socket, "precious");
        var e = Assert.ThrowsAny<InvalidOperationException>(() => AetherServer.BuildApp(Options()));
        Assert.Contains("not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(Socket));
    }

    [Theory]
    [InlineData("http://0.0.0.0:7070", "loopback")]
    [InlineData("http://10.1.2.3:7070", "loopback")]
    [InlineData("http://localhost:7070", "loopback")]
    [InlineData("https://127.0.0.1:7070", "http://")]
    [InlineData("http://127.0.0.1:7070/api", "no path")]
    public void Non_loopback_or_odd_listen_addresses_are_refused(string listen, string message)
    {
        var e = Assert.Throws<ServerOptionsException>(() => AetherServer.BuildApp(Options(new Uri(listen))));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Socket));
    }

    [Fact]
    public void Tcp_without_a_token_file_or_with_an_empty_one_is_refused()
    {
        var e = Assert.Throws<ServerOptionsException>(() => AetherServer.BuildApp(Options(new Uri("http://127.0.0.1:7070"), token: null)));
        Assert.Contains("--token-file", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ServerOptionsException>(() => AetherServer.BuildApp(Options(new Uri("http://127.0.0.1:7070"), token: "  ")));
        Assert.Contains("the token is 0 bytes: it must be at least 32", e.Message, StringComparison.Ordinal);
    }
}
