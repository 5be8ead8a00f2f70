using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>
/// Drift while <c>aether run</c> goes: a storm of random <c>ip</c>/<c>nft</c> changes to owned objects with foreign
/// ones beside them, and a flood of kernel events against a small monitor receive buffer.
/// </summary>
internal static class ChaosDrift
{
    /// <summary>
    /// <paramref name="changes"/> random changes, one <c>ip</c> or <c>nft</c> process each, back to back, on the owned
    /// objects of a running topology (links set down, deleted, renamed; addresses deleted; namespaces deleted; NAT
    /// tables deleted): afterwards everything heals (<c>aether diff</c> in sync, and an <c>ip -j</c> check of every
    /// namespace, veth end and address), no renamed or stray owned object is left, and the foreign objects are as
    /// they were.
    /// </summary>
    public static async Task<ChaosRow> StormAsync(string cli, int namespaces, int changes)
    {
        var inside = Math.Max(1, namespaces / 4);
        await using var world = await ChaosWorld.CreateAsync(cli, namespaces, foreignInside: inside);
        var lines = new List<string>();
        var run = await world.StartRunAsync(lines);
        var failures = new List<string>();
        try
        {
            await world.AddForeignInsideAsync();
            var baseline = await world.SnapshotForeignAsync();
            var applied = 0;
            var renamed = 0;
            var started = Stopwatch.GetTimestamp();
            for (var k = 0; k < changes; k++)
            {
                var i = Random.Shared.Next(namespaces);
                var (program, args) = Random.Shared.Next(i < namespaces - inside ? 8 : 7) switch
                {
                    0 => ("ip", new[] { "link", "set", world.HostLink(i), "down" }),
                    1 => ("ip", ["-n", world.Ns(i), "link", "set", "eth0", "down"]),
                    2 => ("ip", ["addr", "del", world.HostAddress(i) + "/30", "dev", world.HostLink(i)]),
                    3 => ("ip", ["-n", world.Ns(i), "addr", "del", world.HostAddress(i, 2) + "/30", "dev", "eth0"]),
                    4 => ("ip", ["link", "del", world.HostLink(i)]),
                    5 => ("ip", ["link", "set", world.HostLink(i), "name", world.Prefix + "r" + (renamed++).ToString(CultureInfo.InvariantCulture)]),
                    6 => ChaosWorld.HasNat(i)
                        ? ("ip", ["netns", "exec", world.Ns(i), "nft", "delete", "table", "inet", "aether-" + world.Prefix])
                        : ("ip", ["-n", world.Ns(i), "link", "set", "eth0", "name", "eth9"]),
                    _ => ("ip", ["netns", "del", world.Ns(i)]), // never where a foreign object lives inside
                };
                applied += (await ChaosShell.RunAsync(program, args)).Code == 0 ? 1 : 0;
            }

            var storm = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var healed = await world.UntilInSyncAsync(TimeSpan.FromMinutes(2));
            var whole = healed is null ? ["not in sync after 2 minutes"] : await MissingAsync(world);
            failures.AddRange(whole);
            var orphans = await world.OrphansAsync(applied: true);
            var foreign = ChaosWorld.Changed(baseline, await world.SnapshotForeignAsync());
            if (run.HasExited)
            {
                failures.Add($"aether run exited {run.ExitCode}");
            }

            if (orphans.Count > 0 || foreign.Count > 0)
            {
                failures.Add($"orphans [{string.Join(", ", orphans)}]; foreign changed [{string.Join(", ", foreign)}]");
            }

            var times = string.Create(CultureInfo.InvariantCulture,
                $"{applied}/{changes} changes took effect over {storm / 1000:0.0} s; healed {(healed is { } h ? $"{h:0} ms" : "never")} after the last");
            return new ChaosRow($"drift storm, {namespaces} ns, run going", 1, whole.Count == 0 ? 1 : 0, orphans.Count, foreign.Count > 0 ? 1 : 0, times, failures);
        }
        finally
        {
            await ChaosShell.TerminateAsync(run);
        }
    }

    /// <summary>
    /// <paramref name="events"/> address additions and removals (each also announces a local route) on a foreign
    /// dummy inside a namespace <c>aether run</c> watches, its monitor's receive buffer made small
    /// (<c>--monitor-buffer</c>) and the run stopped by SIGSTOP until the flood is over, with an owned link set down in
    /// the middle of the flood: the kernel must have dropped
    /// announcements (the <c>Drops</c> of <c>/proc/net/netlink</c> in that namespace), the run must converge, and its
    /// monitor must still deliver: a link set down afterwards comes back within 5 s (the resync is 10 minutes).
    /// </summary>
    public static async Task<ChaosRow> OverflowAsync(string cli, int events, int buffer)
    {
        await using var world = await ChaosWorld.CreateAsync(cli, 2, foreignInside: 1);
        var lines = new List<string>();
        var run = await world.StartRunAsync(lines, "--resync", "10m", "--monitor-buffer", buffer.ToString(CultureInfo.InvariantCulture));
        var failures = new List<string>();
        try
        {
            await world.AddForeignInsideAsync();
            var baseline = await world.SnapshotForeignAsync();
            var ns = world.Ns(1);
            var dropsBefore = await DropsAsync(ns, run.Id);
            var batch = new StringBuilder();
            for (var k = 0; k < events / 2; k++)
            {
                var address = string.Create(CultureInfo.InvariantCulture, $"10.255.{k / 250 % 250}.{k % 250 + 1}/32");
                batch.Append(CultureInfo.InvariantCulture, $"address add {address} dev {world.Prefix}fx\naddress del {address} dev {world.Prefix}fx\n");
            }

            // The run is stopped (SIGSTOP) while the flood goes on, as a process descheduled under load would be: a
            // reader that keeps up (one epoll thread does, on a quiet machine) would otherwise make the overflow a
            // matter of luck. The kernel queues what fits in the small buffer and drops the rest.
            var pid = run.Id.ToString(CultureInfo.InvariantCulture);
            var started = Stopwatch.GetTimestamp();
            ChaosOutput flooded, down;
            _ = await ChaosShell.RunAsync("kill", ["-STOP", pid]);
            try
            {
                var flood = ChaosShell.RunAsync("ip", ["-n", ns, "-batch", "-"], stdin: batch.ToString());
                await Task.Delay(50);
                down = await ChaosShell.IpAsync("-n", ns, "link", "set", "eth0", "down"); // lost in the flood, or not
                flooded = await flood;
            }
            finally
            {
                _ = await ChaosShell.RunAsync("kill", ["-CONT", pid]);
            }

            var floodMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (flooded.Code != 0 || down.Code != 0)
            {
                failures.Add($"the flood: {flooded}; the drift: {down}");
            }

            var drops = await DropsAsync(ns, run.Id) - dropsBefore;
            if (drops == 0)
            {
                failures.Add("the kernel dropped no announcement: no overflow happened");
            }

            var converged = await world.UntilInSyncAsync(TimeSpan.FromSeconds(60));
            failures.AddRange(converged is null ? ["not in sync 60 s after the flood"] : await MissingAsync(world));

            // The stream alive: a change after the flood is seen and repaired (the resync is far away).
            var after = Stopwatch.GetTimestamp();
            _ = await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", "eth0", "down");
            double? alive = null;
            while (Stopwatch.GetElapsedTime(after) < TimeSpan.FromSeconds(5))
            {
                if (await IsUpAsync(ns, "eth0"))
                {
                    alive = Stopwatch.GetElapsedTime(after).TotalMilliseconds;
                    break;
                }

                await Task.Delay(5);
            }

            if (alive is null)
            {
                failures.Add("eth0 set down after the flood was not repaired within 5 s: the monitor stopped delivering");
            }

            if (run.HasExited)
            {
                failures.Add($"aether run exited {run.ExitCode}");
            }

            var orphans = await world.OrphansAsync(applied: true);
            var foreign = ChaosWorld.Changed(baseline, await world.SnapshotForeignAsync());
            var times = string.Create(CultureInfo.InvariantCulture,
                $"{events} address events in {floodMs / 1000:0.0} s, {buffer} B buffer, {drops} dropped; converged {(converged is { } c ? $"{c:0} ms" : "never")} after; next event repaired in {(alive is { } a ? $"{a:0} ms" : "never")}");
            return new ChaosRow("monitor overflow, run going", 1, converged is not null && failures.Count == 0 ? 1 : 0, orphans.Count, foreign.Count > 0 ? 1 : 0, times, failures);
        }
        finally
        {
            await ChaosShell.TerminateAsync(run);
        }
    }

    /// <summary>What an <c>ip -j</c> look finds missing: every namespace, both veth ends up, both addresses.</summary>
    private static async Task<List<string>> MissingAsync(ChaosWorld world)
    {
        var missing = new List<string>();
        using var host = ChaosShell.IpJson(await ChaosShell.IpOrThrowAsync("-j", "addr", "show"));
        var hostLinks = host.RootElement.EnumerateArray().ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l, StringComparer.Ordinal);
        for (var i = 0; i < world.Namespaces; i++)
        {
            if (!hostLinks.TryGetValue(world.HostLink(i), out var end) || !Up(end) || !HasAddress(end, world.HostAddress(i)))
            {
                missing.Add(world.HostLink(i));
            }

            var inside = await ChaosShell.IpAsync("-n", world.Ns(i), "-j", "addr", "show", "dev", "eth0");
            using var peer = ChaosShell.IpJson(inside.Code == 0 && inside.Stdout.Length > 0 ? inside.Stdout : "[]");
            if (peer.RootElement.GetArrayLength() != 1 || !Up(peer.RootElement[0]) || !HasAddress(peer.RootElement[0], world.HostAddress(i, 2)))
            {
                missing.Add(world.Ns(i) + "/eth0");
            }
        }

        return missing;

        static bool Up(JsonElement link) => link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP");
        static bool HasAddress(JsonElement link, string address) =>
            link.GetProperty("addr_info").EnumerateArray().Any(a => a.GetProperty("local").GetString() == address);
    }

    private static async Task<bool> IsUpAsync(string ns, string link)
    {
        var result = await ChaosShell.IpAsync("-n", ns, "-j", "link", "show", "dev", link);
        if (result.Code != 0)
        {
            return false;
        }

        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement[0].GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP");
    }

    /// <summary>The sum of the <c>Drops</c> column of <c>/proc/net/netlink</c> over the run's own sockets
    /// (<paramref name="pid"/>'s), in <paramref name="ns"/> and in the host's namespace: the run hears a namespace on
    /// one socket in the host's namespace (<c>NETLINK_LISTEN_ALL_NSID</c>), or on a monitor socket inside it.</summary>
    private static async Task<long> DropsAsync(string ns, int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }

        var inside = await ChaosShell.RunAsync("ip", ["netns", "exec", ns, "cat", "/proc/net/netlink"]);
        return Sum(inside.Stdout) + Sum(await File.ReadAllTextAsync($"/proc/{pid}/net/netlink"));

        long Sum(string table)
        {
            var rows = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var header = rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var drops = Array.IndexOf(header, "Drops");
            var inode = Array.IndexOf(header, "Inode");
            return rows.Skip(1).Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(c => inodes.Contains(c[inode]))
                .Sum(c => long.Parse(c[drops], CultureInfo.InvariantCulture));
        }
    }
}
