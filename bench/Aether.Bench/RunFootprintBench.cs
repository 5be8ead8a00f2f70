using System.Diagnostics;
using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Bench;

/// <summary>
/// What <c>aether run</c> (the shipped CLI, a process of its own) costs over N namespaces of
/// <c>examples/generate-topology.sh</c> (a veth from the host into each, addresses), and how fast it heals:
/// <list type="bullet">
/// <item>idle, once converged: threads and resident memory (<c>/proc/PID/status</c>), descriptors
/// (<c>/proc/PID/fd</c>) and CPU (utime+stime of <c>/proc/PID/stat</c> over <c>--seconds</c>);</item>
/// <item>the host ends of <c>--heal</c> veths deleted in one <c>ip -batch</c>: from its exit (the last deletion) to
/// every pair back, both ends up and addressed, polled from outside;</item>
/// <item>single deletions (<c>--trials</c>, one at a time): p50 and p99 of the same.</item>
/// </list>
/// The topology is applied with the CLI first and destroyed at the end.
/// </summary>
internal static class RunFootprintBench
{
    public static async Task<int> RunAsync(string cli, int n, int seconds, int heal, int trials)
    {
        var prefix = "bf" + Guid.NewGuid().ToString("N")[..4];
        var state = Directory.CreateTempSubdirectory("aether-bench-");
        var file = Path.Combine(state.FullName, "topology.yaml");
        await RunToFileAsync("bash", ["examples/generate-topology.sh", n.ToString(CultureInfo.InvariantCulture), prefix], file);
        Process? run = null;
        try
        {
            var clock = Stopwatch.StartNew();
            await RunCheckedAsync(cli, ["apply", "-f", file, "--state-dir", state.FullName]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run-footprint: {n} namespaces ({prefix}*) applied in {clock.Elapsed.TotalSeconds:F2} s"));

            var running = new TaskCompletionSource();
            var passes = new System.Collections.Concurrent.ConcurrentQueue<string>(); // the pass lines aether run prints
            run = Process.Start(new ProcessStartInfo(cli, ["run", "-f", file, "--state-dir", state.FullName]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            run.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("running:", StringComparison.Ordinal) == true)
                {
                    running.TrySetResult();
                }
                else if (e.Data is { Length: > 0 } line && running.Task.IsCompleted)
                {
                    passes.Enqueue(line);
                }
            };
            run.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    Console.Error.WriteLine("aether run: " + line);
                }
            };
            run.BeginOutputReadLine();
            run.BeginErrorReadLine();
            clock.Restart();
            await running.Task.WaitAsync(TimeSpan.FromSeconds(600));
            var settled = await SettleAsync(run.Id);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run-footprint: running after {clock.Elapsed.TotalSeconds:F1} s (settled: {settled})"));

            var cpu = CpuSeconds(run.Id);
            var wall = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var idle = (CpuSeconds(run.Id) - cpu) / wall.Elapsed.TotalSeconds * 100;
            var (threads, rssKiB) = Status(run.Id);
            var fds = Directory.GetFileSystemEntries($"/proc/{run.Id}/fd").Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run-footprint idle ({n} namespaces, {seconds} s): threads {threads}, RSS {rssKiB / 1024.0:F1} MiB, fds {fds} ({(double)fds / n:F2} per namespace), CPU {idle:F2}% of one core"));

            using var host = NetlinkHandle.Open();
            if (heal > 0)
            {
                var picked = Enumerable.Range(1, Math.Min(heal, n)).ToList();
                var batch = Path.Combine(state.FullName, "heal.batch");
                await File.WriteAllLinesAsync(batch, picked.Select(i => $"link del {prefix}-h{i}"));
                passes.Clear();
                await RunCheckedAsync("ip", ["-batch", batch]);
                var start = Stopwatch.GetTimestamp();
                var deleted = DateTimeOffset.Now;
                await UntilBackAsync(prefix, picked, host, TimeSpan.FromSeconds(60));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run-footprint heal: {picked.Count} host ends deleted in one `ip -batch`, all pairs back (both ends up, addressed) {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0} ms after the last deletion"));
                await Task.Delay(500); // the last lines reach us
                Timeline(passes, deleted);
            }

            var latencies = new List<double>(trials);
            var random = new Random(19);
            for (var t = 0; t < trials; t++)
            {
                await Task.Delay(200); // the loops settle between trials
                var i = random.Next(1, n + 1);
                var start = Stopwatch.GetTimestamp();
                await host.DeleteLinkAsync($"{prefix}-h{i}");
                await UntilBackAsync(prefix, [i], host, TimeSpan.FromSeconds(30));
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            if (trials > 0)
            {
                latencies.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run-footprint single heal: {trials} trials, `ip link del` of a host end to the pair back: p50 {ReconcileBench.Percentile(latencies, 0.50):F1} ms, p99 {ReconcileBench.Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms"));
            }

            return 0;
        }
        finally
        {
            if (run is not null)
            {
                run.Kill();
                await run.WaitForExitAsync();
            }

            await RunCheckedAsync(cli, ["destroy", "-f", file, "--state-dir", state.FullName]);
            state.Delete(recursive: true);
        }
    }

    /// <summary>What the loops did for a heal, from the pass lines of <c>aether run</c> (timestamp, source, outcome,
    /// duration, operations): the host's passes one by one, the namespaces' counted by outcome; times from the last
    /// deletion.</summary>
    private static void Timeline(IEnumerable<string> lines, DateTimeOffset deleted)
    {
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        double lastNamespace = 0;
        foreach (var line in lines)
        {
            var close = line.IndexOf("] ", StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (close < 0 || space < 0 || !DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                continue;
            }

            var from = (at - deleted).TotalMilliseconds;
            var rest = line[(close + 2)..].Split(' ', 4); // outcome, "in", N, "ms: operations..."
            if (rest.Length < 3)
            {
                continue;
            }

            if (line.AsSpan(space + 1).StartsWith("[host", StringComparison.Ordinal))
            {
                var operations = rest.Length > 3 && rest[3].StartsWith("ms: ", StringComparison.Ordinal) ? rest[3].Split("; ").Length : 0;
                var error = line.IndexOf(" error: ", StringComparison.Ordinal) is var e and >= 0 ? line[e..Math.Min(line.Length, e + 160)] : string.Empty;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  host pass started {from:F0} ms after the last deletion: {rest[0]} in {rest[2]} ms, {operations} operations{error}"));
            }
            else
            {
                outcomes[rest[0]] = outcomes.GetValueOrDefault(rest[0]) + 1;
                lastNamespace = Math.Max(lastNamespace, from);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  namespace passes: {string.Join(", ", outcomes.Select(o => $"{o.Value} {o.Key}"))}; the last started {lastNamespace:F0} ms after the last deletion"));
    }

    /// <summary>Waits until the process has used under 2% of a core over a second (at most 120 s).</summary>
    private static async Task<bool> SettleAsync(int pid)
    {
        for (var i = 0; i < 120; i++)
        {
            var before = CpuSeconds(pid);
            await Task.Delay(1000);
            if (CpuSeconds(pid) - before < 0.02)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>utime + stime of the process, in seconds.</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ
    }

    private static (int Threads, long RssKiB) Status(int pid)
    {
        int threads = 0;
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return (threads, rss);
    }

    /// <summary>Polls until every picked pair is back: the host end up with an address, then its peer eth0 up with an
    /// address inside the namespace (each namespace checked until it is whole, then left alone).</summary>
    private static async Task UntilBackAsync(string prefix, List<int> picked, NetlinkHandle host, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var left = new HashSet<int>(picked);
        while (left.Count > 0)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{left.Count} pairs of {prefix} not back within {timeout.TotalSeconds} s");
            }

            // Each host end looked up by name (a dump of every link would cost the poller, at 10,000 namespaces,
            // more than the heal it times), and the host's addresses dumped only once one is up.
            var up = new Dictionary<int, int>();
            foreach (var i in left)
            {
                if (await host.FindLinkAsync($"{prefix}-h{i}") is { IsUp: true } end)
                {
                    up[i] = end.Index;
                }
            }

            var addressed = up.Count == 0 ? [] : (await host.ListAddressesAsync()).Select(a => a.Index).ToHashSet();
            foreach (var (i, index) in up)
            {
                if (addressed.Contains(index) && await InsideWholeAsync(prefix + i.ToString(CultureInfo.InvariantCulture)))
                {
                    left.Remove(i);
                }
            }

            if (left.Count > 0)
            {
                await Task.Delay(1);
            }
        }
    }

    private static async Task<bool> InsideWholeAsync(string ns)
    {
        try
        {
            using var inside = NetworkNamespace.Open(ns);
            using var handle = NetlinkHandle.OpenAt(inside);
            return await handle.FindLinkAsync("eth0") is { IsUp: true } peer && (await handle.ListAddressesAsync(index: peer.Index)).Count > 0;
        }
        catch (NetlinkException)
        {
            return false;
        }
    }

    private static async Task RunToFileAsync(string program, string[] args, string path)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited {process.ExitCode}");
        }

        await File.WriteAllTextAsync(path, text);
    }

    private static async Task RunCheckedAsync(string program, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await output;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error.Trim()}");
        }
    }
}
