using System.Diagnostics;
using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Bench;

/// <summary>
/// Reconcile benchmarks: how fast a loop heals a veth deleted with <c>ip</c> (through the hint path), and what a
/// no-op pass over many namespaces costs (observe + diff, nothing to do).
/// </summary>
internal static class ReconcileBench
{
    public static async Task<int> HealAsync(int trials)
    {
        var prefix = "bh" + Guid.NewGuid().ToString("N")[..4];
        using var a = NetworkNamespace.Create(prefix + "a");
        using var b = NetworkNamespace.Create(prefix + "b");
        try
        {
            using var handle = NetlinkHandle.OpenAt(a);
            using var watch = NetlinkHandle.OpenAt(a);
            var veth = prefix + "v";
            using var source = new LinkSource(handle, prefix, [new DesiredLink(veth, new Veth(prefix + "p") { PeerNamespace = b })]);
            using var loop = new ReconcileLoop(source, new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
            using var stop = new CancellationTokenSource();
            var events = System.Threading.Channels.Channel.CreateUnbounded<(LinkEvent Event, long Ticks)>();
            var pump = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in watch.MonitorAsync(MonitorGroups.Links, cancellationToken: stop.Token))
                    {
                        if (e is LinkEvent l)
                        {
                            events.Writer.TryWrite((l, Stopwatch.GetTimestamp()));
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
            await loop.StartAsync(CancellationToken.None);
            await WaitAsync(events.Reader, e => !e.Deleted && e.Link.Name == veth && e.Link.IsUp, TimeSpan.FromSeconds(10));

            // Latency from the kernel's deletion (its RTM_DELLINK, seen by an independent monitor) to the link being
            // back and up (the RTM_NEWLINK with IFF_UP), so the time `ip` itself takes to start and exit is not counted.
            var latencies = new List<double>(trials);
            for (var i = 0; i < trials; i++)
            {
                await Task.Delay(20);
                while (events.Reader.TryRead(out _))
                {
                    // events of the previous heal
                }

                await RunIpAsync("-n", a.Name!, "link", "del", veth);
                var deleted = await WaitAsync(events.Reader, e => e.Deleted && e.Link.Name == veth, TimeSpan.FromSeconds(10));
                var back = await WaitAsync(events.Reader, e => !e.Deleted && e.Link.Name == veth && e.Link.IsUp, TimeSpan.FromSeconds(10));
                latencies.Add(Stopwatch.GetElapsedTime(deleted, back).TotalMilliseconds);
            }

            await loop.StopAsync(CancellationToken.None);
            await stop.CancelAsync();
            await pump;
            var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
            while (loop.Reports.TryRead(out var report))
            {
                var key = report.Outcome + (report.Error is null ? string.Empty : ": " + report.Error);
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            }

            latencies.Sort();
            Console.WriteLine("passes by outcome: " + string.Join("; ", outcomes.Select(kv => $"{kv.Key} x{kv.Value}")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"heal after `ip link del` (hint path), {trials} trials: p50 {Percentile(latencies, 0.50):F2} ms, p99 {Percentile(latencies, 0.99):F2} ms, max {latencies[^1]:F2} ms; passes {loop.Status.Passes}"));
            return 0;
        }
        finally
        {
            NetworkNamespace.Delete(prefix + "a");
            NetworkNamespace.Delete(prefix + "b");
        }
    }

    public static async Task<int> NoOpPassAsync(int n)
    {
        var prefix = "bp" + Guid.NewGuid().ToString("N")[..4];
        var namespaces = new List<NetworkNamespace>();
        var handles = new List<NetlinkHandle>();
        var sources = new List<LinkSource>();
        try
        {
            for (var i = 0; i < n; i++)
            {
                var ns = NetworkNamespace.Create(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i}"));
                namespaces.Add(ns);
                var h = NetlinkHandle.OpenAt(ns);
                handles.Add(h);
                sources.Add(new LinkSource(h, prefix, [new DesiredLink("v0", new Veth("v1")), new DesiredLink("br0", new Bridge())]));
            }

            foreach (var s in sources)
            {
                var converge = await s.RunPassAsync(CancellationToken.None);
                if (converge.Error is not null)
                {
                    throw converge.Error;
                }
            }

            var times = new List<double>();
            for (var round = 0; round < 5; round++)
            {
                var clock = Stopwatch.StartNew();
                var drift = 0;
                foreach (var s in sources)
                {
                    drift += s.Diff(await s.ObserveAsync(CancellationToken.None)).Count;
                }

                times.Add(clock.Elapsed.TotalMilliseconds);
                if (drift != 0)
                {
                    throw new InvalidOperationException($"{drift} operations found in a no-op pass");
                }
            }

            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"no-op pass (observe + diff) over {n} namespaces, 2 links each: median {times[2]:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms"));
            return 0;
        }
        finally
        {
            Teardown(sources, handles, namespaces);
        }
    }

    /// <summary>Idle cost: <paramref name="n"/> loops (one per namespace, hints on, the default 30 s resync) that
    /// have converged, then the process's CPU time over <paramref name="seconds"/> of doing nothing but resyncs.</summary>
    public static async Task<int> IdleAsync(int n, int seconds, TimeSpan resync, bool allSources)
    {
        var prefix = "bi" + Guid.NewGuid().ToString("N")[..4];
        var namespaces = new List<NetworkNamespace>();
        var handles = new List<NetlinkHandle>();
        var sources = new List<IDisposable>();
        var loops = new List<ReconcileLoop>();
        try
        {
            for (var i = 0; i < n; i++)
            {
                var ns = NetworkNamespace.Create(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i}"));
                namespaces.Add(ns);
                var h = NetlinkHandle.OpenAt(ns);
                handles.Add(h);
                var links = new LinkSource(h, prefix, [new DesiredLink("v0", new Veth("v1")), new DesiredLink("br0", new Bridge())]);
                sources.Add(links);
                IReconcileSource source = links;
                if (allSources)
                {
                    // What `aether run` gives a namespace: one loop over its links, addresses, routes and sysctls.
                    var sysctls = new SysctlSource(ns, AppliedRecord.InMemory(), [new DesiredSysctl("net.ipv4.ip_forward", "1")]);
                    sources.Add(sysctls);
                    source = new SourceGroup(prefix + i.ToString(CultureInfo.InvariantCulture),
                    [
                        links,
                        new AddressSource(h, AppliedRecord.InMemory(), [new DesiredAddress("v0", IPPrefix.Parse("10.9.0.1/30")), new DesiredAddress("v1", IPPrefix.Parse("10.9.0.2/30"))]),
                        new RouteSource(h, [new DesiredRoute { Gateway = System.Net.IPAddress.Parse("10.9.0.2") }]),
                        sysctls,
                    ],
                    hints: ct => Hints(h, ct));
                }

                var loop = new ReconcileLoop(source, new ReconcileLoopOptions { Resync = resync });
                loops.Add(loop);
                await loop.StartAsync(CancellationToken.None);
            }

            var settle = Stopwatch.StartNew();
            while (loops.Any(l => l.Status.LastSuccess is null))
            {
                if (settle.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"{loops.Count(l => l.Status.LastSuccess is null)} loops have not converged");
                }

                await Task.Delay(100);
            }

            // Let the creation's own events and trailing passes die down, and the JIT finish, before measuring.
            await Task.Delay(TimeSpan.FromSeconds(5));
            GC.Collect();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var cpuBefore = self.TotalProcessorTime;
            var userBefore = self.UserProcessorTime;
            var passesBefore = loops.Sum(l => l.Status.Passes);
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpuBefore;
            var user = self.UserProcessorTime - userBefore;
            var wall = clock.Elapsed;
            var passes = loops.Sum(l => l.Status.Passes) - passesBefore;
            var failing = loops.Count(l => l.Status.ConsecutiveFailures > 0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"idle: {n} loops ({(allSources ? "links, addresses, routes, sysctls" : "links")}; resync {resync.TotalSeconds:F0} s, hints on), {wall.TotalSeconds:F0} s: CPU {cpu.TotalMilliseconds:F0} ms (user {user.TotalMilliseconds:F0}, kernel {(cpu - user).TotalMilliseconds:F0}) = {100 * cpu / wall:F3}% of one core; {passes} passes ({passes / wall.TotalSeconds:F1}/s), {failing} loops failing; threads {self.Threads.Count}, RSS {self.WorkingSet64 / 1048576.0:F1} MiB"));
            return failing == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var loop in loops)
            {
                await loop.StopAsync(CancellationToken.None);
                loop.Dispose();
            }

            Teardown(sources, handles, namespaces);
        }
    }

    private static async IAsyncEnumerable<object> Hints(NetlinkHandle handle, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in handle.MonitorAsync(MonitorGroups.Links | MonitorGroups.Addresses | MonitorGroups.Routes, cancellationToken: cancellationToken))
        {
            yield return e;
        }
    }

    /// <summary>Sources, then handles (an open socket keeps a namespace alive), then the namespaces themselves.</summary>
    private static void Teardown(IEnumerable<IDisposable> sources, List<NetlinkHandle> handles, List<NetworkNamespace> namespaces)
    {
        foreach (var s in sources)
        {
            s.Dispose();
        }

        foreach (var h in handles)
        {
            h.Dispose();
        }

        foreach (var ns in namespaces)
        {
            var name = ns.Name!;
            ns.Dispose();
            NetworkNamespace.Delete(name);
        }
    }

    private static async Task<long> WaitAsync(System.Threading.Channels.ChannelReader<(LinkEvent Event, long Ticks)> events, Func<LinkEvent, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var (e, ticks) = await events.ReadAsync(cts.Token);
            if (match(e))
            {
                return ticks;
            }
        }
    }

    private static async Task RunIpAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("ip " + string.Join(' ', args) + " failed");
        }
    }

    internal static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
