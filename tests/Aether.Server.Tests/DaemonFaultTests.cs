using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The real <c>aether serve</c> under faults: SIGTERM while clients hold it (a stalled upload, headers never finished,
/// responses never read, an idle keep-alive), two daemons on one database, and options refused at start (exit 2,
/// nothing created). Each daemon's hub is bound to a namespace of the test's own.
/// </summary>
public sealed class DaemonFaultTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-faults-").FullName;
    private readonly Sandbox _box = new();
    private readonly List<Process> _daemons = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }

            await daemon.WaitForExitAsync();
            daemon.Dispose();
        }

        await _box.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(Process Daemon, Task<string> Stderr)> StartAsync(string socket, string db, string prefix)
    {
        var psi = new ProcessStartInfo(CliProcess.BinaryPath)
        {
            ArgumentList = { "serve", "--socket", socket, "--db", db, "--namespace", await _box.CreateNamespaceWithIpAsync(prefix), "--wireguard-prefix", _box.Name(prefix) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var daemon = Process.Start(psi)!;
        _daemons.Add(daemon);
        _ = daemon.StandardOutput.ReadToEndAsync();
        var stderr = daemon.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (daemon.HasExited)
            {
                Assert.Fail($"the daemon exited {daemon.ExitCode}: {await stderr}");
            }

            if (File.Exists(socket))
            {
                try
                {
                    using var http = Unix.Client(socket);
                    if ((await http.GetAsync("v1/health")).StatusCode == HttpStatusCode.OK)
                    {
                        return (daemon, stderr);
                    }
                }
                catch (HttpRequestException)
                {
                    // not yet
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail("the daemon did not answer in 60 s");
        return default;
    }

    [Fact]
    public async Task Sigterm_stops_the_daemon_within_10_seconds_whatever_clients_hold()
    {
        var socket = Path.Combine(_dir, "run", "aether.sock");
        var (daemon, stderr) = await StartAsync(socket, Path.Combine(_dir, "lib", "aether.db"), "t");
        var held = new List<Socket>();
        try
        {
            // A stalled upload: a body of 60000 bytes promised, one sent.
            var upload = await RawHttp.ConnectAsync(socket);
            held.Add(upload);
            await upload.SendAsync("POST /v1/hub/networks HTTP/1.1\r\nHost: aether\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"u8.ToArray(), SocketFlags.None);

            // Headers never finished.
            var partial = await RawHttp.ConnectAsync(socket);
            held.Add(partial);
            await partial.SendAsync("GET /v1/health HTTP/1.1\r\nHost: aeth"u8.ToArray(), SocketFlags.None);

            // Thousands of pipelined requests whose answers are never read: the daemon blocks writing.
            var reader = await RawHttp.ConnectAsync(socket);
            held.Add(reader);
            reader.ReceiveBufferSize = 4096;
            var pipelined = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET /openapi/v1.json HTTP/1.1\r\nHost: aether\r\n\r\n", 3000)));
            _ = reader.SendAsync(pipelined, SocketFlags.None);

            // An idle keep-alive connection after one answered request.
            var idle = await RawHttp.ConnectAsync(socket);
            held.Add(idle);
            await idle.SendAsync("GET /v1/health HTTP/1.1\r\nHost: aether\r\n\r\n"u8.ToArray(), SocketFlags.None);
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(200, await RawHttp.ReadStatusAsync(idle, cts.Token));
            }

            await Task.Delay(500);
            var clock = Stopwatch.StartNew();
            CliProcess.Terminate(daemon);
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await daemon.WaitForExitAsync(cts.Token);
            }

            var took = clock.Elapsed;
            Assert.True(took < TimeSpan.FromSeconds(10), $"SIGTERM to exit took {took}");
            Assert.True(daemon.ExitCode == 0, $"exit {daemon.ExitCode} after {took}: {await stderr}");
            Assert.False(File.Exists(socket), "the socket survived the daemon");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_database_exits_2_naming_the_first_ones_pid_and_the_first_keeps_serving()
    {
        var db = Path.Combine(_dir, "lib", "aether.db");
        var first = Path.Combine(_dir, "one.sock");
        var (daemon, _) = await StartAsync(first, db, "a");

        var second = Path.Combine(_dir, "two", "two.sock");
        var refused = await CliProcess.RunAsync("serve", "--socket", second, "--db", db, "--namespace", await _box.CreateNamespaceWithIpAsync("b"), "--wireguard-prefix", _box.Name("b"));
        Assert.True(refused.Code == 2, refused.ToString());
        Assert.Contains($"--db {db}: another daemon (pid {daemon.Id}) uses this database: it holds {db}.lock", refused.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "two")), "the second daemon created its socket's directory");

        using var http = Unix.Client(first);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/health")).StatusCode);
        Assert.False(daemon.HasExited);

        // Once the first is gone (SIGKILL: no cleanup at all), the lock is free for the next.
        daemon.Kill();
        await daemon.WaitForExitAsync();
        var (next, _) = await StartAsync(second, db, "c");
        Assert.False(next.HasExited);
    }

    [Fact]
    public async Task Serve_refuses_a_symlinked_database_and_a_token_file_others_can_read_with_exit_2_creating_nothing()
    {
        var socket = Path.Combine(_dir, "run", "aether.sock");
        var lib = Directory.CreateDirectory(Path.Combine(_dir, "lib")).FullName;
        var target = Path.Combine(_dir, "target.db");
        await File.WriteAllTextAsync(target, "");
        var db = Path.Combine(lib, "aether.db");
        File.CreateSymbolicLink(db, target);

        var linked = await CliProcess.RunAsync("serve", "--socket", socket, "--db", db);
        Assert.True(linked.Code == 2, linked.ToString());
        Assert.Contains($"--db {db}: the file {db} is a symbolic link", linked.Stderr, StringComparison.Ordinal);

        var token = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(token, new string('k', 44));
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var readable = await CliProcess.RunAsync("serve", "--socket", socket, "--db", Path.Combine(lib, "real.db"), "--listen", "http://127.0.0.1:0", "--token-file", token);
        Assert.True(readable.Code == 2, readable.ToString());
        Assert.Contains($"--token-file {token}: mode 644 lets group or others at the token: it must be 0600 or 0400", readable.Stderr, StringComparison.Ordinal);

        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
        Assert.Equal(["aether.db"], Directory.EnumerateFileSystemEntries(lib).Select(Path.GetFileName));
        Assert.Equal(0, new FileInfo(target).Length);
    }
}
