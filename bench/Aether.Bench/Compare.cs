using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>
/// Runs the workload side by side, in one run, with Aether and every peer that is installed (Go's
/// vishvananda/netlink, pyroute2, iproute2 batch mode), each as a child process on a fresh prefix, and prints each
/// phase's median and the ratio Aether/peer. Between runs it waits until the kernel has finished tearing down the
/// previous run's namespaces, so no run pays for another's cleanup.
/// </summary>
internal static class Compare
{
    private static readonly string Root = FindRoot();

    public static async Task<int> RunAsync(int[] sizes, int runs, string[] only)
    {
        var peers = DiscoverPeers().Where(p => only.Length == 0 || only.Contains(p.Name, StringComparer.Ordinal)).ToList();
        Console.WriteLine($"peers: {string.Join(", ", peers.Select(p => p.Name))}; runs per size: {runs}; kernel {Environment.OSVersion.Version}; {Environment.ProcessorCount} cores");
        var failed = false;
        foreach (var n in sizes)
        {
            var results = peers.ToDictionary(p => p.Name, _ => new List<Result>(), StringComparer.Ordinal);
            for (var run = 0; run < runs; run++)
            {
                foreach (var peer in peers)
                {
                    var prefix = "bz" + Guid.NewGuid().ToString("N")[..4];
                    var result = await RunPeerAsync(peer, n, prefix);
                    await WaitForCleanupAsync(prefix);
                    if (result is null)
                    {
                        failed = true;
                        continue;
                    }

                    results[peer.Name].Add(result);
                }
            }

            Print(n, results);
        }

        return failed ? 1 : 0;
    }

    private static void Print(int n, Dictionary<string, List<Result>> results)
    {
        var aether = results.GetValueOrDefault("aether");
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"\nN = {n} (median of runs; seconds; ratio = Aether / peer, below 1 means Aether is faster)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"peer",-16}{"converge",10}{"observe",10}{"teardown",10}{"peak RSS",12}{"conv ratio",12}{"obs ratio",11}{"ms/ns conv",12}");
        foreach (var (name, list) in results)
        {
            if (list.Count == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"{name,-16} failed");
                continue;
            }

            var conv = Median(list.Select(r => r.Converge));
            var obs = Median(list.Select(r => r.Observe));
            var tear = Median(list.Select(r => r.Teardown));
            var rss = list.Max(r => r.PeakRssKb);
            var convRatio = aether is { Count: > 0 } ? Median(aether.Select(r => r.Converge)) / conv : double.NaN;
            var obsRatio = aether is { Count: > 0 } ? Median(aether.Select(r => r.Observe)) / obs : double.NaN;
            sb.AppendLine(CultureInfo.InvariantCulture, $"{name,-16}{conv,10:F3}{obs,10:F3}{tear,10:F3}{(rss > 0 ? $"{rss / 1024.0:F1} MiB" : "-"),12}{convRatio,12:F2}{obsRatio,11:F2}{conv * 1000 / n,12:F3}");
        }

        Console.Write(sb.ToString());
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<Result?> RunPeerAsync(Peer peer, int n, string prefix)
    {
        var timeBinary = File.Exists("/usr/bin/time") ? "/usr/bin/time" : null;
        var psi = new ProcessStartInfo(timeBinary ?? peer.Command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (timeBinary is not null)
        {
            psi.ArgumentList.Add("-f");
            psi.ArgumentList.Add("maxrss_kb=%M");
            psi.ArgumentList.Add(peer.Command[0]);
        }

        foreach (var arg in peer.Command.Skip(1).Concat(["--n", n.ToString(CultureInfo.InvariantCulture), "--prefix", prefix]))
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        var errors = await stderr;
        var json = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (process.ExitCode != 0 || json is null)
        {
            await Console.Error.WriteLineAsync($"{peer.Name} N={n} failed (exit {process.ExitCode}): {errors.Trim()}");
            return null;
        }

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var rss = errors.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("maxrss_kb=", StringComparison.Ordinal)) is { } line
            ? long.Parse(line.AsSpan("maxrss_kb=".Length), CultureInfo.InvariantCulture)
            : root.TryGetProperty("peak_rss_kb", out var own) ? own.GetInt64() : 0;
        if (root.GetProperty("host_links").GetInt32() != n || root.GetProperty("ns_links").GetInt32() != n || root.GetProperty("ns_addrs").GetInt32() != n)
        {
            await Console.Error.WriteLineAsync($"{peer.Name} N={n}: counts differ from N: {json}");
            return null;
        }

        return new Result(root.GetProperty("converge_s").GetDouble(), root.GetProperty("observe_s").GetDouble(), root.GetProperty("teardown_s").GetDouble(), rss);
    }

    /// <summary>Waits (up to 60 s) until no namespace or host link with the prefix remains.</summary>
    private static async Task WaitForCleanupAsync(string prefix)
    {
        for (var i = 0; i < 600; i++)
        {
            var namesLeft = Directory.Exists("/run/netns") && Directory.EnumerateFiles("/run/netns", prefix + "*").Any();
            var linksLeft = Directory.EnumerateDirectories("/sys/class/net", prefix + "*").Any();
            if (!namesLeft && !linksLeft)
            {
                // Freed namespaces are torn down by a kernel worker; give it a moment to go idle.
                await Task.Delay(500);
                return;
            }

            await Task.Delay(100);
        }

        await Console.Error.WriteLineAsync($"objects with prefix {prefix} still exist after 60 s");
    }

    private static List<Peer> DiscoverPeers()
    {
        var peers = new List<Peer> { new("aether", [Environment.ProcessPath!, "workload"]) };
        var go = Path.Combine(Path.GetTempPath(), "aether-bench-gonetlink");
        var build = Path.Combine(Root, "bench/peers/go/build.sh");
        if (File.Exists(go) || RunQuiet(build, go))
        {
            peers.Add(new("go-netlink", [go]));
        }
        else
        {
            Console.WriteLine("go-netlink: not built (install golang-go golang-github-vishvananda-netlink-dev)");
        }

        if (RunQuiet("/usr/bin/python3", "-c", "import pyroute2"))
        {
            peers.Add(new("pyroute2", ["/usr/bin/python3", Path.Combine(Root, "bench/peers/pyroute2_peer.py"), "--ns-mode", "setns"]));
        }
        else
        {
            Console.WriteLine("pyroute2: not installed (python3-pyroute2)");
        }

        peers.Add(new("iproute2-batch", ["/bin/bash", Path.Combine(Root, "bench/peers/ip_batch_peer.sh")]));
        return peers;
    }

    private static bool RunQuiet(string file, params string[] args)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    private static string FindRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Aether.slnx")))
            {
                return dir;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private sealed record Peer(string Name, string[] Command);

    private sealed record Result(double Converge, double Observe, double Teardown, long PeakRssKb);
}
