using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>The watcher wired to reconcile: <c>ip netns add</c> starts a loop that makes the namespace's bridge at once,
/// <c>ip netns del</c> stops it, and a re-created namespace gets a new loop that makes the bridge again.</summary>
[Collection(nameof(LinkSourceTests))]
public sealed class NamespaceLoopsTests : SandboxTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_namespace_made_with_ip_gets_a_loop_until_it_is_deleted()
    {
        var bridge = Box.Name("br");
        var loops = new NamespaceLoops(ns =>
        {
            if (ns.Name?.StartsWith(Box.Token, StringComparison.Ordinal) != true)
            {
                return null; // other tests' namespaces and the machine's are none of ours
            }

            var netns = NetworkNamespace.Open(ns.Name);
            var handle = NetlinkHandle.OpenAt(netns);
            var source = new LinkSource(handle, Box.Token, [new DesiredLink(bridge, new Bridge())]);
            return new NamespaceSource(source, new All(source, handle, netns));
        });
        using var watcher = NamespaceWatcher.ListAndWatch();
        using var stop = new CancellationTokenSource();
        var run = loops.RunAsync(watcher, stop.Token);
        try
        {
            var name = await Box.CreateNamespaceWithIpAsync("a");
            var started = await NextAsync(loops);
            Assert.True(started.Started);
            Assert.Equal(name, started.Namespace.Name);
            await UntilAsync(async () => await Ip.LinkAsync(name, bridge) is not null, "the loop to make the bridge");

            await Ip.RunAsync("netns", "del", name);
            var stopped = await NextAsync(loops);
            Assert.False(stopped.Started);
            Assert.Equal(started.Namespace.Inode, stopped.Namespace.Inode);
            Assert.Empty(loops.Running);

            await Ip.RunAsync("netns", "add", name);
            var again = await NextAsync(loops);
            Assert.True(again.Started);
            Assert.Equal(name, again.Namespace.Name);
            await UntilAsync(async () => await Ip.LinkAsync(name, bridge) is not null, "the new loop to make the bridge");
            Assert.Equal([name], loops.Running.Select(n => n.Name));
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(Patience);
        }
    }

    private static async Task<NamespaceLoopChange> NextAsync(NamespaceLoops loops) =>
        await loops.Changes.ReadAsync().AsTask().WaitAsync(Patience);

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException("timed out waiting for " + what);
            }

            await Task.Delay(20);
        }
    }

    private sealed class All(params IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var o in owned)
            {
                o.Dispose();
            }
        }
    }
}
