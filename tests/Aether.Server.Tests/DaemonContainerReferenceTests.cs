using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aether.Netlink.Namespaces;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The daemon's <c>POST /v1/hub/networks</c> given container references that are not a network namespace of their
/// own, against a real daemon (<c>aether serve --namespace HOST</c>) and kernel: a FIFO, a regular file,
/// <c>/dev/null</c>, a directory, a socket, a mount namespace and a process that exited are 400 naming the field;
/// the daemon's own namespace, the hub's host namespace and one namespace under a second reference are 409. The
/// oracles: <c>ip -j link</c> in the host and the container, <c>GET /v1/hub/networks</c>, and the database's rows
/// (<c>sqlite3</c>).
/// </summary>
public sealed class DaemonContainerReferenceTests : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-daemon-ref-").FullName;
    private NetworkNamespace _host = null!;
    private string _container = null!;
    private Process? _daemon;

    private string Socket => Path.Combine(_dir, "aether.sock");

    private string Db => Path.Combine(_dir, "aether.db");

    [Fact]
    public async Task Container_references_that_are_not_a_namespace_of_their_own_are_refused_and_nothing_changes()
    {
        Assert.Equal(0, (await Ip.ExecAsync("mkfifo", Path.Combine(_dir, "fifo"))).Code);
        await File.WriteAllTextAsync(Path.Combine(_dir, "file"), "x\n");
        Directory.CreateDirectory(Path.Combine(_dir, "dir"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, "socket")));
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await exited.WaitForExitAsync();

        _daemon = await StartDaemonAsync();
        using var client = Unix.Client(Socket);
        var cases = new (JsonObject Body, int Status, string Field, string Message)[]
        {
            (With("container", Path.Combine(_dir, "fifo")), 400, "container", "is a FIFO, not a network namespace"),
            (With("container", Path.Combine(_dir, "file")), 400, "container", "is a regular file, not a network namespace"),
            (With("container", "/dev/null"), 400, "container", "is a character device, not a network namespace"),
            (With("container", Path.Combine(_dir, "dir")), 400, "container", "is a directory, not a network namespace"),
            (With("container", Path.Combine(_dir, "socket")), 400, "container", "is a socket, not a network namespace"),
            (With("container", "/proc/self/ns/mnt"), 400, "container", "is a mount namespace, not a network namespace"),
            (Pid(exited.Id), 400, "containerPid", "ESRCH"),
            (With("container", "/proc/self/ns/net"), 409, "container", "this process's network namespace"),
            (With("container", _host.Name!), 409, "container", "the hub's host network namespace"),
        };
        foreach (var (body, status, field, message) in cases)
        {
            var answer = await client.PostAsync("v1/hub/networks", Requests.Json(body)).WaitAsync(TimeSpan.FromSeconds(20));
            var problem = await Requests.ProblemAsync(answer, status);
            if (status == 400)
            {
                Assert.Equal([field], Requests.Fields(problem));
                Assert.Contains("a name under /run/netns", problem.GetRawText(), StringComparison.Ordinal);
            }
            else
            {
                Assert.StartsWith(field + ": ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }

            Assert.Contains(message, problem.GetRawText(), StringComparison.Ordinal);
            await AssertNetworksAsync(client, []);
        }

        // One namespace under a second reference: refused, naming the network that has it.
        var first = await client.PostAsync("v1/hub/networks", Requests.Json(With("container", _container, "first", 0)));
        Assert.Equal(201, (int)first.StatusCode);
        var links = await LinkNamesAsync(_host.Name!);
        var inside = await LinkNamesAsync(_container);
        var again = await client.PostAsync("v1/hub/networks", Requests.Json(With("container", "/run/netns/" + _container, "second", 1)));
        var conflict = await Requests.ProblemAsync(again, 409);
        Assert.Contains($"is the same network namespace as container {_container} of network first", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(links, await LinkNamesAsync(_host.Name!));
        Assert.Equal(inside, await LinkNamesAsync(_container));
        await AssertNetworksAsync(client, ["first"]);
    }

    protected override async Task SetUpAsync()
    {
        _host = Box.CreateNamespace("h");
        _container = await Box.CreateNamespaceWithIpAsync("c");
        await Ip.RunAsync("-n", _host.Name!, "link", "set", "lo", "up");
    }

    protected override async Task TearDownAsync()
    {
        if (_daemon is not null)
        {
            if (!_daemon.HasExited)
            {
                _daemon.Kill();
                await _daemon.WaitForExitAsync();
            }

            _daemon.Dispose();
        }

        using (var pkill = Process.Start("pkill", ["-f", "wireguard-go -f " + Box.Name("g")]))
        {
            await pkill.WaitForExitAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private static JsonObject With(string field, string value, string id = "net-x", int index = 3)
    {
        var body = Requests.Valid(id, index);
        body[field] = value;
        return body;
    }

    private static JsonObject Pid(int pid)
    {
        var body = Requests.Valid("net-x", 3);
        body.Remove("container");
        body["containerPid"] = pid;
        return body;
    }

    /// <summary>The networks the daemon lists and the rows its database holds are exactly <paramref name="ids"/>;
    /// without any, the host namespace has no link but lo.</summary>
    private async Task AssertNetworksAsync(HttpClient client, string[] ids)
    {
        var listed = await Requests.ReadAsync(await client.GetAsync("v1/hub/networks"));
        Assert.Equal(ids, listed.EnumerateArray().Select(n => n.GetProperty("networkId").GetString()!));
        var rows = await Ip.ExecAsync("sqlite3", Db, "SELECT network_id FROM hub_networks ORDER BY network_id");
        Assert.True(rows.Code == 0, rows.Stderr);
        Assert.Equal(ids, rows.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        if (ids.Length == 0)
        {
            Assert.Equal(["lo"], await LinkNamesAsync(_host.Name!));
            Assert.Equal(["lo"], await LinkNamesAsync(_container));
        }
    }

    private static async Task<List<string>> LinkNamesAsync(string ns) =>
        [.. (await Ip.LinksAsync(ns)).Select(l => l.GetProperty("ifname").GetString()!).Order(StringComparer.Ordinal)];

    private Task<Process> StartDaemonAsync() => HubDaemonProcess.StartAsync(Socket, Db, _host.Name!, Box.Name("g"));
}
