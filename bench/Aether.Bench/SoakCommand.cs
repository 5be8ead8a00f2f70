using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;

namespace Aether.Bench;

/// <summary>
/// <c>aether-bench chaos-soak</c>: churn for a while, then compare memory and descriptors. Round after round:
/// <c>aether apply</c> and <c>aether destroy</c> of a small topology, <c>ip link del</c> of a link an
/// <c>aether run</c> keeps (and the wait until it is back), and a hub network added and removed through the daemon's
/// API. Every 10 s the RSS (<c>VmRSS</c>) and the open descriptors (<c>/proc/PID/fd</c>) of the daemon and of the run
/// process are sampled. The reference level is the mean over the first <c>--reference</c> minutes (default a sixth of
/// the run: ten minutes of an hour), the end level the mean over the last minute; exit 1 when an end level is more than
/// 5% over its reference, or when a round failed.
/// </summary>
internal static class SoakCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var minutes = double.Parse(Option(args, "--minutes", "60"), CultureInfo.InvariantCulture);
        var reference = double.Parse(Option(args, "--reference", (minutes / 6).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var cli = Path.GetFullPath(Option(args, "--cli", ".build/aether/aether"));
        var result = await SoakAsync(cli, TimeSpan.FromMinutes(minutes), TimeSpan.FromSeconds(10), Console.WriteLine);
        return Report(result.Samples, TimeSpan.FromMinutes(reference), result.Rounds, result.Heal, result.Failures) ? 0 : 1;
    }

    /// <summary>The churn for <paramref name="duration"/>, sampled every <paramref name="sample"/>: the rounds, the
    /// failed steps, the drift heal times and the samples (also the last, at the end).</summary>
    public static async Task<SoakResult> SoakAsync(string cli, TimeSpan duration, TimeSpan sample, Action<string> log)
    {
        var prefix = "aetsk" + Guid.NewGuid().ToString("N")[..4];
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        var hostName = prefix + "h";
        var containerName = prefix + "c";
        using var host = NetworkNamespace.Create(hostName);
        using var container = NetworkNamespace.Create(containerName);
        var kept = Path.Combine(dir, "kept.yaml");
        var churned = Path.Combine(dir, "churned.yaml");
        await File.WriteAllTextAsync(kept, $"name: {prefix}-kept\nnamespaces: [{{ name: {prefix}r }}]\nlinks:\n  - {{ name: d0, kind: veth, namespace: {prefix}r, up: true, addresses: [10.77.0.1/30], peer: {{ name: d1, namespace: {prefix}r, addresses: [10.77.0.2/30] }} }}\n");
        await File.WriteAllTextAsync(churned, $"name: {prefix}-churn\nnamespaces: [{{ name: {prefix}a }}, {{ name: {prefix}b }}]\nlinks:\n  - {{ name: c0, kind: veth, namespace: {prefix}a, up: true, addresses: [10.78.0.1/30], peer: {{ name: c1, namespace: {prefix}b, addresses: [10.78.0.2/30] }} }}\n  - {{ name: br0, kind: bridge, namespace: {prefix}a, up: true }}\nroutes:\n  - {{ namespace: {prefix}b, to: default, via: 10.78.0.1 }}\n");
        var env = new Dictionary<string, string> { ["AETHER_STATE_DIR"] = Path.Combine(dir, "cli-state") };
        var socket = Path.Combine(dir, "aether.sock");
        var daemon = FuzzDaemon.Start(cli, socket, dir, hostName, prefix + "w");
        Process? run = null;
        var samples = new List<(TimeSpan At, long DaemonRss, int DaemonFds, long RunRss, int RunFds)>();
        var rounds = 0;
        var failures = new List<string>();
        var heal = new List<double>();
        try
        {
            await daemon.WaitReadyAsync(socket);
            run = StartRun(cli, kept, env);
            await WaitForAsync(() => LinkExists(prefix + "r", "d0"), TimeSpan.FromSeconds(30), "aether run did not make d0");
            using var http = FuzzDaemon.Client(socket);
            var key = WireGuardSecretKey.GeneratePrivate().ToBase64();
            var peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
            log($"chaos-soak: {duration.TotalMinutes:0.#} min, daemon pid {daemon.Process.Id}, aether run pid {run.Id}, prefix {prefix}");
            var clock = Stopwatch.StartNew();
            var next = TimeSpan.Zero;
            while (clock.Elapsed < duration)
            {
                if (clock.Elapsed >= next)
                {
                    samples.Add((clock.Elapsed, Rss(daemon.Process.Id), Fds(daemon.Process.Id), Rss(run.Id), Fds(run.Id)));
                    next += sample;
                }

                rounds++;
                await Step(failures, "apply", async () => Expect(await CliAsync(cli, env, "apply", "-f", churned), 0));
                await Step(failures, "destroy", async () => Expect(await CliAsync(cli, env, "destroy", "-f", churned), 0));
                await Step(failures, "drift", async () =>
                {
                    await ShellAsync("ip", "-n", prefix + "r", "link", "del", "d0");
                    var started = Stopwatch.GetTimestamp();
                    await WaitForAsync(() => LinkExists(prefix + "r", "d0"), TimeSpan.FromSeconds(30), "d0 not back within 30 s");
                    heal.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                });
                await Step(failures, "hub add", async () =>
                {
                    var body = new JsonObject
                    {
                        ["networkId"] = "soak", ["index"] = 0, ["container"] = containerName, ["privateKey"] = key, ["listenPort"] = 47900,
                        ["peerEndpoint"] = "192.0.2.9:51820", ["peerPublicKey"] = peer, ["address"] = "10.79.0.2", ["networkCidr"] = "10.79.0.0/24", ["gateway"] = "10.79.0.1",
                    };
                    using var added = await http.PostAsJsonAsync("v1/hub/networks", body);
                    Expect((int)added.StatusCode, 201, await added.Content.ReadAsStringAsync());
                    using var status = await http.GetAsync("v1/hub/status");
                    Expect((int)status.StatusCode, 200);
                });
                await Step(failures, "hub remove", async () =>
                {
                    using var removed = await http.DeleteAsync("v1/hub/networks/soak");
                    Expect((int)removed.StatusCode, 204, await removed.Content.ReadAsStringAsync());
                });
                if (daemon.Process.HasExited || run.HasExited)
                {
                    failures.Add($"a process exited: daemon {daemon.Process.HasExited}, aether run {run.HasExited}");
                    break;
                }
            }

            samples.Add((clock.Elapsed, Rss(daemon.Process.Id), Fds(daemon.Process.Id), Rss(run.Id), Fds(run.Id)));
            return new SoakResult(rounds, failures, heal, samples);
        }
        finally
        {
            if (run is not null)
            {
                await ChaosShell.TerminateAsync(run);
            }

            run?.Dispose();
            await FuzzDaemon.CleanUpAsync(socket);
            await daemon.StopAsync();
            _ = await CliAsync(cli, env, "destroy", "-f", churned);
            _ = await CliAsync(cli, env, "destroy", "-f", kept);
            foreach (var name in new[] { prefix + "r", prefix + "a", prefix + "b", hostName, containerName })
            {
                if (NetworkNamespace.Exists(name))
                {
                    NetworkNamespace.Delete(name);
                }
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool Report(List<(TimeSpan At, long DaemonRss, int DaemonFds, long RunRss, int RunFds)> samples, TimeSpan reference, int rounds, List<double> heal, List<string> failures)
    {
        var total = samples[^1].At;
        var first = samples.Where(s => s.At < reference).ToList();
        var last = samples.Where(s => s.At >= total - TimeSpan.FromMinutes(1)).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} rounds in {total.TotalMinutes:0.0} min ({rounds / total.TotalMinutes:0.0}/min), {samples.Count} samples; drift healed {heal.Count} times, p50 {Median(heal):0} ms, max {(heal.Count > 0 ? heal.Max() : 0):0} ms; {failures.Count} failed steps"));
        foreach (var failure in failures.Take(10))
        {
            Console.WriteLine("  " + failure);
        }

        var ok = failures.Count == 0;
        Console.WriteLine($"{"",-24} {"first",10} {"end",10} {"ratio",7}");
        foreach (var (name, pick) in new (string, Func<(TimeSpan, long, int, long, int), double>)[]
        {
            ("daemon RSS KiB", s => s.Item2), ("daemon open fds", s => s.Item3), ("aether run RSS KiB", s => s.Item4), ("aether run open fds", s => s.Item5),
        })
        {
            var from = first.Average(pick);
            var to = last.Average(pick);
            var ratio = to / from;
            ok &= ratio <= 1.05;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-24} {from,10:0.0} {to,10:0.0} {ratio,7:0.000}{(ratio > 1.05 ? "  over 5%" : string.Empty)}"));
        }

        return ok;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    private static async Task Step(List<string> failures, string what, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException)
        {
            failures.Add($"{what}: {e.Message}");
        }
    }

    private static void Expect(int got, int want, string detail = "")
    {
        if (got != want)
        {
            throw new InvalidOperationException($"got {got}, want {want} {detail}");
        }
    }

    private static void Expect((int Code, string Output) result, int want) => Expect(result.Code, want, result.Output);

    private static long Rss(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    private static int Fds(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    private static bool LinkExists(string ns, string name)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", ["-n", ns, "link", "show", name]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        return p.WaitForExit(5000) && p.ExitCode == 0;
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > within)
            {
                throw new InvalidOperationException(what);
            }

            await Task.Delay(20);
        }
    }

    private static Process StartRun(string cli, string file, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(cli, ["run", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("aether run did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int Code, string Output)> CliAsync(string cli, Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(cli, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException(cli + " did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + stderr);
    }

    private static async Task ShellAsync(params string[] args)
    {
        var (code, output) = await CliAsync(args[0], [], args[1..]);
        Expect(code, 0, output);
    }
}

/// <summary>What a soak did: its rounds, its failed steps, the drift heal times in ms, and the RSS (KiB) and open
/// descriptors of the daemon and of <c>aether run</c>, sampled.</summary>
internal sealed record SoakResult(int Rounds, List<string> Failures, List<double> Heal, List<(TimeSpan At, long DaemonRss, int DaemonFds, long RunRss, int RunFds)> Samples);
