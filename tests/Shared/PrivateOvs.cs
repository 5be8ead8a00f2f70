using System.Diagnostics;
using System.Text;

namespace Aether.TestSupport;

/// <summary>
/// A private Open vSwitch for one test: its own <c>ovsdb-server</c> and <c>ovs-vswitchd</c>, foreground child
/// processes of the test, with database, sockets, pidfiles and logs in a temporary directory named after the test's
/// token. Nothing touches the system's <c>/var/run/openvswitch</c>: every OVS program started here gets
/// <c>OVS_RUNDIR</c>, <c>OVS_DBDIR</c>, <c>OVS_LOGDIR</c> and <c>OVS_SYSCONFDIR</c> pointing into the directory, and
/// the command-line options name its files explicitly.
/// <para>
/// ovs-vswitchd runs inside a network namespace of its own (<see cref="Namespace"/>, <c>TOKENovs</c>). With the
/// userspace datapath it creates tap devices: one named after each bridge and one called <c>ovs-netdev</c> for the
/// datapath. That last name is fixed, so two private instances in the host namespace would fight over it (and it
/// does not carry the test prefix); in a namespace of its own each instance has its own, and deleting the namespace
/// removes every device it made. Ports are devices in that namespace: <see cref="AddVethAsync"/> makes a veth whose
/// outer end is there and whose inner end is in a test namespace.
/// </para>
/// <para>
/// Link this file into a test project: <c>&lt;Compile Include="../Shared/PrivateOvs.cs" Link="Shared/PrivateOvs.cs" /&gt;</c>.
/// Disposing stops both daemons (ovs-vswitchd with <c>exit --cleanup</c>, killed if it does not go), deletes the
/// namespace and removes the directory, also after a failed start.
/// </para>
/// </summary>
public sealed class PrivateOvs : IAsyncDisposable
{
    /// <summary>Where Debian keeps the schema of the Open_vSwitch database.</summary>
    public const string Schema = "/usr/share/openvswitch/vswitch.ovsschema";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private Process? _ovsdb;
    private Process? _vswitchd;
    private readonly bool _namespaceGiven;
    private bool _namespaceMade;

    private PrivateOvs(string token, string? inNamespace)
    {
        Token = token;
        Directory = System.IO.Directory.CreateTempSubdirectory(token + "ovs").FullName;
        Namespace = inNamespace ?? token + "ovs";
        _namespaceGiven = inNamespace is not null;
    }

    /// <summary>The test's token (<c>aet…</c>): bridges made in tests are named with it.</summary>
    public string Token { get; }

    /// <summary>The private directory: database, sockets, pidfiles, logs.</summary>
    public string Directory { get; }

    /// <summary>ovsdb-server's socket.</summary>
    public string SocketPath => Path.Combine(Directory, "db.sock");

    /// <summary><c>unix:SOCKET</c>, as <c>ovs-vsctl --db</c> and <c>--ovsdb</c> take it.</summary>
    public string Remote => "unix:" + SocketPath;

    /// <summary>The network namespace ovs-vswitchd runs in: bridge taps and port devices live there.</summary>
    public string Namespace { get; }

    /// <summary>Creates the database, starts both daemons and waits until both answer.</summary>
    /// <param name="token">The test's unique prefix (starts with <c>aet</c> when the switch makes its own namespace;
    /// in a given namespace it names only the directory, and a benchmark's prefix does too).</param>
    /// <param name="inNamespace">An existing namespace of the test's for ovs-vswitchd (a simulated host's), used and
    /// not deleted; null: one of its own, made and deleted.</param>
    public static async Task<PrivateOvs> StartAsync(string token, string? inNamespace = null)
    {
        if (inNamespace is null && !token.StartsWith("aet", StringComparison.Ordinal))
        {
            throw new ArgumentException($"token '{token}' does not carry the test prefix", nameof(token));
        }

        var ovs = new PrivateOvs(token, inNamespace);
        try
        {
            await ovs.StartDaemonsAsync();
            return ovs;
        }
        catch (Exception ex)
        {
            var log = ovs.Logs();
            await ovs.DisposeAsync();
            throw new InvalidOperationException($"private Open vSwitch did not start: {ex.Message}\n{log}", ex);
        }
    }

    /// <summary>Runs <c>ovs-vsctl --db=unix:SOCKET --timeout=20 ARGS</c> (the oracle); throws on failure.</summary>
    public async Task<string> VsctlAsync(params string[] args)
    {
        var (code, stdout, stderr) = await TryVsctlAsync(args);
        return code == 0 ? stdout : throw new InvalidOperationException($"`ovs-vsctl {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
    }

    /// <summary>Runs <c>ovs-vsctl --db=unix:SOCKET --timeout=20 ARGS</c>; its exit code and output.</summary>
    public Task<(int Code, string Stdout, string Stderr)> TryVsctlAsync(params string[] args) =>
        RunAsync("ovs-vsctl", ["--db=" + Remote, "--timeout=20", .. args]);

    /// <summary>Runs <c>ip ARGS</c>; throws on failure.</summary>
    public async Task<string> IpAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync("ip", args);
        return code == 0 ? stdout : throw new InvalidOperationException($"`ip {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
    }

    /// <summary>Makes a veth whose end <paramref name="outer"/> is in <see cref="Namespace"/> (where a port of that
    /// name can open it) and whose end <paramref name="inner"/> is in namespace <paramref name="innerNamespace"/>;
    /// both up.</summary>
    public async Task AddVethAsync(string outer, string innerNamespace, string inner)
    {
        await IpAsync("-n", Namespace, "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", innerNamespace);
        await IpAsync("-n", Namespace, "link", "set", outer, "up");
        await IpAsync("-n", innerNamespace, "link", "set", inner, "up");
    }

    /// <summary>Both daemons' logs and console output (for a failing test's message).</summary>
    public string Logs()
    {
        var sb = new StringBuilder();
        foreach (var name in new[] { "ovsdb-server.log", "ovs-vswitchd.log" })
        {
            var path = Path.Combine(Directory, name);
            if (File.Exists(path))
            {
                var lines = File.ReadAllLines(path);
                sb.Append("--- ").Append(name).Append(" (last 30 lines)\n");
                foreach (var line in lines.Skip(Math.Max(0, lines.Length - 30)))
                {
                    sb.Append(line).Append('\n');
                }
            }
        }

        lock (_output)
        {
            if (_output.Length > 0)
            {
                sb.Append("--- console\n").Append(_output);
            }
        }

        return sb.ToString();
    }

    /// <summary>Stops both daemons, deletes the namespace and the directory; throws what went wrong after trying
    /// everything.</summary>
    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        await StopAsync(_vswitchd, "ovs-vswitchd", ["exit", "--cleanup"], errors);
        _vswitchd = null;
        await StopAsync(_ovsdb, "ovsdb-server", ["exit"], errors);
        _ovsdb = null;
        if (_namespaceMade)
        {
            var (code, _, stderr) = await RunAsync("ip", ["netns", "del", Namespace]);
            if (code != 0)
            {
                errors.Add(new InvalidOperationException($"ip netns del {Namespace}: {stderr.Trim()}"));
            }

            _namespaceMade = false;
        }

        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            errors.Add(ex);
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("private Open vSwitch cleanup failed", errors);
        }
    }

    private async Task StartDaemonsAsync()
    {
        await CheckAsync("ovsdb-tool", "create", Path.Combine(Directory, "conf.db"), Schema);
        _ovsdb = Spawn("ovsdb-server", [
            Path.Combine(Directory, "conf.db"),
            "--remote=punix:" + SocketPath,
            "--remote=db:Open_vSwitch,Open_vSwitch,manager_options", // as ovs-ctl starts it: Manager rows add listeners
            "--pidfile=" + Path.Combine(Directory, "ovsdb-server.pid"),
            "--unixctl=" + Path.Combine(Directory, "ovsdb-server.ctl"),
            "--log-file=" + Path.Combine(Directory, "ovsdb-server.log"),
            "-vconsole:off",
        ]);
        await UntilAsync("ovsdb-server answers", async () => File.Exists(SocketPath) && (await TryVsctlAsync("--no-wait", "init")).Code == 0, _ovsdb);

        if (!_namespaceGiven)
        {
            await CheckAsync("ip", "netns", "add", Namespace);
            _namespaceMade = true;
            await CheckAsync("ip", "-n", Namespace, "link", "set", "lo", "up");
        }

        _vswitchd = Spawn("ip", [
            "netns", "exec", Namespace, "ovs-vswitchd", Remote,
            "--pidfile=" + Path.Combine(Directory, "ovs-vswitchd.pid"),
            "--unixctl=" + Path.Combine(Directory, "ovs-vswitchd.ctl"),
            "--log-file=" + Path.Combine(Directory, "ovs-vswitchd.log"),
            "-vconsole:off",
        ]);
        await UntilAsync("ovs-vswitchd answers", async () => (await RunAsync("ovs-appctl", ["-t", Path.Combine(Directory, "ovs-vswitchd.ctl"), "version"])).Code == 0, _vswitchd);
    }

    private async Task StopAsync(Process? process, string name, string[] exitCommand, List<Exception> errors)
    {
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                // Ask politely first (ovs-vswitchd's --cleanup removes its datapath and taps), then kill.
                await RunAsync("ovs-appctl", ["-t", Path.Combine(Directory, name + ".ctl"), .. exitCommand]);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    try
                    {
                        process.Kill();
                        await process.WaitForExitAsync();
                    }
                    catch (InvalidOperationException)
                    {
                        // Exited meanwhile.
                    }
                    catch (Exception ex)
                    {
                        errors.Add(new InvalidOperationException($"could not stop {name} (pid {process.Id}): {ex.Message}", ex));
                    }
                }
            }
        }
    }

    private static async Task UntilAsync(string what, Func<Task<bool>> ready, Process process)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!await ready())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"waiting until {what}: it exited with code {process.ExitCode}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waiting until {what}: no answer after {StartTimeout.TotalSeconds} s");
            }

            await Task.Delay(50);
        }
    }

    private Process Spawn(string program, string[] args)
    {
        var psi = Info(program, args);
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {program}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Append(line).Append('\n');
            }
        }
    }

    private async Task CheckAsync(string program, params string[] args)
    {
        var (code, _, stderr) = await RunAsync(program, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"`{program} {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
        }
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string[] args)
    {
        using var process = Process.Start(Info(program, args)) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException ex)
        {
            process.Kill();
            throw new TimeoutException($"`{program} {string.Join(' ', args)}` did not finish in {CommandTimeout.TotalSeconds} s", ex);
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private ProcessStartInfo Info(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR" })
        {
            psi.Environment[variable] = Directory;
        }

        return psi;
    }
}
