using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The systemd units in <c>dist/systemd</c> (parsed, the keys the daemon relies on checked, and <c>systemd-analyze
/// verify</c> run on them where the machine has it) and socket activation: the real daemon started by
/// <c>systemd-socket-activate</c> (or, without it, by a small python3 stand-in that binds, listens and execs the daemon
/// with <c>LISTEN_FDS=1</c> and its own pid as <c>LISTEN_PID</c>) serves on the socket it was passed.
/// </summary>
public sealed class SystemdTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-systemd-").FullName;
    private readonly Sandbox _box = new();

    private static string Units => Path.Combine(CliProcess.RepositoryRoot, "dist", "systemd");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _box.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_service_is_a_notify_service_with_a_watchdog_and_the_capabilities_it_needs()
    {
        var service = UnitFile.Parse(File.ReadAllText(Path.Combine(Units, "aether.service")));
        Assert.Equal(["Unit", "Service", "Install"], service.Sections);
        Assert.Equal("notify", service["Service", "Type"]);
        Assert.Equal("main", service["Service", "NotifyAccess"]);
        Assert.Matches(@"^[1-9][0-9]*s$", service["Service", "WatchdogSec"]);
        Assert.Equal("/usr/local/bin/aether serve", service["Service", "ExecStart"]);
        Assert.Contains("aether.socket", service["Unit", "Requires"].Split(' '));
        Assert.Contains("aether.socket", service["Unit", "After"].Split(' '));
        var bounding = service["Service", "CapabilityBoundingSet"].Split(' ');
        Assert.Contains("CAP_NET_ADMIN", bounding);
        Assert.Contains("CAP_SYS_ADMIN", bounding);
        Assert.Equal("yes", service["Service", "NoNewPrivileges"]);
        Assert.Equal("strict", service["Service", "ProtectSystem"]);
        Assert.Contains("/var/lib/aether", service["Service", "ReadWritePaths"].Split(' '));
        Assert.Contains("AF_NETLINK", service["Service", "RestrictAddressFamilies"].Split(' '));
        // It creates namespaces and manages the host's network: these would stop it.
        Assert.False(service.Has("Service", "PrivateNetwork"));
        Assert.False(service.Has("Service", "RestrictNamespaces"));
        Assert.Equal("multi-user.target", service["Install", "WantedBy"]);
    }

    [Fact]
    public void The_socket_is_the_daemons_default_socket_with_mode_0600()
    {
        var socket = UnitFile.Parse(File.ReadAllText(Path.Combine(Units, "aether.socket")));
        Assert.Equal(["Unit", "Socket", "Install"], socket.Sections);
        Assert.Equal(ServerOptions.DefaultSocketPath, socket["Socket", "ListenStream"]);
        Assert.Equal("0600", socket["Socket", "SocketMode"]);
        Assert.Equal("aether.service", socket["Socket", "Service"]);
        Assert.Equal("sockets.target", socket["Install", "WantedBy"]);
    }

    [Fact]
    public async Task Systemd_analyze_verifies_the_units_where_it_is_installed()
    {
        // Parsed in any case; verified by systemd itself where the machine has systemd-analyze (it is not installed
        // for the test). verify checks that ExecStart's program exists: the copy names the built CLI instead of
        // /usr/local/bin/aether, and nothing else changes.
        var copy = Directory.CreateDirectory(Path.Combine(_dir, "units")).FullName;
        var service = (await File.ReadAllTextAsync(Path.Combine(Units, "aether.service"))).Replace("/usr/local/bin/aether", CliProcess.BinaryPath, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(copy, "aether.service"), service);
        File.Copy(Path.Combine(Units, "aether.socket"), Path.Combine(copy, "aether.socket"));
        Assert.Equal("notify", UnitFile.Parse(service)["Service", "Type"]);

        if (Which("systemd-analyze") is not { } analyze)
        {
            return;
        }

        var psi = new ProcessStartInfo(analyze) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "verify", "--man=no", Path.Combine(copy, "aether.socket"), Path.Combine(copy, "aether.service") })
        {
            psi.ArgumentList.Add(arg);
        }

        using var verify = Process.Start(psi)!;
        var stderr = verify.StandardError.ReadToEndAsync();
        var stdout = verify.StandardOutput.ReadToEndAsync();
        await verify.WaitForExitAsync();
        Assert.True(verify.ExitCode == 0, $"systemd-analyze verify: exit {verify.ExitCode}: {await stdout}{await stderr}");
        Assert.Equal("", (await stderr).Trim());
    }

    [Fact]
    public async Task A_socket_activated_daemon_serves_on_the_socket_it_was_passed_and_leaves_it_to_systemd()
    {
        var socket = Path.Combine(_dir, "passed.sock");
        string[] serve = ["serve", "--socket", socket, "--db", Path.Combine(_dir, "aether.db"), "--namespace", await _box.CreateNamespaceWithIpAsync("h"), "--wireguard-prefix", _box.Name("w")];
        RealDaemon daemon;
        if (Which("systemd-socket-activate") is { } activate)
        {
            // It binds and listens, waits for the first connection, then execs the daemon in its own process.
            var env = new[] { "DOTNET_ROOT", "HOME" }.Where(v => Environment.GetEnvironmentVariable(v) is not null).SelectMany(v => new[] { "-E", v });
            daemon = RealDaemon.Start(["-l", socket, .. env, CliProcess.BinaryPath, .. serve], fileName: activate);
        }
        else
        {
            daemon = RealDaemon.Start(["-c", PythonActivator, socket, CliProcess.BinaryPath, .. serve], fileName: "python3");
        }

        await using (daemon)
        {
            await WaitForFileAsync(socket, daemon);
            using var http = Unix.Client(socket);
            http.Timeout = TimeSpan.FromSeconds(90); // the first request waits in the backlog while the daemon starts
            using var ready = await http.GetAsync("readyz");
            Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
            var status = JsonDocument.Parse(await http.GetStringAsync("v1/status")).RootElement;
            Assert.Equal(daemon.Process.Id, status.GetProperty("pid").GetInt32()); // the exec'd daemon: LISTEN_PID was its pid

            // The socket is systemd's: the daemon neither made it nor removes it.
            Assert.Equal(0, await daemon.StopAsync());
            Assert.True(File.Exists(socket), "the daemon removed the socket systemd passed it");
        }
    }

    /// <summary>What systemd does for a socket unit, in python3: bind and listen on argv[1] as fd 3, set LISTEN_FDS=1
    /// and LISTEN_PID to its own pid, and exec argv[2:] (the same pid).</summary>
    private const string PythonActivator = """
        import os, socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(sys.argv[1]); s.listen(128)
        os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
        os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
        os.execv(sys.argv[2], sys.argv[2:])
        """;

    private static async Task WaitForFileAsync(string path, RealDaemon daemon)
    {
        for (var i = 0; i < 200 && !File.Exists(path); i++)
        {
            Assert.False(daemon.Process.HasExited, "the activator exited: " + await daemon.StderrAsync());
            await Task.Delay(50);
        }

        Assert.True(File.Exists(path), "no socket at " + path);
    }

    private static string? Which(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);
}
