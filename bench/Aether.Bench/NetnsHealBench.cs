using System.Diagnostics;
using System.Globalization;
using System.Net;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Nftables;
using Aether.Netlink.Rtnl;

namespace Aether.Bench;

/// <summary>
/// How fast <c>aether run</c> (the shipped CLI, a process of its own) makes a namespace of its topology again after
/// <c>ip netns del</c>: from the deletion (the same unmount and unlink <c>ip netns del</c> does, made here so the time
/// <c>ip</c> takes to start is not counted) to everything back and up, checked from outside every millisecond: the
/// namespace, both veth ends up, both addresses, the default route, the sysctl and the NAT table.
/// </summary>
internal static class NetnsHealBench
{
    public static async Task<int> RunAsync(string cli, int trials)
    {
        var prefix = "bn" + Guid.NewGuid().ToString("N")[..4];
        string ns = prefix + "n", host = prefix + "h", topology = prefix + "t";
        var state = Directory.CreateTempSubdirectory("aether-bench-");
        var file = Path.Combine(state.FullName, "topology.yaml");
        await File.WriteAllTextAsync(file, $"""
            name: {topology}
            namespaces:
              - name: {ns}
                sysctls: {"{"} net.ipv4.ip_forward: "1" {"}"}
                nat: [{"{"} masquerade: {"{"} source: 10.203.0.0/30, out: eth0 {"}"} {"}"}]
            links:
              - name: {host}
                kind: veth
                up: true
                addresses: [10.203.0.1/30]
                peer: {"{"} name: eth0, namespace: {ns}, addresses: [10.203.0.2/30] {"}"}
            routes:
              - {"{"} namespace: {ns}, to: default, via: 10.203.0.1 {"}"}
            """);
        var run = Process.Start(new ProcessStartInfo(cli, ["run", "-f", file, "--state-dir", state.FullName]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var repairs = 0;
        var running = new TaskCompletionSource();
        run.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("running:", StringComparison.Ordinal) == true)
            {
                running.TrySetResult();
            }
            else if (e.Data?.Contains("[runtime] - namespace " + ns, StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref repairs);
            }
        };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
            using var hostHandle = NetlinkHandle.Open();
            var latencies = new List<double>(trials);
            await UntilWholeAsync(ns, host, hostHandle, TimeSpan.FromSeconds(10));
            for (var i = 0; i < trials; i++)
            {
                await Task.Delay(100); // the loops settle between trials
                var start = Stopwatch.GetTimestamp();
                NetworkNamespace.Delete(ns);
                await UntilWholeAsync(ns, host, hostHandle, TimeSpan.FromSeconds(10));
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            latencies.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"netns heal: `ip netns del` to namespace, veth (both ends up), addresses, route, sysctl and NAT back, {trials} trials, aether run as its own process: p50 {ReconcileBench.Percentile(latencies, 0.50):F1} ms, p99 {ReconcileBench.Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms; repairs reported {Volatile.Read(ref repairs)}"));
            return 0;
        }
        finally
        {
            run.Kill();
            await run.WaitForExitAsync();
            var destroy = Process.Start(cli, ["destroy", "-f", file, "--state-dir", state.FullName]);
            await destroy.WaitForExitAsync();
            state.Delete(recursive: true);
        }
    }

    /// <summary>Polls every millisecond until the namespace and everything in it is back.</summary>
    private static async Task UntilWholeAsync(string ns, string host, NetlinkHandle hostHandle, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await WholeAsync(ns, host, hostHandle))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{ns} not back within {timeout.TotalSeconds} s");
            }

            await Task.Delay(1);
        }
    }

    private static async Task<bool> WholeAsync(string ns, string host, NetlinkHandle hostHandle)
    {
        if (!NetworkNamespace.Exists(ns) || await hostHandle.FindLinkAsync(host) is not { IsUp: true } hostEnd)
        {
            return false;
        }

        try
        {
            using var inside = NetworkNamespace.Open(ns);
            using var handle = NetlinkHandle.OpenAt(inside);
            if (await handle.FindLinkAsync("eth0") is not { IsUp: true } peer
                || !(await handle.ListAddressesAsync(index: peer.Index)).Any(a => a.Prefix.Address.Equals(IPAddress.Parse("10.203.0.2")))
                || !(await hostHandle.ListAddressesAsync(index: hostEnd.Index)).Any(a => a.Prefix.Address.Equals(IPAddress.Parse("10.203.0.1")))
                || !(await handle.ListRoutesAsync()).Any(r => r.Destination is null && r.Gateway?.Equals(IPAddress.Parse("10.203.0.1")) == true))
            {
                return false;
            }

            using var forward = Sysctl.Open(inside, "net.ipv4.ip_forward");
            if (forward.Read().Trim() != "1")
            {
                return false;
            }

            using var nft = NftContext.OpenAt(inside);
            return nft.ListTables().Any(t => t.Name.StartsWith("aether-", StringComparison.Ordinal));
        }
        catch (NetlinkException)
        {
            return false; // between the name's file and its mount, or gone again
        }
    }
}
