using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.TestInfrastructure;

namespace Aether.Bench;

/// <summary>
/// Labs across hosts: three hosts simulated on this machine (a namespace each, joined by a veth to a bridge in an
/// underlay namespace), a private PostgreSQL, and an <c>aether agent</c> process per host (the shipped CLI,
/// <c>--resync 30s</c>, so what is timed is the NOTIFY path). Then, each through <c>aether lab deploy|destroy --db</c>
/// as a process: a 3-host lab (30 nodes a host by default; 100 links inside hosts and 50 across) deployed from empty,
/// timed to the deploy's return (every link reported up by both ends' agents) and to every end present and up in the
/// kernel (this process's own netlink reads, polled; then one <c>ip -j -d</c> read of every node as the oracle);
/// cross-host links added one at a time to the running lab (a re-deploy of the file with one more link); a deleted
/// VXLAN end repaired (<c>ip -n NS link del</c>), which no NOTIFY announces: the agent's rtnetlink link monitor in
/// its node namespaces wakes a pass (before it had one, its timer did): trials at <c>--resync 30s</c>, then the
/// agents restarted with <c>--resync 1s</c>; the destroy. With <c>--fabric ovs</c> each host also gets its own
/// ovsdb-server and ovs-vswitchd started inside its namespace (each agent <c>--ovsdb unix:…</c>), and the lab is on the
/// ovs fabric: every end a veth whose outer end is a tagged port of the host's lab bridge, one VXLAN port per remote
/// host shared by the links to it. Every name starts <c>xh</c> and four hex digits; everything made is removed even
/// when a step fails.
/// </summary>
internal static class LabHostsBench
{
    private const int HostCount = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static async Task<int> RunAsync(string cli, int perHost, int trials, int repairs, int slowRepairs, string fabric = "veth")
    {
        var ovs = fabric switch
        {
            "veth" => false,
            "ovs" => true,
            _ => throw new ArgumentException($"--fabric: '{fabric}' is not veth or ovs", nameof(fabric)),
        };
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        cli = Path.GetFullPath(cli);
        var token = "xh" + Guid.NewGuid().ToString("N")[..4];
        var work = Directory.CreateTempSubdirectory("xhbench-");
        var lab = LabShape.Make(token, perHost, ovs);
        var file = Path.Combine(work.FullName, "lab.yaml");
        var agents = new Process?[HostCount];
        PrivatePostgres? postgres = null;
        var switches = new Aether.TestSupport.PrivateOvs?[HostCount];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lab {token}: {lab.Nodes} nodes on {HostCount} hosts, {lab.Links.Count} links ({lab.Links.Count(l => l.Cross)} cross-host, VXLAN), {fabric} fabric; agents: {cli}"));
        try
        {
            await HostsAsync(token);
            for (var h = 1; ovs && h <= HostCount; h++)
            {
                switches[h - 1] = await Aether.TestSupport.PrivateOvs.StartAsync(HostNamespace(token, h) + "s", HostNamespace(token, h));
            }

            var remotes = switches.Select(s => s?.Remote).ToArray();
            postgres = await PrivatePostgres.StartAsync();
            var database = "xh_" + token[2..];
            await postgres.QueryAsync("postgres", $"CREATE DATABASE {database}");
            var url = postgres.Url(database);
            string[] db = ["--db", url, "--state-dir", Path.Combine(work.FullName, "ctl")];
            for (var h = 1; h <= HostCount; h++)
            {
                agents[h - 1] = StartAgent(cli, url, token, h, work.FullName, "30s", remotes[h - 1]);
            }

            await RegisteredAsync(postgres, database, agents);

            // 1. From empty.
            await File.WriteAllTextAsync(file, lab.Yaml(lab.Links));
            using var kernel = new KernelView(token);
            var started = Stopwatch.GetTimestamp();
            var deploy = RunAsync(cli, ["lab", "deploy", "-f", file, .. db]);
            var allUp = await kernel.WhenUpAsync(lab.Links, started);
            var (deployed, deployOut) = await deploy;
            Require(deployOut.Contains(string.Create(CultureInfo.InvariantCulture, $"{lab.Links.Count} of {lab.Links.Count} links up"), StringComparison.Ordinal), "deploy from empty: " + deployOut);
            var oracle = await IpOracleAsync(token, lab.Links, ovs);

            // The fixed cost of a lab command on PostgreSQL as a process (start, connect, migrations checked, read).
            List<double> verify = [];
            for (var i = 0; i < 5; i++)
            {
                verify.Add((await RunAsync(cli, ["lab", "verify", token, .. db])).Took.TotalMilliseconds);
            }

            // 2. A cross-host link added to the running lab, one at a time.
            var links = lab.Links.ToList();
            List<double> addKernel = [], addDeploy = [];
            for (var t = 1; t <= trials; t++)
            {
                var extra = lab.Extra(t);
                links.Add(extra);
                await File.WriteAllTextAsync(file, lab.Yaml(links));
                started = Stopwatch.GetTimestamp();
                var added = RunAsync(cli, ["lab", "deploy", "-f", file, .. db]);
                addKernel.Add((await kernel.WhenUpAsync([extra], started)).TotalMilliseconds);
                var (took, output) = await added;
                Require(output.Contains(string.Create(CultureInfo.InvariantCulture, $"{links.Count} of {links.Count} links up"), StringComparison.Ordinal), $"re-deploy {t}: {output}");
                addDeploy.Add(took.TotalMilliseconds);
            }

            // 3. A VXLAN end deleted behind the agents' back: at --resync 30s, then at --resync 1s.
            var cross = lab.Links.Where(l => l.Cross).ToList();
            var slow = await RepairsAsync(kernel, cross, slowRepairs);
            for (var h = 1; h <= HostCount; h++)
            {
                await StopAsync(agents[h - 1]);
                agents[h - 1] = StartAgent(cli, url, token, h, work.FullName, "1s", remotes[h - 1]);
            }

            await RegisteredAsync(postgres, database, agents);
            await Task.Delay(2000); // every agent made its first pass
            var fast = await RepairsAsync(kernel, cross, repairs);

            // 4. Destroy.
            var (destroyed, destroyOut) = await RunAsync(cli, ["lab", "destroy", "-f", file, .. db]);
            var left = Namespaces(token + "-");
            Require(left.Count == 0, $"destroy left {left.Count} node namespaces: {string.Join(' ', left.Take(5))} ({destroyOut})");

            var cores = Environment.ProcessorCount;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.MachineName}, {cores} cores, kernel {Environment.OSVersion.Version}; PostgreSQL {postgres.BinDirectory}; agents are processes, --resync 30s unless said
                deploy from empty ({lab.Nodes} nodes, {lab.Links.Count} links, {cross.Count} cross-host): aether lab deploy returned (all links reported up by both ends' agents) in {deployed.TotalSeconds:F2} s; every end present and up in the kernel (netlink, polled every 20 ms) at {allUp.TotalSeconds:F2} s; ip -j -d afterwards: {oracle}
                aether lab verify {token} --db, whole process (the fixed cost of a lab command on PostgreSQL), 5 runs: median {ReconcileBench.Percentile(Sorted(verify), 0.50):F0} ms
                a cross-host link added to the running lab (re-deploy with one more link), {trials} trials: both ends up in the kernel p50 {ReconcileBench.Percentile(Sorted(addKernel), 0.50):F0} ms, p99 {ReconcileBench.Percentile(Sorted(addKernel), 0.99):F0} ms; deploy returned p50 {ReconcileBench.Percentile(Sorted(addDeploy), 0.50):F0} ms, p99 {ReconcileBench.Percentile(Sorted(addDeploy), 0.99):F0} ms (whole process)
                a deleted {(ovs ? "cross-host end (a veth here: timed to back, UP and LOWER_UP in its node, not to its port reopened)" : "VXLAN end")} back and up (no NOTIFY for kernel drift: the agent's link monitor in its node namespaces wakes a pass): --resync 30s, {slow.Count} trials: p50 {ReconcileBench.Percentile(Sorted(slow), 0.50):F0} ms, p99 {ReconcileBench.Percentile(Sorted(slow), 0.99):F0} ms, max {slow.Max():F0} ms; --resync 1s, {fast.Count} trials: p50 {ReconcileBench.Percentile(Sorted(fast), 0.50):F0} ms, p99 {ReconcileBench.Percentile(Sorted(fast), 0.99):F0} ms, max {fast.Max():F0} ms
                destroy: aether lab destroy returned (every agent removed its part) in {destroyed.TotalSeconds:F2} s ({lab.Links.Count + trials} links)
                """));
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

            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            foreach (var sw in switches)
            {
                if (sw is not null)
                {
                    await sw.DisposeAsync();
                }
            }

            foreach (var ns in Namespaces(token))
            {
                _ = await TryRunAsync("ip", ["netns", "del", ns]);
            }

            work.Delete(recursive: true);
        }
    }

    /// <summary>The last lines of every agent's log, for a failure's message.</summary>
    internal static string AgentLogs(string work)
    {
        var text = new StringBuilder();
        foreach (var log in Directory.EnumerateFiles(work, "agent-*.log").Order(StringComparer.Ordinal))
        {
            try
            {
                using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                text.Append(CultureInfo.InvariantCulture, $"{Path.GetFileName(log)}, last lines:\n  {string.Join("\n  ", lines.TakeLast(20))}\n");
            }
            catch (IOException ex)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Path.GetFileName(log)}: {ex.Message}\n");
            }
        }

        return text.ToString();
    }

    internal static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }

    private static List<double> Sorted(List<double> values) => [.. values.Order()];

    /// <summary>Deletes one end of a random cross-host link with <c>ip -n NS link del</c> per trial and times it back
    /// and up (from <c>ip</c>'s return).</summary>
    private static async Task<List<double>> RepairsAsync(KernelView kernel, List<LabShape.Link> cross, int trials)
    {
        var times = new List<double>(trials);
        for (var t = 0; t < trials; t++)
        {
            var link = cross[Random.Shared.Next(cross.Count)];
            var end = Random.Shared.Next(2) == 0 ? link.A : link.B;
            await Task.Delay(Random.Shared.Next(100, 600)); // not in step with the agents' timers
            await CheckedAsync("ip", ["-n", kernel.Namespace(end.Node), "link", "del", end.Interface]);
            var started = Stopwatch.GetTimestamp();
            times.Add((await kernel.WhenUpAsync([link], started)).TotalMilliseconds);
        }

        return times;
    }

    /// <summary>Every end of <paramref name="links"/> read with <c>ip -j -d link</c> in its node: present, UP and
    /// LOWER_UP, a VXLAN when the link crosses hosts and a veth when not (on the ovs fabric a veth always: the VXLANs
    /// are the hosts'). Throws on the first that is not.</summary>
    internal static async Task<string> IpOracleAsync(string token, IReadOnlyList<LabShape.Link> links, bool ovs)
    {
        var byNode = links.SelectMany(l => new[] { (End: l.A, l.Cross), (End: l.B, l.Cross) }).GroupBy(e => e.End.Node);
        var checkedEnds = 0;
        foreach (var node in byNode)
        {
            var ns = $"{token}-{node.Key}";
            using var doc = JsonDocument.Parse(await CheckedAsync("ip", ["-n", ns, "-j", "-d", "link", "show"]));
            var seen = doc.RootElement.EnumerateArray().ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l, StringComparer.Ordinal);
            foreach (var (end, cross) in node)
            {
                Require(seen.TryGetValue(end.Interface, out var link), $"ip: {ns} has no {end.Interface}");
                var flags = link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToList();
                Require(flags.Contains("UP") && flags.Contains("LOWER_UP"), $"ip: {ns} {end.Interface} is not up: {string.Join(',', flags)}");
                var kind = link.GetProperty("linkinfo").GetProperty("info_kind").GetString();
                Require(kind == (cross && !ovs ? "vxlan" : "veth"), $"ip: {ns} {end.Interface} is a {kind}");
                checkedEnds++;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{checkedEnds} ends present, UP and LOWER_UP, {(ovs ? "veths (ports of the hosts' bridges)" : "VXLAN across hosts and veth inside")}");
    }

    internal static async Task HostsAsync(string token, int hosts = HostCount)
    {
        var underlay = token + "u";
        await CheckedAsync("ip", ["netns", "add", underlay]);
        await CheckedAsync("ip", ["-n", underlay, "link", "add", "br0", "type", "bridge"]);
        await CheckedAsync("ip", ["-n", underlay, "link", "set", "br0", "up"]);
        for (var h = 1; h <= hosts; h++)
        {
            var ns = HostNamespace(token, h);
            var port = "p" + h.ToString(CultureInfo.InvariantCulture);
            await CheckedAsync("ip", ["netns", "add", ns]);
            await CheckedAsync("ip", ["-n", ns, "link", "set", "lo", "up"]);
            await CheckedAsync("ip", ["-n", ns, "link", "add", "u0", "type", "veth", "peer", "name", port, "netns", underlay]);
            await CheckedAsync("ip", ["-n", underlay, "link", "set", port, "master", "br0", "up"]);
            await CheckedAsync("ip", ["-n", ns, "addr", "add", Underlay(h) + "/24", "dev", "u0"]);
            await CheckedAsync("ip", ["-n", ns, "link", "set", "u0", "up"]);
        }
    }

    internal static string HostNamespace(string token, int h) => token + "h" + h.ToString(CultureInfo.InvariantCulture);

    internal static string Underlay(int h) => "192.168.252." + h.ToString(CultureInfo.InvariantCulture);

    internal static List<string> Namespaces(string prefix) => Directory.Exists(NetworkNamespace.RunDirectory)
        ? [.. Directory.EnumerateFileSystemEntries(NetworkNamespace.RunDirectory, prefix + "*").Select(Path.GetFileName).OfType<string>()]
        : [];

    internal static Process StartAgent(string cli, string url, string token, int h, string work, string resync, string? ovsdb)
    {
        var host = "h" + h.ToString(CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] args = ["agent", "--db", url, "--host-id", host, "--underlay", Underlay(h), "--namespace", HostNamespace(token, h), "--state-dir", Path.Combine(work, host), "--resync", resync];
        foreach (var arg in ovsdb is null ? args : [.. args, "--ovsdb", ovsdb])
        {
            psi.ArgumentList.Add(arg);
        }

        var agent = Process.Start(psi)!;
        var log = Path.Combine(work, $"agent-{host}-{resync}.log");
        var gate = new Lock();
        agent.OutputDataReceived += (_, e) => Write(e.Data);
        agent.ErrorDataReceived += (_, e) => Write(e.Data);
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        return agent;

        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                try
                {
                    File.AppendAllText(log, line + "\n");
                }
                catch (IOException)
                {
                    // the work directory is being removed: the run is over
                }
            }
        }
    }

    /// <summary>SIGTERM (the agent stops, leaving the namespaces), SIGKILL after 10 s.</summary>
    internal static async Task StopAsync(Process? agent)
    {
        if (agent is null || agent.HasExited)
        {
            agent?.Dispose();
            return;
        }

        _ = await TryRunAsync("kill", ["-TERM", agent.Id.ToString(CultureInfo.InvariantCulture)]);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await agent.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            agent.Kill();
            await agent.WaitForExitAsync();
        }

        agent.Dispose();
    }

    /// <summary>Waits until the agents <paramref name="agents"/> registered their hosts (their pids in
    /// <c>cluster_hosts</c>).</summary>
    internal static async Task RegisteredAsync(PrivatePostgres postgres, string database, Process?[] agents)
    {
        var clock = Stopwatch.StartNew();
        var pids = string.Join(',', agents.Select(a => a!.Id.ToString(CultureInfo.InvariantCulture)));
        while (true)
        {
            var (code, rows, _) = await postgres.TryQueryAsync(database, $"SELECT count(*) FROM cluster_hosts WHERE agent_pid IN ({pids})");
            if (code == 0 && rows is [[var count]] && count == agents.Length.ToString(CultureInfo.InvariantCulture))
            {
                return;
            }

            Require(clock.Elapsed < Timeout && agents.All(a => !a!.HasExited), "the agents did not register within 90 s, or one exited (their logs follow)");
            await Task.Delay(100);
        }
    }

    internal static async Task<(TimeSpan Took, string Output)> RunAsync(string program, string[] args)
    {
        var started = Stopwatch.GetTimestamp();
        var (code, output) = await TryRunAsync(program, args);
        var took = Stopwatch.GetElapsedTime(started);
        Require(code == 0, $"{program} {string.Join(' ', args)}: exit {code}: {output}");
        return (took, output);
    }

    internal static async Task<string> CheckedAsync(string program, string[] args)
    {
        var (code, output) = await TryRunAsync(program, args);
        Require(code == 0, $"{program} {string.Join(' ', args)}: exit {code}: {output}");
        return output;
    }

    internal static async Task<(int Code, string Output)> TryRunAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    /// <summary>The lab: <c>r0…</c>, node i on host <c>h(i / perHost + 1)</c>; inside each host a ring and a few
    /// chords (100 links in all at 30 a host), and 50 links between hosts, each host pair in turn.</summary>
    internal sealed class LabShape
    {
        private readonly int[] _next;

        private LabShape(string name, int perHost, bool ovs)
        {
            Name = name;
            Ovs = ovs;
            PerHost = perHost;
            Nodes = perHost * HostCount;
            _next = new int[Nodes];
        }

        public string Name { get; }

        public int PerHost { get; }

        /// <summary>On the ovs fabric (else veth).</summary>
        public bool Ovs { get; }

        public int Nodes { get; }

        public List<Link> Links { get; } = [];

        public static LabShape Make(string name, int perHost, bool ovs = false)
        {
            var shape = new LabShape(name, perHost, ovs);
            var inside = perHost * HostCount * 10 / 9; // 100 at 30 a host
            for (var h = 0; h < HostCount; h++)
            {
                for (var i = 0; i < perHost; i++)
                {
                    shape.Add(h * perHost + i, h * perHost + (i + 1) % perHost);
                }
            }

            for (var c = 0; shape.Links.Count < inside; c++)
            {
                var h = c % HostCount;
                var i = c / HostCount;
                shape.Add(h * perHost + i, h * perHost + (i + perHost / 2) % perHost);
            }

            for (var c = 0; c < inside / 2; c++)
            {
                var h = c % HostCount;
                var i = c / HostCount % perHost;
                shape.Add(h * perHost + i, (h + 1) % HostCount * perHost + (i + 7) % perHost);
            }

            return shape;
        }

        /// <summary>The <paramref name="t"/>th extra cross-host link (new interfaces on existing nodes).</summary>
        public Link Extra(int t)
        {
            var h = t % HostCount;
            var i = (t * 11) % PerHost;
            return Make(h * PerHost + i, (h + 1) % HostCount * PerHost + (i + 3) % PerHost);
        }

        public string Yaml(IEnumerable<Link> links)
        {
            var yaml = new StringBuilder($"name: {Name}\n{(Ovs ? "fabric: ovs\n" : "")}nodes:\n");
            for (var i = 0; i < Nodes; i++)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"  r{i}: {{ kind: linux, host: h{i / PerHost + 1} }}\n");
            }

            yaml.Append("links:\n");
            foreach (var link in links)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"  - endpoints: [\"{link.A.Node}:{link.A.Interface}\", \"{link.B.Node}:{link.B.Interface}\"]\n");
            }

            return yaml.ToString();
        }

        private void Add(int a, int b) => Links.Add(Make(a, b));

        private Link Make(int a, int b) =>
            new(new End("r" + a.ToString(CultureInfo.InvariantCulture), "eth" + (++_next[a]).ToString(CultureInfo.InvariantCulture)),
                new End("r" + b.ToString(CultureInfo.InvariantCulture), "eth" + (++_next[b]).ToString(CultureInfo.InvariantCulture)),
                a / PerHost != b / PerHost);

        internal sealed record End(string Node, string Interface);

        internal sealed record Link(End A, End B, bool Cross);
    }

    /// <summary>This process's own netlink sockets in the lab's node namespaces, opened as the namespaces appear: when
    /// every end of some links is present, UP and LOWER_UP.</summary>
    internal sealed class KernelView(string token) : IDisposable
    {
        private readonly Dictionary<string, NetlinkHandle> _handles = new(StringComparer.Ordinal);

        public string Namespace(string node) => $"{token}-{node}";

        /// <summary>Polls every 20 ms until every end of <paramref name="links"/> is up; the time since
        /// <paramref name="started"/>.</summary>
        public async Task<TimeSpan> WhenUpAsync(IReadOnlyList<LabShape.Link> links, long started)
        {
            var pending = links.SelectMany(l => new[] { l.A, l.B }).GroupBy(e => e.Node).ToDictionary(g => g.Key, g => g.Select(e => e.Interface).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
            while (true)
            {
                foreach (var (node, names) in pending.ToList())
                {
                    if (await HandleAsync(node) is not { } handle)
                    {
                        continue;
                    }

                    IReadOnlyList<Aether.Netlink.Rtnl.Link> present;
                    try
                    {
                        present = await handle.ListLinksAsync();
                    }
                    catch (NetlinkException)
                    {
                        continue;
                    }

                    if (names.All(n => present.Any(l => l.Name == n && l.IsUp && l.IsLowerUp)))
                    {
                        _ = pending.Remove(node);
                    }
                }

                if (pending.Count == 0)
                {
                    return Stopwatch.GetElapsedTime(started);
                }

                Require(Stopwatch.GetElapsedTime(started) < Timeout, $"not up within 90 s: {string.Join(", ", pending.Take(5).Select(p => p.Key + ":" + string.Join('/', p.Value)))}");
                await Task.Delay(20);
            }
        }

        private Task<NetlinkHandle?> HandleAsync(string node)
        {
            if (_handles.TryGetValue(node, out var handle))
            {
                return Task.FromResult<NetlinkHandle?>(handle);
            }

            var ns = Namespace(node);
            if (!NetworkNamespace.Exists(ns))
            {
                return Task.FromResult<NetlinkHandle?>(null);
            }

            try
            {
                handle = NetlinkHandle.OpenAt(NetworkNamespace.Open(ns));
            }
            catch (Exception ex) when (ex is IOException or NetlinkException)
            {
                return Task.FromResult<NetlinkHandle?>(null); // being made: the next poll
            }

            _handles[node] = handle;
            return Task.FromResult<NetlinkHandle?>(handle);
        }

        public void Dispose()
        {
            foreach (var handle in _handles.Values)
            {
                handle.Dispose();
            }
        }
    }
}
