using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Bench;

/// <summary>
/// The benchmark workload, done with Aether: N namespaces each with a veth pair host↔namespace, a /30 on both ends,
/// both ends and lo up (converge); read back host links and every namespace's links and addresses (observe);
/// delete the namespaces (teardown). Prints one JSON line like the peers in bench/peers.
/// </summary>
internal static class Workload
{
    public static async Task<int> RunAsync(int n, string prefix)
    {
        var names = new string[n];
        for (var i = 0; i < n; i++)
        {
            names[i] = Invariant($"{prefix}{i}");
        }

        var namespaces = new NetworkNamespace[n];
        var handles = new NetlinkHandle[n];
        using var host = NetlinkHandle.Open();
        try
        {
            var sw = Stopwatch.StartNew();
            await ConvergeAsync(host, prefix, names, namespaces, handles);
            var converge = sw.Elapsed.TotalSeconds;

            sw.Restart();
            var (hostLinks, nsLinks, nsAddrs) = await ObserveAsync(host, prefix, handles);
            var observe = sw.Elapsed.TotalSeconds;

            Trace("after observe", Stopwatch.StartNew());
            sw.Restart();
            Teardown(names, namespaces, handles);
            var teardown = sw.Elapsed.TotalSeconds;

            var json = Invariant($"{{\"peer\":\"aether\",\"n\":{n},\"converge_s\":{converge:F6},\"observe_s\":{observe:F6},\"teardown_s\":{teardown:F6},\"host_links\":{hostLinks},\"ns_links\":{nsLinks},\"ns_addrs\":{nsAddrs},\"peak_rss_kb\":{PeakRssKb()}}}");
            if (hostLinks != n || nsLinks != n || nsAddrs != n)
            {
                await Console.Error.WriteLineAsync("counts differ from N: " + json);
                return 1;
            }

            Console.WriteLine(json);
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync("aether workload failed: " + ex.Message);
            Teardown(names, namespaces, handles);
            return 1;
        }
    }

    private static async Task ConvergeAsync(NetlinkHandle host, string prefix, string[] names, NetworkNamespace[] namespaces, NetlinkHandle[] handles)
    {
        var n = names.Length;
        var t = Stopwatch.StartNew();

        // Namespaces come up in parallel, one lane per core: most of the cost is the kernel's setup of each one.
        await InLanesAsync(n, i =>
        {
            namespaces[i] = NetworkNamespace.Create(names[i]);
            handles[i] = NetlinkHandle.OpenAt(namespaces[i]);
            return Task.CompletedTask;
        });
        Trace("create ns + handles", t);

        // One batch on the host socket: every pair, host end up, peer created inside its namespace.
        using (var batch = host.CreateBatch())
        {
            for (var i = 0; i < n; i++)
            {
                batch.CreateLink(new LinkSpec(Invariant($"{prefix}h{i}"), new Veth(Invariant($"{prefix}n{i}")) { PeerNamespace = namespaces[i] }) { Up = true });
            }

            (await batch.ExecuteAsync()).ThrowIfFailed();
        }
        Trace("veth batch", t);

        // One dump tells both ends' indexes: a veth reports its peer's ifindex (in the peer's namespace) as IFLA_LINK.
        var hostIndex = new int[n];
        var peerIndex = new int[n];
        var hostPrefix = prefix + "h";
        foreach (var link in await host.ListLinksAsync())
        {
            if (link.Name.StartsWith(hostPrefix, StringComparison.Ordinal)
                && int.TryParse(link.Name.AsSpan(hostPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < n)
            {
                hostIndex[i] = link.Index;
                peerIndex[i] = link.LinkIndex ?? 0;
            }
        }

        Trace("dump", t);
        using (var batch = host.CreateBatch())
        {
            for (var i = 0; i < n; i++)
            {
                batch.AddAddress(new AddressSpec(hostIndex[i], new IPPrefix(AddressOf(i, 1), 30)));
            }

            (await batch.ExecuteAsync()).ThrowIfFailed();
        }

        Trace("host addrs", t);
        // Inside each namespace: one send carries the address, the veth end up and lo up.
        for (var i = 0; i < n; i++)
        {
            using var batch = handles[i].CreateBatch();
            batch.AddAddress(new AddressSpec(peerIndex[i], new IPPrefix(AddressOf(i, 2), 30)))
                .SetLink(peerIndex[i], new LinkChange { Up = true })
                .SetLink(1, new LinkChange { Up = true });
            (await batch.ExecuteAsync()).ThrowIfFailed();
        }

        Trace("ns batches", t);
    }

    private static void Trace(string what, Stopwatch t)
    {
        if (Environment.GetEnvironmentVariable("AETHER_BENCH_TRACE") is not null)
        {
            var rss = string.Join(" ", File.ReadLines("/proc/self/status").Where(l => l.StartsWith("RssAnon:", StringComparison.Ordinal) || l.StartsWith("RssFile:", StringComparison.Ordinal) || l.StartsWith("Threads:", StringComparison.Ordinal)));
            Console.Error.WriteLine($"  {what}: {t.Elapsed.TotalMilliseconds:F1} ms  {rss} gc={GC.GetTotalMemory(false) / 1024} KiB alloc={GC.GetTotalAllocatedBytes() / 1024} KiB gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
        }

        t.Restart();
    }

    private static async Task<(int HostLinks, int NsLinks, int NsAddrs)> ObserveAsync(NetlinkHandle host, string prefix, NetlinkHandle[] handles)
    {
        var hostPrefix = prefix + "h";
        var nsPrefix = prefix + "n";
        var hostLinks = 0;
        foreach (var link in await host.ListLinksAsync())
        {
            hostLinks += link.Name.StartsWith(hostPrefix, StringComparison.Ordinal) ? 1 : 0;
        }

        var nsLinks = 0;
        var nsAddrs = 0;

        // The handles are independent, so the namespaces are read in one lane per core.
        await InLanesAsync(handles.Length, async i =>
        {
            int links = 0, addrs = 0;
            foreach (var link in await handles[i].ListLinksAsync())
            {
                links += link.Name.StartsWith(nsPrefix, StringComparison.Ordinal) ? 1 : 0;
            }

            foreach (var address in await handles[i].ListAddressesAsync())
            {
                addrs += IsBenchAddress(address) ? 1 : 0;
            }

            Interlocked.Add(ref nsLinks, links);
            Interlocked.Add(ref nsAddrs, addrs);
        });

        return (hostLinks, nsLinks, nsAddrs);
    }

    private static void Teardown(string[] names, NetworkNamespace?[] namespaces, NetlinkHandle?[] handles)
    {
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i]?.Dispose();
            namespaces[i]?.Dispose();
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (namespaces[i] is not null && NetworkNamespace.Exists(names[i]))
            {
                NetworkNamespace.Delete(names[i]);
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> for 0..n-1 in one lane per core, each lane taking every lanes-th item in order.</summary>
    private static Task InLanesAsync(int n, Func<int, Task> work)
    {
        var lanes = Math.Min(Environment.ProcessorCount, n);
        var tasks = new Task[lanes];
        for (var lane = 0; lane < lanes; lane++)
        {
            var first = lane;
            tasks[lane] = Task.Run(async () =>
            {
                for (var i = first; i < n; i += lanes)
                {
                    await work(i);
                }
            });
        }

        return Task.WhenAll(tasks);
    }

    private static bool IsBenchAddress(Address address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return address.Prefix.Family == AddressFamily.InterNetwork
            && address.Prefix.Address.TryWriteBytes(bytes, out _) && bytes[0] == 10 && bytes[1] == 200;
    }

    private static IPAddress AddressOf(int i, int host)
    {
        var b = 4 * i;
        return new IPAddress([10, 200, (byte)(b / 256), (byte)((b % 256) + host)]);
    }

    private static long PeakRssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
