using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The real daemon: the built <c>aether serve</c> on a temporary socket and database, with <c>$NOTIFY_SOCKET</c>
/// pointing at a datagram socket of the test's, talked to by the CLI's client commands. Its hub has no networks and is
/// bound to a namespace of the test's own (an empty hub in the machine's namespace would still remove objects marked
/// as a real hub's there).
/// </summary>
public sealed class DaemonProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-daemon-").FullName;
    private readonly Sandbox _box = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _box.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Serves_reports_ready_answers_the_cli_and_stops_on_sigterm_removing_its_socket(bool abstractNotify)
    {
        var socket = Path.Combine(_dir, "run", "aether.sock");
        var db = Path.Combine(_dir, "lib", "aether.db");
        var notifyName = abstractNotify ? "@aether-test-" + Guid.NewGuid().ToString("N") : Path.Combine(_dir, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(abstractNotify ? "\0" + notifyName[1..] : notifyName));
        using var reader = new NotifyReader(notify);

        var psi = new ProcessStartInfo(CliProcess.BinaryPath)
        {
            ArgumentList = { "serve", "--socket", socket, "--db", db, "--namespace", await _box.CreateNamespaceWithIpAsync("h"), "--wireguard-prefix", _box.Name("w") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["NOTIFY_SOCKET"] = notifyName;
        psi.Environment["WATCHDOG_USEC"] = "1000000"; // WatchdogSec=1s: WATCHDOG=1 every half second
        psi.Environment.Remove("WATCHDOG_PID");
        psi.Environment["JOURNAL_STREAM"] = "8:1234"; // as systemd sets it when the output goes to the journal
        using var daemon = Process.Start(psi)!;
        var stdout = daemon.StandardOutput.ReadToEndAsync();
        var stderr = daemon.StandardError.ReadToEndAsync();
        try
        {
            var ready = await reader.ReceiveAsync(TimeSpan.FromSeconds(60));
            Assert.True(ready is not null, "no READY=1 in 60 s; daemon said: " + (daemon.HasExited ? await stderr : "(still running)"));
            Assert.Contains("READY=1", ready.Split('\n'));

            // The watchdog is fed from then on, every half of WATCHDOG_USEC.
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 3; i++)
            {
                var fed = await reader.ReceiveAsync(TimeSpan.FromSeconds(5));
                Assert.Equal("WATCHDOG=1", fed);
            }

            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4));

            // Ready means serving: the socket is there with mode 0600, the database with 0600.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(db));

            using (var http = Unix.Client(socket))
            {
                var health = await http.GetAsync("v1/health");
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                Assert.Equal("healthy", JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
            }

            var status = await CliProcess.RunAsync("status", "--socket", socket);
            Assert.True(status.Code == 0, status.ToString());
            Assert.Contains("pid " + daemon.Id, status.Stdout, StringComparison.Ordinal);
            Assert.Contains("0 network(s)", status.Stdout, StringComparison.Ordinal);

            var json = await CliProcess.RunAsync("status", "--socket", socket, "-o", "json");
            Assert.True(json.Code == 0, json.ToString());
            Assert.Equal(daemon.Id, JsonDocument.Parse(json.Stdout).RootElement.GetProperty("pid").GetInt32());

            var list = await CliProcess.RunAsync("hub", "list", "--socket", socket);
            Assert.True(list.Code == 0, list.ToString());
            Assert.Equal("no networks\n", list.Stdout);
            var listJson = await CliProcess.RunAsync("hub", "list", "--socket", socket, "-o", "json");
            Assert.Equal("[]", listJson.Stdout.Trim());

            var hubStatus = await CliProcess.RunAsync("hub", "status", "--socket", socket);
            Assert.True(hubStatus.Code == 0, hubStatus.ToString());
            Assert.Contains("0 network(s)", hubStatus.Stdout, StringComparison.Ordinal);

            // A bad request: every bad field named as the option that gives it, exit 2, nothing stored.
            var key = Path.Combine(_dir, "hub.key");
            await File.WriteAllTextAsync(key, "not a key\n");
            var bad = await CliProcess.RunAsync(
                "hub", "add", "--socket", socket, "--network-id", "net1", "--index", "1", "--container", "aetnone", "--private-key-file", key,
                "--listen-port", "51821", "--peer-endpoint", "192.0.2.2:51821", "--peer-public-key", "AAAA", "--address", "10.1.0.2",
                "--network-cidr", "10.1.0.1/24", "--gateway", "10.1.0.1");
            Assert.True(bad.Code == 2, bad.ToString());
            Assert.Contains("--network-cidr: has host bits set", bad.Stderr, StringComparison.Ordinal);
            Assert.Contains("--private-key-file:", bad.Stderr, StringComparison.Ordinal);
            Assert.Contains("--peer-public-key:", bad.Stderr, StringComparison.Ordinal);
            Assert.Equal("no networks\n", (await CliProcess.RunAsync("hub", "list", "--socket", socket)).Stdout);

            CliProcess.Terminate(daemon);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await daemon.WaitForExitAsync(cts.Token);
            Assert.True(daemon.ExitCode == 0, $"exit {daemon.ExitCode}: {await stderr}");
            Assert.False(File.Exists(socket), "the socket survived the daemon");
            var stopping = new List<string>();
            while (await reader.ReceiveAsync(TimeSpan.FromSeconds(1)) is { } message)
            {
                stopping.Add(message);
            }

            Assert.Contains("STOPPING=1", stopping);
            Assert.All(stopping, m => Assert.Contains(m, new[] { "STOPPING=1", "WATCHDOG=1" }));

            // The journal's format: each line starts with its priority (<6> information, <4> warning…).
            var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            Assert.All(lines, l => Assert.Matches("^<[0-7]>", l));
            Assert.Contains(lines, l => l.StartsWith("<6>Microsoft.Hosting.Lifetime", StringComparison.Ordinal));
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }

            await daemon.WaitForExitAsync();
            _ = await stdout;
        }
    }

    [Fact]
    public async Task Without_a_daemon_the_client_says_so_and_exits_1()
    {
        var result = await CliProcess.RunAsync("status", "--socket", Path.Combine(_dir, "none.sock"));
        Assert.Equal(1, result.Code);
        Assert.Contains("no daemon is running", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_tcp_without_a_token_file_with_exit_2_and_creates_nothing()
    {
        var socket = Path.Combine(_dir, "run", "aether.sock");
        var result = await CliProcess.RunAsync("serve", "--socket", socket, "--db", Path.Combine(_dir, "lib", "aether.db"), "--listen", "http://127.0.0.1:7070");
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("--token-file", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "lib")));
    }
}
