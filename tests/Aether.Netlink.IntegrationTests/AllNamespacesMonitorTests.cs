using Aether.Netlink.IntegrationTests.Infrastructure;
using static Aether.Netlink.IntegrationTests.Infrastructure.EventChannels;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>One <c>NETLINK_LISTEN_ALL_NSID</c> socket in the process's namespace, each namespace's announcements to its
/// own subscriber by nsid.</summary>
public sealed class AllNamespacesMonitorTests : SandboxTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_subscriber_hears_its_own_namespace_and_no_other()
    {
        var first = Box.CreateNamespace("m1");
        var second = Box.CreateNamespace("m2");
        var unheard = Box.CreateNamespace("m3");
        using var host = NetlinkHandle.Open();
        foreach (var ns in new[] { first, second, unheard })
        {
            await host.AssignNsIdAsync(ns);
        }

        var ids = await host.GetNsIdsAsync([first, second, unheard]);
        Assert.All(ids, id => Assert.True(id >= 0));

        using var cts = new CancellationTokenSource(Patience);
        using var monitor = new AllNamespacesMonitor(MonitorGroups.Links | MonitorGroups.Addresses);
        var heardFirst = Pump(monitor.SubscribeAsync(ids[0], cts.Token));
        var heardSecond = Pump(monitor.SubscribeAsync(ids[1], cts.Token));
        await Task.Delay(100); // both subscribed before anything is made

        var inFirst = Box.Name("b1");
        var inSecond = Box.Name("b2");
        var inUnheard = Box.Name("b3");
        await Ip.RunAsync("-n", unheard.Name!, "link", "add", inUnheard, "type", "bridge");
        await Ip.RunAsync("-n", first.Name!, "link", "add", inFirst, "type", "bridge");
        await Ip.RunAsync("-n", second.Name!, "link", "add", inSecond, "type", "bridge");
        await Ip.RunAsync("-n", first.Name!, "addr", "add", "10.99.0.1/24", "dev", inFirst);

        var firstEvents = await TakeUntilAsync(heardFirst, e => e is AddressEvent, cts.Token);
        Assert.Contains(firstEvents.OfType<LinkEvent>(), e => e.Link.Name == inFirst && !e.Deleted);
        Assert.DoesNotContain(firstEvents.OfType<LinkEvent>(), e => e.Link.Name != inFirst);

        var secondEvents = await TakeUntilAsync(heardSecond, e => e is LinkEvent l && l.Link.Name == inSecond, cts.Token);
        Assert.DoesNotContain(secondEvents.OfType<LinkEvent>(), e => e.Link.Name == inFirst || e.Link.Name == inUnheard);

        // Nothing of the third namespace reached either subscriber.
        await Ip.RunAsync("-n", second.Name!, "link", "del", inSecond);
        var rest = await TakeUntilAsync(heardSecond, e => e is LinkEvent { Deleted: true } l && l.Link.Name == inSecond, cts.Token);
        Assert.DoesNotContain(rest.OfType<LinkEvent>(), e => e.Link.Name == inUnheard);
        while (heardFirst.TryRead(out var late))
        {
            Assert.False(late is LinkEvent l && l.Link.Name == inUnheard);
        }

        await cts.CancelAsync();
    }

    [Fact]
    public async Task A_second_subscriber_to_one_nsid_is_refused()
    {
        var ns = Box.CreateNamespace("m4");
        using var host = NetlinkHandle.Open();
        await host.AssignNsIdAsync(ns);
        var id = await host.GetNsIdAsync(ns);
        using var cts = new CancellationTokenSource(Patience);
        using var monitor = new AllNamespacesMonitor(MonitorGroups.Links);
        await using var one = monitor.SubscribeAsync(id, cts.Token).GetAsyncEnumerator(cts.Token);
        var pending = one.MoveNextAsync(); // subscribed: waiting for the first announcement
        await using var two = monitor.SubscribeAsync(id, cts.Token).GetAsyncEnumerator(cts.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await two.MoveNextAsync());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
    }
}
