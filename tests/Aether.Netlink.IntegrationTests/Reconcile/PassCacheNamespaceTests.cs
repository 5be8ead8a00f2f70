using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A namespace's /run/netns entry is looked up once per pass, and always outside one.</summary>
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
}
