using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.Labs;
using Aether.Labs.Store;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Bench;

/// <summary>
/// Labs: a 100-node, 150-link lab (a ring and 50 chords, veth fabric) deployed from empty by <c>aether lab deploy</c>
/// (the shipped CLI, a process of its own, its SQLite store included), beside Mininet (its Python API, the same hosts
/// and host-to-host links, <c>build()</c> + <c>start()</c> timed) and beside an <c>ip</c> script doing the same; then,
/// in this process on the deployed lab, a full verification pass and the repair of a broken link through the hint
/// path (an end deleted; both ends back, peers and up, polled every millisecond from outside). One run: ratios.
/// </summary>
internal static class LabBench
{
    public static async Task<int> RunAsync(string cli, int nodes, int trials)
    {
        var links = Enumerable.Range(0, nodes).Select(i => (i, (i + 1) % nodes)).Concat(Enumerable.Range(0, nodes / 2).Select(i => (i, i + nodes / 2))).ToList();
        var work = Directory.CreateTempSubdirectory("aether-lab-bench-");
        var pairs = Path.Combine(work.FullName, "links.txt");
        await File.WriteAllLinesAsync(pairs, links.Select(l => $"{l.Item1} {l.Item2}"));
        var name = "bl" + Guid.NewGuid().ToString("N")[..5];
        var (spec, yaml) = Lab(name, nodes, links);
        var file = Path.Combine(work.FullName, "lab.yaml");
        await File.WriteAllTextAsync(file, yaml);
        var state = Path.Combine(work.FullName, "state");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lab: {nodes} nodes, {links.Count} links, veth fabric"));
        try
        {
            var deploy = await TimeAsync(cli, "lab", "deploy", "-f", file, "--state-dir", state);
            var (verify, repair, warm) = await InProcessAsync(spec, state, trials, nodes, links);
            var efVerify = await EfVerifyAsync(spec, state);
            var cliVerify = await TimeAsync(cli, "lab", "verify", name, "--state-dir", state);
            var destroy = await TimeAsync(cli, "lab", "destroy", "-f", file, "--state-dir", state);

            var script = Path.Combine(AppContext.BaseDirectory, "peers", "ip_lab.sh");
            var ipUp = await TimeAsync(script, "bip" + name[2..], pairs, "up");
            await TimeAsync(script, "bip" + name[2..], pairs, "down");

            var ovs = await OvsAsync(nodes, links, work.FullName);
            var mininet = await MininetAsync(Path.Combine(AppContext.BaseDirectory, "peers", "mininet_lab.py"), "m" + name[2..5], pairs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                deploy from empty: aether lab deploy {deploy.TotalSeconds:F2} s (whole process, store included) · ip script {ipUp.TotalSeconds:F2} s · Mininet build()+start() {mininet:F2} s
                  ratios: {deploy.TotalSeconds / mininet:F3}× Mininet (target ≤ 0.1×), {deploy.TotalSeconds / ipUp.TotalSeconds:F2}× the ip script (target ≤ 0.5×)
                deploy from empty in a warm process (the daemon's path: LabController.DeployAsync, its SQLite store already open): {warm.TotalSeconds:F2} s
                  ratios: {warm.TotalSeconds / mininet:F3}× Mininet, {warm.TotalSeconds / ipUp.TotalSeconds:F2}× the ip script
                full verification pass over {links.Count} links (kernel read and check, states stored in SQLite), {verify.Count} passes each (target ≤ 50 ms):
                  the daemon's and the CLI's store (plain SQL on SQLite): p50 {ReconcileBench.Percentile(verify, 0.50):F1} ms, p99 {ReconcileBench.Percentile(verify, 0.99):F1} ms · the EF Core store on the same file (PostgreSQL's path): p50 {ReconcileBench.Percentile(efVerify, 0.50):F1} ms, p99 {ReconcileBench.Percentile(efVerify, 0.99):F1} ms · aether lab verify, whole process: {cliVerify.TotalMilliseconds:F1} ms
                broken link repaired (hint path: an end deleted, both ends back, peers, up with carrier), {repair.Count} trials: p50 {ReconcileBench.Percentile(repair, 0.50):F1} ms, p99 {ReconcileBench.Percentile(repair, 0.99):F1} ms (target p99 ≤ 50 ms)
                destroy: aether lab destroy {destroy.TotalSeconds:F2} s
                ovs fabric, the same lab (a private ovsdb-server and ovs-vswitchd, userspace datapath; in a warm process): deploy {ovs.Deploy.TotalSeconds:F2} s ({ovs.Deploy.TotalSeconds / mininet:F3}× Mininet, {ovs.Deploy.TotalSeconds / ipUp.TotalSeconds:F2}× the ip script), full verification pass p50 {ReconcileBench.Percentile(ovs.Verify, 0.50):F1} ms, p99 {ReconcileBench.Percentile(ovs.Verify, 0.99):F1} ms; a wrong tag repaired by reconcile {ovs.Repair.TotalMilliseconds:F1} ms; destroy {ovs.Destroy.TotalSeconds:F2} s
                """));
            return 0;
        }
        finally
        {
            for (var i = 0; i < nodes; i++)
            {
                foreach (var prefix in new[] { name, "bip" + name[2..], "bw" + name[2..] })
                {
                    if (NetworkNamespace.Exists($"{prefix}-r{i}"))
                    {
                        NetworkNamespace.Delete($"{prefix}-r{i}");
                    }
                }
            }

            work.Delete(recursive: true);
        }
    }

    private static (LabSpec Spec, string Yaml) Lab(string name, int nodes, List<(int A, int B)> links)
    {
        var next = new int[nodes];
        var ends = links.Select(l => (A: (l.A, ++next[l.A]), B: (l.B, ++next[l.B]))).ToList();
        var yaml = new StringBuilder($"name: {name}\nnodes:\n");
        for (var i = 0; i < nodes; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  r{i}: {{ kind: linux }}\n");
        }

        yaml.Append("links:\n");
        foreach (var (a, b) in ends)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - endpoints: [\"r{a.Item1}:eth{a.Item2}\", \"r{b.Item1}:eth{b.Item2}\"]\n");
        }

        var spec = new LabSpec(name)
        {
            Nodes = [.. Enumerable.Range(0, nodes).Select(i => new LabNode("r" + i, "linux", $"{name}-r{i}"))],
            Links = [.. ends.Select(e => new LabLink(new LabEndpoint("r" + e.A.Item1, "eth" + e.A.Item2, "eth" + e.A.Item2), new LabEndpoint("r" + e.B.Item1, "eth" + e.B.Item2, "eth" + e.B.Item2)))],
        };
        return (spec, yaml.ToString());
    }

    /// <summary>Full verification passes on the lab the CLI deployed, through the EF Core store on the same file (what a
    /// PostgreSQL store goes through; the first pass, which warms up, not counted).</summary>
    private static async Task<List<double>> EfVerifyAsync(LabSpec spec, string state)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        await using var store = LabStore.Open(null, state);
        await store.MigrateAsync();
        return await VerifyPassesAsync(new LabController(spec, store, new LabOptions { StateDirectory = state }));
    }

    /// <summary>21 full verification passes, the first (which warms up) not counted: their times in ms, sorted.</summary>
    private static async Task<List<double>> VerifyPassesAsync(LabController controller)
    {
        var verify = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var result = await controller.VerifyAsync();
            if (i > 0)
            {
                verify.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            if (!result.AllUp)
            {
                throw new InvalidOperationException("the deployed lab does not verify: " + string.Join("; ", result.Links.Where(l => l.Error is not null).Take(3).Select(l => l.Error)));
            }
        }

        verify.Sort();
        return verify;
    }

    /// <summary>Verification passes and hint-path repairs, on the lab the CLI deployed, through its store.</summary>
    private static async Task<(List<double> Verify, List<double> Repair, TimeSpan WarmDeploy)> InProcessAsync(LabSpec spec, string state, int trials, int nodes, List<(int A, int B)> links)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        // The daemon's store on SQLite: EF Core migrates, the plain-SQL store reads and writes.
        await using (var migrator = LabStore.Open(null, state))
        {
            await migrator.MigrateAsync();
        }

        await using var store = SqliteLabStore.Open(Path.Combine(state, SqliteLabStore.DefaultFileName));
        await store.MigrateAsync();
        var controller = new LabController(spec, store, new LabOptions { StateDirectory = state });
        var verify = await VerifyPassesAsync(controller);
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => LabRuntime.RunAsync(controller, new LabRuntimeOptions { ReconcileEvery = TimeSpan.FromMinutes(30) }, cancellationToken: cts.Token));
        await Task.Delay(1000); // every node's loop made its first pass and subscribed
        var handles = spec.Nodes.ToDictionary(n => n.Name, n => NetlinkHandle.OpenAt(NetworkNamespace.Open(n.Namespace)), StringComparer.Ordinal);
        var repair = new List<double>(trials);
        try
        {
            for (var i = 0; i < trials; i++)
            {
                var link = spec.Links[Random.Shared.Next(spec.Links.Count)];
                await Task.Delay(50);
                var start = Stopwatch.GetTimestamp();
                await handles[link.A.Node].DeleteLinkAsync(link.A.Linux);
                var clock = Stopwatch.StartNew();
                while (!await WholeAsync(handles[link.A.Node], link.A.Linux, handles[link.B.Node], link.B.Linux))
                {
                    if (clock.Elapsed > TimeSpan.FromSeconds(10))
                    {
                        throw new TimeoutException($"{link} not repaired within 10 s");
                    }

                    await Task.Delay(1);
                }

                repair.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        finally
        {
            await cts.CancelAsync();
            await run;
            foreach (var handle in handles.Values)
            {
                handle.Dispose();
            }
        }

        repair.Sort();

        // A second lab of the same shape, deployed from empty by this (warm) process, then destroyed.
        var (second, yaml) = Lab("bw" + spec.Name[2..], nodes, links);
        var warmController = new LabController(second, store, new LabOptions { StateDirectory = state });
        var started = Stopwatch.GetTimestamp();
        var deployed = await warmController.DeployAsync(yaml);
        var warm = Stopwatch.GetElapsedTime(started);
        try
        {
            if (!deployed.AllUp)
            {
                throw new InvalidOperationException("the warm deploy did not come up: " + deployed.Error);
            }
        }
        finally
        {
            await warmController.DestroyAsync();
        }

        return (verify, repair, warm);
    }

    /// <summary>The same lab on the ovs fabric, against a private Open vSwitch: deploy, verification passes, a wrong
    /// tag (set with ovs-vsctl) repaired by a reconciliation, destroy.</summary>
    private static async Task<(TimeSpan Deploy, List<double> Verify, TimeSpan Repair, TimeSpan Destroy)> OvsAsync(int nodes, List<(int A, int B)> links, string work)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        var token = "aetb" + Guid.NewGuid().ToString("N")[..4];
        await using var ovs = await Aether.TestSupport.PrivateOvs.StartAsync(token);
        var state = Path.Combine(work, "ovs-state");
        await using var store = SqliteLabStore.Open(Path.Combine(state, SqliteLabStore.DefaultFileName)); // the daemon's store on SQLite
        await store.MigrateAsync();
        var (spec, yaml) = Lab(token, nodes, links);
        spec = spec with { Fabric = LabFabric.Ovs };
        var controller = new LabController(spec, store, new LabOptions { StateDirectory = state, Ovsdb = Aether.Ovsdb.OvsdbEndpoint.Unix(ovs.SocketPath), SwitchNamespace = ovs.Namespace });
        try
        {
            var started = Stopwatch.GetTimestamp();
            var deployed = await controller.DeployAsync(yaml);
            var deploy = Stopwatch.GetElapsedTime(started);
            if (!deployed.AllUp)
            {
                throw new InvalidOperationException("the ovs lab did not come up: " + (deployed.Error ?? deployed.Links.First(l => l.Error is not null).Error));
            }

            var verify = new List<double>();
            for (var i = 0; i < 21; i++)
            {
                started = Stopwatch.GetTimestamp();
                await controller.VerifyAsync();
                if (i > 0)
                {
                    verify.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            verify.Sort();
            await ovs.VsctlAsync("set", "port", OvsFabric.PortOf(spec.Name, spec.Links[0].A), "tag=4000");
            started = Stopwatch.GetTimestamp();
            var reconciled = await controller.ReconcileAsync();
            var repair = Stopwatch.GetElapsedTime(started);
            if (reconciled.Counts!.Repaired != 1)
            {
                throw new InvalidOperationException($"the wrong tag was not repaired: {reconciled.Counts}");
            }

            started = Stopwatch.GetTimestamp();
            await controller.DestroyAsync();
            return (deploy, verify, repair, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            foreach (var node in spec.Nodes.Where(n => NetworkNamespace.Exists(n.Namespace)))
            {
                NetworkNamespace.Delete(node.Namespace);
            }
        }
    }

    private static async Task<bool> WholeAsync(NetlinkHandle a, string nameA, NetlinkHandle b, string nameB) =>
        await a.FindLinkAsync(nameA) is { IsUp: true, IsLowerUp: true } endA
        && await b.FindLinkAsync(nameB) is { IsUp: true, IsLowerUp: true } endB
        && endA.LinkIndex == endB.Index && endB.LinkIndex == endA.Index;

    private static async Task<TimeSpan> TimeAsync(string program, params string[] args)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }

        return elapsed;
    }

    private static async Task<double> MininetAsync(string script, string prefix, string pairs)
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, prefix, pairs]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mininet peer exited {process.ExitCode}: {stderr}");
        }

        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("build_start_s").GetDouble();
    }
}
