using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A namespace's /run/netns entry is looked up once per pass, and always outside one; two readers of one
/// namespace's links in a pass share one dump.</summary>
public sealed class PassCacheNamespaceTests : SandboxTest
{
    [Fact]
    public async Task Within_a_pass_a_namespace_found_once_is_not_looked_up_again_and_outside_one_it_always_is()
    {
        var name = await Box.CreateNamespaceWithIpAsync("a");
        var other = Box.Name("none");
        Assert.True(PassCache.NamespaceExists(name));
        Assert.False(PassCache.NamespaceExists(other));

        using (PassCache.Begin())
        {
            Assert.True(PassCache.NamespaceExists(name));
            Assert.False(PassCache.NamespaceExists(other)); // absence is not remembered: looked up each time
            await Ip.RunAsync("netns", "del", name);
            Assert.True(PassCache.NamespaceExists(name)); // the pass saw it: the next pass sees it gone
        }

        Assert.False(PassCache.NamespaceExists(name));
        using (PassCache.Begin())
        {
            Assert.False(PassCache.NamespaceExists(name));
        }

        // A source's next pass stops on it (its own pass, outside any other).
        using var ns = Box.CreateNamespace("b");
        var h = Box.OpenAt(ns);
        var source = Box.Own(new LinkSource(h, Box.Token, []));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await Ip.RunAsync("netns", "del", ns.Name!);
        await Assert.ThrowsAsync<NamespaceGoneException>(() => source.ObserveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Passes_begun_while_presence_is_kept_look_a_namespace_up_once_and_later_ones_again()
    {
        var name = await Box.CreateNamespaceWithIpAsync("k");
        var other = Box.Name("none");
        using (PassCache.KeepPresence())
        {
            using (PassCache.Begin())
            {
                Assert.True(PassCache.NamespaceExists(name));
            }

            await Ip.RunAsync("netns", "del", name);
            using (PassCache.Begin())
            {
                Assert.True(PassCache.NamespaceExists(name)); // found by the pass before, in the same keeping
                Assert.False(PassCache.NamespaceExists(other)); // absence is still looked up each time
            }
        }

        using (PassCache.Begin())
        {
            Assert.False(PassCache.NamespaceExists(name)); // a pass after the keeping looks again
        }
    }

    [Fact]
    public async Task A_namespace_noted_present_is_not_looked_up_by_the_pass_or_the_kept_passes_and_outside_them_noting_does_nothing()
    {
        var name = await Box.CreateNamespaceWithIpAsync("n");
        var kept = await Box.CreateNamespaceWithIpAsync("m");
        PassCache.NotePresent(name); // outside any pass or keeping: forgotten at once
        await Ip.RunAsync("netns", "del", name);
        Assert.False(PassCache.NamespaceExists(name));

        name = await Box.CreateNamespaceWithIpAsync("o");
        using (PassCache.Begin())
        {
            PassCache.NotePresent(name); // as a plan's session says of what it opened by name
            await Ip.RunAsync("netns", "del", name);
            Assert.True(PassCache.NamespaceExists(name)); // noted: not looked up in this pass
        }

        Assert.False(PassCache.NamespaceExists(name));

        // An apply: noted within an outer keeping, before the stages' own keeping and passes.
        using (PassCache.KeepPresence())
        {
            PassCache.NotePresent(kept);
            await Ip.RunAsync("netns", "del", kept);
            using (PassCache.KeepPresence())
            using (PassCache.Begin())
            {
                Assert.True(PassCache.NamespaceExists(kept)); // the inner keeping keeps the outer's findings
            }
        }

        using (PassCache.Begin())
        {
            Assert.False(PassCache.NamespaceExists(kept));
        }
    }

    [Fact]
    public async Task Two_readers_of_one_namespaces_links_in_a_pass_share_one_dump_and_a_failed_one_is_tried_again()
    {
        using var ns = Box.CreateNamespace("c");
        var handle = Box.OpenAt(ns);
        var reads = 0;
        var gate = new TaskCompletionSource<IReadOnlyList<Aether.Netlink.Rtnl.Link>>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (PassCache.Begin())
        {
            Assert.True(PassCache.Provide(handle, _ =>
            {
                Interlocked.Increment(ref reads);
                return gate.Task; // the first read is still under way when the second reader asks
            }));
            var first = PassCache.ListLinksAsync(handle, CancellationToken.None);
            var second = PassCache.ListLinksAsync(handle, CancellationToken.None);
            gate.SetResult(await handle.ListLinksAsync());
            Assert.Same(await first, await second);
            Assert.Equal(1, reads);

            PassCache.Invalidate();
            gate = new TaskCompletionSource<IReadOnlyList<Aether.Netlink.Rtnl.Link>>(TaskCreationOptions.RunContinuationsAsynchronously);
            var failing = PassCache.ListLinksAsync(handle, CancellationToken.None);
            gate.SetException(new InvalidOperationException("read failed"));
            await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
            gate = new TaskCompletionSource<IReadOnlyList<Aether.Netlink.Rtnl.Link>>(TaskCreationOptions.RunContinuationsAsynchronously);
            var again = PassCache.ListLinksAsync(handle, CancellationToken.None);
            gate.SetResult([]);
            Assert.Empty(await again);
            Assert.Equal(3, reads);
        }
    }
}
