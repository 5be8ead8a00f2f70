using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>
/// The namespace invariant under load: thousands of concurrent operations on handles bound to 50 namespaces, issued
/// from thread-pool threads, never leave a pool thread in another namespace, and every object lands where asked.
/// </summary>
/// <summary>Runs alone: it occupies every thread-pool thread to probe it, which would starve tests running beside it.</summary>
[CollectionDefinition(nameof(ThreadSafetyTests), DisableParallelization = true)]
public sealed class ThreadSafetyCollection
{
}

[Collection(nameof(ThreadSafetyTests))]
public sealed class ThreadSafetyTests : SandboxTest
{
    private const int NamespaceCount = 50;
    private const int BridgesPerNamespace = 12;

    [Fact]
    public async Task Concurrent_operations_across_50_namespaces_keep_pool_threads_home_and_objects_in_place()
    {
        var home = ReadNsLink("/proc/self/ns/net");
        var samples = new ConcurrentBag<(int Thread, string Ns, string Where)>();
        void Sample(string where) => samples.Add((Environment.CurrentManagedThreadId, ReadNsLink("/proc/thread-self/ns/net"), where));

        // Namespaces and handles are created concurrently from pool threads too.
        var scopes = await Task.WhenAll(Enumerable.Range(0, NamespaceCount).Select(i => Task.Run(() =>
        {
            Sample("before create namespace");
            var ns = Box.CreateNamespace($"n{i}");
            Sample("after create namespace");
            var handle = Box.OpenAt(ns);
            Sample("after open handle");
            return (Ns: ns, Handle: handle);
        })));

        string BridgeName(int i, int j) => Box.Name($"n{i}b{j}");

        var operations = 0;
        var work = new List<Task>();
        for (var i = 0; i < NamespaceCount; i++)
        {
            for (var j = 0; j < BridgesPerNamespace; j++)
            {
                var (ni, nj) = (i, j);
                work.Add(Task.Run(async () =>
                {
                    var handle = scopes[ni].Handle;
                    var name = BridgeName(ni, nj);
                    Sample("start");
                    await handle.CreateLinkAsync(new LinkSpec(name, new Bridge()));
                    Sample("after create");
                    var link = await handle.GetLinkAsync(name);
                    Sample("after get");
                    await handle.AddAddressAsync(new AddressSpec(link.Index, new IPPrefix(IPAddress.Parse($"10.{ni}.{nj}.1"), 24)));
                    Sample("after add address");
                    var here = await handle.ListLinksAsync();
                    Sample("after list");
                    Assert.Contains(here, l => l.Name == name && l.Index == link.Index);
                    Assert.All(here, l => Assert.True(l.Name == "lo" || l.Name.StartsWith(Box.Name($"n{ni}b"), StringComparison.Ordinal), $"{l.Name} seen in namespace {ni}"));

                    // The neighbouring namespace's handle, used concurrently by other tasks, sees only its own bridges.
                    var other = (ni + 1) % NamespaceCount;
                    var there = await scopes[other].Handle.ListLinksAsync();
                    Sample("after list other");
                    Assert.All(there, l => Assert.True(l.Name == "lo" || l.Name.StartsWith(Box.Name($"n{other}b"), StringComparison.Ordinal), $"{l.Name} seen in namespace {other}"));

                    var addresses = await handle.ListAddressesAsync(AddressFamily.InterNetwork, link.Index);
                    Sample("after list addresses");
                    Assert.Equal([$"10.{ni}.{nj}.1/24"], addresses.Select(a => a.Prefix.ToString()));
                    Interlocked.Add(ref operations, 6);
                }));
            }
        }

        await Task.WhenAll(work);
        Assert.Equal(NamespaceCount * BridgesPerNamespace * 6, operations);

        // Every pool thread now: park as many work items as there are pool threads (at least 2 per CPU), each on its
        // own thread, so each reports and none can take a second item.
        var probe = await ProbeAllPoolThreadsAsync();

        // Every sampled thread, during the run, was at home; and so is every pool thread after it.
        Assert.NotEmpty(samples);
        var strays = samples.Where(s => s.Ns != home).ToList();
        var probeStrays = probe.Where(p => p.Value != home).ToList();
        Assert.True(
            strays.Count == 0 && probeStrays.Count == 0,
            $"{strays.Count} samples during the run and {probeStrays.Count} of {probe.Count} pool threads after it are off home ({home}): "
            + string.Join("; ", strays.Take(3)) + " | " + string.Join("; ", probeStrays.Take(3)));
        Assert.True(probe.Count >= Environment.ProcessorCount * 2, $"only {probe.Count} pool threads reported");

        // The oracle: each namespace holds exactly its bridges and their addresses; the host holds none of them.
        await Parallel.ForEachAsync(Enumerable.Range(0, NamespaceCount), async (i, _) =>
        {
            var ns = scopes[i].Ns.Name!;
            var links = await Ip.LinksAsync(ns);
            var expected = Enumerable.Range(0, BridgesPerNamespace).Select(j => BridgeName(i, j)).Append("lo").Order(StringComparer.Ordinal);
            Assert.Equal(expected, links.Select(l => l.GetProperty("ifname").GetString()!).Order(StringComparer.Ordinal));
            Assert.All(links.Where(l => Ip.Str(l, "ifname") != "lo"), l => Assert.Equal("bridge", Ip.InfoKind(l)));

            var addresses = await Ip.JsonAsync(ns, "-4", "addr", "show");
            for (var j = 0; j < BridgesPerNamespace; j++)
            {
                var entry = Assert.Single(addresses, a => Ip.Str(a, "ifname") == BridgeName(i, j));
                var info = Assert.Single(entry.GetProperty("addr_info").EnumerateArray());
                Assert.Equal($"10.{i}.{j}.1", Ip.Str(info, "local"));
                Assert.Equal(24, Ip.Int(info, "prefixlen"));
            }
        });

        var host = await Ip.LinkNamesAsync(null);
        Assert.DoesNotContain(host, n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        Assert.Equal(home, ReadNsLink("/proc/self/ns/net"));
    }

    private static string ReadNsLink(string path) =>
        new FileInfo(path).LinkTarget ?? throw new InvalidOperationException($"{path} is not a link");

    private static async Task<Dictionary<int, string>> ProbeAllPoolThreadsAsync()
    {
        var count = Math.Max(Environment.ProcessorCount * 2, ThreadPool.ThreadCount);
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, count + 4), minIo);
        try
        {
            using var allReported = new CountdownEvent(count);
            var seen = new ConcurrentDictionary<int, string>();
            var done = new TaskCompletionSource[count];
            for (var k = 0; k < count; k++)
            {
                var tcs = done[k] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                ThreadPool.UnsafeQueueUserWorkItem(
                    _ =>
                    {
                        try
                        {
                            Assert.True(Thread.CurrentThread.IsThreadPoolThread);
                            Assert.True(seen.TryAdd(Environment.CurrentManagedThreadId, ReadNsLink("/proc/thread-self/ns/net")), "a pool thread ran two probe items");
                            allReported.Signal();
                            Assert.True(allReported.Wait(TimeSpan.FromSeconds(30)), "not every probe item got its own pool thread");
                            tcs.SetResult();
                        }
                        catch (Exception ex)
                        {
                            tcs.SetException(ex);
                        }
                    },
                    null);
            }

            await Task.WhenAll(done.Select(d => d.Task));
            Assert.Equal(count, seen.Count);
            return new Dictionary<int, string>(seen);
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
    }
}
