using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests.Labs;

/// <summary>
/// The daemon's app on Kestrel in this process, served on a unix socket in the test's temporary directory and talked
/// to over it, as <c>aether serve</c> is: a fake hub (the labs do not use it) and the real lab host, its store a SQLite
/// file and its state directory in that directory. The lab is named after the test's token, so its namespaces are
/// <c>TOKEN-NODE</c> (tracked by the sandbox). The daemon is stopped before the sandbox deletes the namespaces (its
/// runtime would make them again), after a <c>DELETE</c> of the lab that leaves nothing when the test did not.
/// </summary>
public abstract class LabApiTest : SandboxTest
{
    private WebApplication? _app;

    /// <summary>The test's temporary directory: the socket, the hub's database, the labs' state.</summary>
    protected string Dir { get; private set; } = null!;

    /// <summary>The labs' state directory.</summary>
    protected string State => Path.Combine(Dir, "state");

    /// <summary>The client over the daemon's socket.</summary>
    protected HttpClient Client { get; private set; } = null!;

    /// <summary>The lab's name.</summary>
    protected string Lab => Box.Token;

    /// <summary>Whether the daemon runs the labs' runtimes (set before <see cref="SetUpAsync"/>).</summary>
    protected virtual bool Runtimes => true;

    /// <summary>The loopback TCP address the daemon also listens on, with <see cref="Token"/> in its token file, or
    /// null for the socket only (set before <see cref="SetUpAsync"/>).</summary>
    protected Uri? Listen { get; set; }

    /// <summary>The token of the TCP listener.</summary>
    protected string Token { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    /// <summary>The namespace of node <paramref name="node"/>.</summary>
    protected string Ns(string node) => $"{Lab}-{node}";

    /// <summary>The lab: r1 (Arista) and r2 (Juniper) joined by Ethernet1–ge-0/0/0, r1 and h1 (Linux) by eth2–eth1
    /// with MTU 9000.</summary>
    protected string Yaml(string extraNode = "", string extraLinks = "") => $$"""
        name: {{Lab}}
        nodes:
          r1: { kind: arista_ceos }
          r2: { kind: juniper_vmx }
          h1: { kind: linux{{extraNode}} }
        links:
          - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
          - endpoints: ["r1:eth2", "h1:eth1"]
            mtu: 9000
        {{extraLinks}}
        """;

    protected override async Task SetUpAsync()
    {
        Dir = Box.Own(new TempDirectory(Box.Token)).Path;
        foreach (var node in new[] { "r1", "r2", "h1" })
        {
            Box.TrackNamespace(Ns(node));
        }

        await StartDaemonAsync();
    }

    protected override async Task TearDownAsync()
    {
        if (_app is not null)
        {
            try
            {
                using var _ = await Client.DeleteAsync($"/v1/labs/{Lab}");
            }
            finally
            {
                await StopDaemonAsync();
            }
        }
    }

    /// <summary>Starts the daemon on the test's socket and state (again, after <see cref="StopDaemonAsync"/>).</summary>
    protected async Task StartDaemonAsync()
    {
        var hub = new FakeHub();
        string? tokenFile = null;
        if (Listen is not null)
        {
            tokenFile = Path.Combine(Dir, "token");
            File.WriteAllText(tokenFile, Token);
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        _app = AetherServer.BuildApp(new ServerOptions
        {
            Listen = Listen,
            TokenFile = tokenFile,
            SocketPath = Path.Combine(Dir, "aether.sock"),
            DatabasePath = Path.Combine(Dir, "aether.db"),
            LabStateDirectory = State,
            LabRuntimes = Runtimes,
            Hub = (_, _) => Task.FromResult<IWireGuardHub>(hub),
            Version = "test",
            ConfigureBuilder = b => b.Services.AddSingleton<IHubStore>(new InMemoryHubStore()),
        });
        await _app.StartAsync();
        Client = Unix.Client(Path.Combine(Dir, "aether.sock"));
    }

    /// <summary>Stops the daemon (its lab runtimes and node processes; the namespaces stay).</summary>
    protected async Task StopDaemonAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    protected static StringContent YamlBody(string yaml) => new(yaml, Encoding.UTF8, new MediaTypeHeaderValue("application/yaml"));

    /// <summary>Deploys <paramref name="yaml"/> and checks the status.</summary>
    protected async Task<JsonElement> DeployAsync(string yaml, HttpStatusCode expect = HttpStatusCode.Created)
    {
        using var response = await Client.PostAsync("/v1/labs", YamlBody(yaml));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{(int)response.StatusCode}, want {(int)expect}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A request's answer, checked to have <paramref name="expect"/>.</summary>
    protected static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expect)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expect, $"{(int)response.StatusCode}, want {(int)expect}: {body}");
            return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
        }
    }

    protected static HttpContent Json(object body) => Requests.Json(JsonSerializer.Serialize(body));

    /// <summary>The link <paramref name="id"/> in a path, percent-encoded as a client must (<c>/</c> in
    /// <c>ge-0/0/0</c>).</summary>
    protected string LinkPath(string id) => $"/v1/labs/{Lab}/links/{Uri.EscapeDataString(id)}";

    /// <summary>The states of the links by identity, from a <c>links</c> answer.</summary>
    protected static Dictionary<string, string> States(JsonElement view) =>
        view.GetProperty("links").EnumerateArray().ToDictionary(l => l.GetProperty("id").GetString()!, l => l.GetProperty("state").GetString()!);

    /// <summary>Whether the kernel shows <paramref name="name"/> in <paramref name="ns"/> up (<c>ip -j</c> flags).</summary>
    protected static async Task<bool> IsUpAsync(string ns, string name) => Ip.Flags(await Ip.RequireLinkAsync(ns, name)).Contains("UP");

    /// <summary>Waits up to <paramref name="within"/> for <paramref name="condition"/>.</summary>
    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>The veth <paramref name="name"/> in <paramref name="ns"/> and its peer in <paramref name="peerNs"/>
    /// named <paramref name="peer"/>, checked as each other's (<c>ip -j -d</c>: kind veth, the peer's ifindex).</summary>
    protected static async Task AssertVethAsync(string ns, string name, string peerNs, string peer, int? mtu = null)
    {
        var a = await Ip.RequireLinkAsync(ns, name);
        var b = await Ip.RequireLinkAsync(peerNs, peer);
        Assert.Equal("veth", Ip.InfoKind(a));
        Assert.Equal("veth", Ip.InfoKind(b));
        Assert.Equal(Ip.Int(b, "ifindex"), Ip.Int(a, "link_index"));
        Assert.Equal(Ip.Int(a, "ifindex"), Ip.Int(b, "link_index"));
        if (mtu is { } want)
        {
            Assert.Equal(want, Ip.Int(a, "mtu"));
            Assert.Equal(want, Ip.Int(b, "mtu"));
        }
    }

    /// <summary>The names of this lab's namespaces that <c>ip netns list</c> shows.</summary>
    protected async Task<List<string>> LabNamespacesAsync() =>
        [.. (await Ip.NetnsNamesAsync()).Where(n => n.StartsWith(Lab + "-", StringComparison.Ordinal))];

    /// <summary>The store as the daemon keeps it, opened beside it (a second connection to the same file).</summary>
    protected Aether.Labs.Store.LabStore OpenStore() => Aether.Labs.Store.LabStore.Open(null, State);
}
