using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.TestInfrastructure;
using static Aether.Bench.LabHostsBench;

namespace Aether.Bench;

/// <summary>
/// Cross-host lab links by transport: <c>vxlan</c> beside <c>wireguard</c> (a VXLAN per link inside one WireGuard
/// tunnel per host pair; wireguard-go where the kernel has no WireGuard). Two hosts simulated as
/// <see cref="LabHostsBench"/> simulates them (namespaces on a bridge in an underlay namespace), a private PostgreSQL,
/// an <c>aether agent</c> process per host (the shipped CLI, <c>--resync 30s</c>), and a lab of <c>--links N</c>
/// cross-host links, link i joining node <c>a_i</c> on h1 with <c>b_i</c> on h2. For each transport, vxlan first, a lab
/// of its own deployed from empty (<c>cross_host: { transport: … }</c>): <c>aether lab deploy</c> timed as a process
/// to its return (all links reported up) and to every end present and up in the kernel; link 1's ends given addresses,
/// the first ping across timed; the CPU of 10 s with no traffic (what runs anyway: the agents, the machine's other
/// work); a 10 s TCP stream over link 1 (iperf3 -J, server in b_1, client in a_1): Mbit/s,
/// retransmits, UDP receive-buffer drops on the hosts, CPU seconds of the machine (/proc/stat, non-idle), of the
/// wireguard-go processes and of the agents (utime+stime) during it; RSS of the agents and wireguard-go after it;
/// <c>aether lab destroy</c> timed, then no node namespace, tunnel device or wireguard-go of the lab left. Every name
/// starts <c>bt</c> and four hex digits; everything is removed even when a step fails, the tunnel devices before the
/// host namespaces (deleting a device ends its wireguard-go; deleting its namespace does not).
/// </summary>
internal static class LabTransportBench
{
    private const int Hosts = 2;
    private const int StreamSeconds = 10;
    private const double ClockTicks = 100; // CLK_TCK

    /// <summary>The columns of <c>/proc/stat</c>'s <c>cpu</c> line that are not idle (nor iowait).</summary>
    private static readonly int[] NonIdle = [1, 2, 3, 6, 7, 8];

    public static async Task<int> RunAsync(string cli, int links)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        if (links is < 1 or > 200)
        {
            throw new ArgumentOutOfRangeException(nameof(links), links, "--links: 1..200");
        }

        foreach (var tool in new[] { "iperf3", "wireguard-go", "ss", "ping" })
        {
            Require(FindProgram(tool), $"{tool} is not installed (iperf3: apt-get install -y --no-install-recommends iperf3)");
        }

        cli = Path.GetFullPath(cli);
        var token = "bt" + Guid.NewGuid().ToString("N")[..4];
        var work = Directory.CreateTempSubdirectory("btbench-");
        var agents = new Process?[Hosts];
        PrivatePostgres? postgres = null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lab-transport {token}: {Hosts} hosts, {links} cross-host links (a_i on h1, b_i on h2), vxlan then wireguard; agents: {cli}"));
        try
        {
            await HostsAsync(token, Hosts);
            postgres = await PrivatePostgres.StartAsync();
            var database = "bt_" + token[2..];
            await postgres.QueryAsync("postgres", $"CREATE DATABASE {database}");
            var url = postgres.Url(database);
            string[] db = ["--db", url, "--state-dir", Path.Combine(work.FullName, "ctl")];
            for (var h = 1; h <= Hosts; h++)
            {
                agents[h - 1] = StartAgent(cli, url, token, h, work.FullName, "30s", null);
            }

            await RegisteredAsync(postgres, database, agents);
            var load = await File.ReadAllTextAsync("/proc/loadavg");
            var vxlan = await MeasureAsync(cli, token, "vxlan", links, db, work.FullName, agents);
            var wireguard = await MeasureAsync(cli, token, "wireguard", links, db, work.FullName, agents);
            var version = (await TryRunAsync("wireguard-go", ["--version"])).Output.Split('\n')[0].Trim();
            Console.WriteLine(Report(links, postgres.BinDirectory, version, load, await File.ReadAllTextAsync("/proc/loadavg"), vxlan, wireguard));
            return 0;
        }
        catch
        {
            await Console.Error.WriteLineAsync(AgentLogs(work.FullName)); // the directory goes in the finally
            throw;
        }
        finally
        {
            foreach (var agent in agents)
            {
                await StopAsync(agent);
            }

            await CleanUpAsync(token);
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            work.Delete(recursive: true);
        }
    }

    /// <summary>One transport's lab, from empty to destroyed.</summary>
    private static async Task<Figures> MeasureAsync(string cli, string token, string transport, int count, string[] db, string work, Process?[] agents)
    {
        var lab = token + transport[0]; // btXXXXv, btXXXXw: the tunnel devices' names start with the token
        var links = Enumerable.Range(1, count).Select(i => new LabShape.Link(new LabShape.End($"a_{i}", "eth1"), new LabShape.End($"b_{i}", "eth1"), true)).ToList();
        var yaml = new StringBuilder($"name: {lab}\ncross_host: {{ transport: {transport} }}\nnodes:\n");
        foreach (var link in links)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {link.A.Node}: {{ kind: linux, host: h1 }}\n  {link.B.Node}: {{ kind: linux, host: h2 }}\n");
        }

        yaml.Append("links:\n").AppendJoin("", links.Select(l => $"  - endpoints: [\"{l.A.Node}:{l.A.Interface}\", \"{l.B.Node}:{l.B.Interface}\"]\n"));
        var file = Path.Combine(work, $"lab-{transport}.yaml");
        await File.WriteAllTextAsync(file, yaml.ToString());

        // Time to up.
        using var kernel = new KernelView(lab);
        var started = Stopwatch.GetTimestamp();
        var deploy = LabHostsBench.RunAsync(cli, ["lab", "deploy", "-f", file, .. db]);
        var kernelUp = await kernel.WhenUpAsync(links, started);
        var (deployed, output) = await deploy;
        Require(output.Contains(string.Create(CultureInfo.InvariantCulture, $"{count} of {count} links up"), StringComparison.Ordinal), $"{transport} deploy: {output}");
        _ = await IpOracleAsync(lab, links, ovs: false);
        var tunnels = WireGuardGo(token);
        Require(tunnels.Count == (transport == "wireguard" ? Hosts : 0), $"{transport}: {tunnels.Count} wireguard-go processes of {token} after the deploy");

        // Link 1: addresses, the first ping across, then the stream.
        var (a, b) = (kernel.Namespace(links[0].A.Node), kernel.Namespace(links[0].B.Node));
        _ = await CheckedAsync("ip", ["-n", a, "addr", "add", "10.77.1.1/24", "dev", "eth1"]);
        _ = await CheckedAsync("ip", ["-n", b, "addr", "add", "10.77.1.2/24", "dev", "eth1"]);
        var pinged = Stopwatch.GetTimestamp();
        while ((await TryRunAsync("ip", ["netns", "exec", a, "ping", "-c", "1", "-W", "1", "-q", "10.77.1.2"])).Code != 0)
        {
            Require(Stopwatch.GetElapsedTime(pinged) < TimeSpan.FromSeconds(30), $"{transport}: link 1 does not answer a ping within 30 s");
        }

        var firstPing = Stopwatch.GetElapsedTime(pinged);
        var agentPids = agents.Select(p => p!.Id).ToList();
        var quiet = CpuSeconds.Now(tunnels, agentPids); // the same window with no traffic: what runs anyway
        await Task.Delay(TimeSpan.FromSeconds(StreamSeconds));
        var idle = CpuSeconds.Now(tunnels, agentPids).Since(quiet);
        var stream = await StreamAsync(token, a, b, transport, tunnels, agentPids);
        var agentRss = agents.Sum(p => RssKb(p!.Id));
        var tunnelRss = tunnels.Sum(RssKb);

        // Destroy: nothing of the lab left, its wireguard-go gone with its devices.
        var (destroyed, destroyOut) = await LabHostsBench.RunAsync(cli, ["lab", "destroy", "-f", file, .. db]);
        var left = Namespaces(lab + "-");
        Require(left.Count == 0, $"{transport} destroy left {left.Count} node namespaces ({destroyOut})");
        var clock = Stopwatch.StartNew();
        while (WireGuardGo(token).Count > 0)
        {
            Require(clock.Elapsed < TimeSpan.FromSeconds(10), $"{transport}: wireguard-go still running 10 s after the destroy");
            await Task.Delay(50);
        }

        return new Figures(deployed, kernelUp, firstPing, idle, stream, tunnels.Count, agentRss, tunnelRss, destroyed);
    }

    /// <summary>iperf3 -J for <see cref="StreamSeconds"/> from <paramref name="a"/> to <paramref name="b"/>, and the
    /// CPU spent meanwhile.</summary>
    private static async Task<Throughput> StreamAsync(string token, string a, string b, string transport, List<int> tunnels, List<int> agents)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "netns", "exec", b, "iperf3", "-s", "-1", "-B", "10.77.1.2" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var server = Process.Start(psi)!;
        var serverOut = server.StandardOutput.ReadToEndAsync();
        var serverErr = server.StandardError.ReadToEndAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            while ((await TryRunAsync("ip", ["netns", "exec", b, "ss", "-Hltn", "sport = :5201"])).Output.Trim().Length == 0)
            {
                Require(!server.HasExited && clock.Elapsed < TimeSpan.FromSeconds(10), $"{transport}: iperf3 -s not listening: {(server.HasExited ? await serverErr : "")}");
                await Task.Delay(50);
            }

            var (cpu0, drops0) = (CpuSeconds.Now(tunnels, agents), await UdpDropsAsync(token));
            var json = await CheckedAsync("ip", ["netns", "exec", a, "iperf3", "-c", "10.77.1.2", "-t", StreamSeconds.ToString(CultureInfo.InvariantCulture), "-J"]);
            var (cpu1, drops1) = (CpuSeconds.Now(tunnels, agents), await UdpDropsAsync(token));
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await server.WaitForExitAsync(wait.Token);
            _ = await serverOut;
            using var doc = JsonDocument.Parse(json[json.IndexOf('{', StringComparison.Ordinal)..]);
            var end = doc.RootElement.GetProperty("end");
            return new Throughput(
                end.GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e6,
                end.GetProperty("sum_sent").GetProperty("retransmits").GetInt64(),
                drops1 - drops0,
                cpu1.Since(cpu0));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
                await server.WaitForExitAsync();
            }
        }
    }

    /// <summary>Whatever is left of the run, the tunnel devices first (their wireguard-go ends with them), then any
    /// wireguard-go of ours still running (SIGKILL by pid), then every namespace; what remains is said on stderr.</summary>
    private static async Task CleanUpAsync(string token)
    {
        for (var h = 1; h <= Hosts; h++)
        {
            var ns = HostNamespace(token, h);
            var (code, output) = await TryRunAsync("ip", ["-n", ns, "-j", "link", "show"]);
            if (code != 0)
            {
                continue;
            }

            using var doc = JsonDocument.Parse(output);
            foreach (var name in doc.RootElement.EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).Where(n => n.StartsWith(token, StringComparison.Ordinal)))
            {
                _ = await TryRunAsync("ip", ["-n", ns, "link", "del", name]);
            }
        }

        var clock = Stopwatch.StartNew();
        while (WireGuardGo(token) is { Count: > 0 } running)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                await Console.Error.WriteLineAsync($"cleanup: wireguard-go {string.Join(' ', running)} still running 10 s after its devices went: SIGKILL");
                foreach (var pid in running)
                {
                    _ = await TryRunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
                }

                break;
            }

            await Task.Delay(50);
        }

        foreach (var ns in Namespaces(token))
        {
            _ = await TryRunAsync("ip", ["netns", "del", ns]);
        }

        var left = Namespaces(token).Concat(WireGuardGo(token).Select(p => "wireguard-go " + p.ToString(CultureInfo.InvariantCulture)))
            .Concat(Directory.Exists("/var/run/wireguard") ? Directory.EnumerateFiles("/var/run/wireguard", token + "*") : []).ToList();
        await (left.Count == 0 ? Console.Out : Console.Error).WriteLineAsync(left.Count == 0
            ? $"cleanup: no {token} namespace, wireguard-go process or socket left"
            : $"cleanup: LEFT OVER: {string.Join(", ", left)}");
    }

    /// <summary>The pids of the wireguard-go processes serving a device named <paramref name="token"/>…</summary>
    private static List<int> WireGuardGo(string token)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "wireguard-go"
                    && File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Skip(1).Any(a => a.StartsWith(token, StringComparison.Ordinal)))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile
            }
        }

        return pids;
    }

    /// <summary>utime + stime of a process (<c>/proc/PID/stat</c> fields 14 and 15), in clock ticks.</summary>
    private static long Ticks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // from field 3
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The machine's non-idle clock ticks, every core (<c>/proc/stat</c>: user, nice, system, irq, softirq,
    /// steal; guest time is inside user).</summary>
    private static long MachineTicks()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return NonIdle.Sum(i => long.Parse(cpu[i], CultureInfo.InvariantCulture));
    }

    private static long RssKb(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();

    /// <summary>UDP datagrams dropped for a full receive buffer (<c>Udp: RcvbufErrors</c>), both hosts.</summary>
    private static async Task<long> UdpDropsAsync(string token)
    {
        long drops = 0;
        for (var h = 1; h <= Hosts; h++)
        {
            var lines = (await CheckedAsync("ip", ["netns", "exec", HostNamespace(token, h), "cat", "/proc/net/snmp"])).Split('\n').Where(l => l.StartsWith("Udp: ", StringComparison.Ordinal)).ToList();
            var column = Array.IndexOf(lines[0].Split(' '), "RcvbufErrors");
            drops += long.Parse(lines[1].Split(' ')[column], CultureInfo.InvariantCulture);
        }

        return drops;
    }

    private static bool FindProgram(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, name)));

    private static string Report(int links, string postgres, string wireguardGo, string loadBefore, string loadAfter, Figures vx, Figures wg)
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"""
            {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.MachineName}, {Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}; load average {string.Join(' ', loadBefore.Split(' ').Take(3))} before, {string.Join(' ', loadAfter.Split(' ').Take(3))} after; PostgreSQL {postgres}; {wireguardGo}
            {Hosts} simulated hosts, {links} cross-host links each lab; agents are processes, --resync 30s; the stream: iperf3 -c, {StreamSeconds} s TCP over link 1 (a_1 to b_1)

            """));
        text.Append(CultureInfo.InvariantCulture, $"{"",-64} {"vxlan",10} {"wireguard",10} {"wg/vxlan",9}\n");
        Row("aether lab deploy returned, all links up (whole process), s", vx.Deploy.TotalSeconds, wg.Deploy.TotalSeconds, "F2");
        Row("every end present and up in the kernel (polled 20 ms), s", vx.KernelUp.TotalSeconds, wg.KernelUp.TotalSeconds, "F2");
        Row("link 1: first ping answered after its addresses, ms", vx.FirstPing.TotalMilliseconds, wg.FirstPing.TotalMilliseconds, "F0");
        Row("TCP throughput (receiver), Mbit/s", vx.Stream.Mbits, wg.Stream.Mbits, "F0");
        Row("retransmits (sender)", vx.Stream.Retransmits, wg.Stream.Retransmits, "F0");
        Row("UDP receive-buffer drops on the hosts during the stream", vx.Stream.UdpDrops, wg.Stream.UdpDrops, "F0");
        Row("machine CPU during the stream (non-idle, all cores), s", vx.Stream.Cpu.Machine, wg.Stream.Cpu.Machine, "F2");
        Row("machine CPU in the 10 s before it, no traffic, s", vx.Idle.Machine, wg.Idle.Machine, "F2");
        Row("machine CPU per Gbit, s", vx.Stream.Cpu.Machine / (vx.Stream.Mbits * StreamSeconds / 1000), wg.Stream.Cpu.Machine / (wg.Stream.Mbits * StreamSeconds / 1000), "F3");
        Row("wireguard-go CPU during the stream, s", vx.Stream.Cpu.Tunnels, wg.Stream.Cpu.Tunnels, "F2");
        Row("wireguard-go CPU in the 10 s before it, s", vx.Idle.Tunnels, wg.Idle.Tunnels, "F2");
        Row("the two agents' CPU during the stream, s", vx.Stream.Cpu.Agents, wg.Stream.Cpu.Agents, "F2");
        Row("the two agents' CPU in the 10 s before it, s", vx.Idle.Agents, wg.Idle.Agents, "F2");
        Row("wireguard-go processes", vx.Tunnels, wg.Tunnels, "F0");
        Row("wireguard-go RSS after the stream (all), MB", vx.TunnelRssKb / 1024.0, wg.TunnelRssKb / 1024.0, "F1");
        Row("the two agents' RSS after the stream, MB", vx.AgentRssKb / 1024.0, wg.AgentRssKb / 1024.0, "F1");
        Row("aether lab destroy returned (whole process), s", vx.Destroy.TotalSeconds, wg.Destroy.TotalSeconds, "F2");
        return text.ToString();

        void Row(string what, double vxlan, double wireguard, string format) =>
            text.Append(CultureInfo.InvariantCulture, $"{what,-64} {vxlan.ToString(format, CultureInfo.InvariantCulture),10} {wireguard.ToString(format, CultureInfo.InvariantCulture),10} {(vxlan == 0 ? "-" : (wireguard / vxlan).ToString("F2", CultureInfo.InvariantCulture)),9}\n");
    }

    /// <summary>CPU seconds so far: the machine's (non-idle), the wireguard-go processes' and the agents'.</summary>
    private sealed record CpuSeconds(double Machine, double Tunnels, double Agents)
    {
        public static CpuSeconds Now(List<int> tunnels, List<int> agents) =>
            new(MachineTicks() / ClockTicks, tunnels.Sum(Ticks) / ClockTicks, agents.Sum(Ticks) / ClockTicks);

        public CpuSeconds Since(CpuSeconds earlier) => new(Machine - earlier.Machine, Tunnels - earlier.Tunnels, Agents - earlier.Agents);
    }

    private sealed record Throughput(double Mbits, long Retransmits, long UdpDrops, CpuSeconds Cpu);

    private sealed record Figures(TimeSpan Deploy, TimeSpan KernelUp, TimeSpan FirstPing, CpuSeconds Idle, Throughput Stream, int Tunnels, long AgentRssKb, long TunnelRssKb, TimeSpan Destroy);
}
