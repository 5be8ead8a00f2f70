using System.Threading.Channels;
using Aether.Netlink.IntegrationTests.Infrastructure;
using static Aether.Netlink.IntegrationTests.Infrastructure.EventChannels;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class MonitorTests : NamespaceTest
{
    // Generous: a namespace created here can wait seconds on the kernel while parallel tests tear hundreds down.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Lists_existing_then_sees_links_addresses_and_routes_changed_by_ip()
    {
        using var cts = new CancellationTokenSource(Patience * 2);
        var events = Pump(Handle.MonitorAsync(MonitorGroups.All, new MonitorOptions { ListExisting = true }, cts.Token));

        // The listing: the veth pair made in set-up, then the marker.
        var listed = await TakeUntilAsync(events, e => e is ListingComplete, cts.Token);
        var listedLinks = listed.OfType<LinkEvent>().Select(e => e.Link.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(A, listedLinks);
        Assert.Contains(B, listedLinks);
        Assert.Contains("lo", listedLinks);

        // Changes made by another program arrive as typed events.
        var bridge = Box.Name("br");
        await Ip.RunAsync("-n", Ns, "link", "add", bridge, "type", "bridge");
        var added = await FirstAsync<LinkEvent>(events, e => e.Link.Name == bridge && !e.Deleted, cts.Token);
        Assert.Equal("bridge", added.Link.Kind);

        await Ip.RunAsync("-n", Ns, "addr", "add", "10.77.0.1/24", "dev", A);
        var address = await FirstAsync<AddressEvent>(events, e => e.Address.Prefix.ToString() == "10.77.0.1/24", cts.Token);
        Assert.Equal(AIndex, address.Address.Index);
        Assert.False(address.Deleted);

        await Ip.RunAsync("-n", Ns, "route", "add", "10.78.0.0/16", "via", "10.77.0.2");
        var route = await FirstAsync<RouteEvent>(events, e => e.Route.Destination?.ToString() == "10.78.0.0/16", cts.Token);
        Assert.Equal("10.77.0.2", route.Route.Gateway?.ToString());

        await Ip.RunAsync("-n", Ns, "link", "del", bridge);
        var deleted = await FirstAsync<LinkEvent>(events, e => e.Link.Name == bridge && e.Deleted, cts.Token);
        Assert.True(deleted.Deleted);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Overrun_is_an_event_and_the_stream_goes_on()
    {
        using var cts = new CancellationTokenSource(Patience * 2);

        // A tiny receive buffer and a burst of changes: the kernel drops announcements (ENOBUFS).
        var events = Pump(Handle.MonitorAsync(MonitorGroups.Links, new MonitorOptions { ListExisting = true, ReceiveBufferSize = 1024 }, cts.Token));
        await TakeUntilAsync(events, e => e is ListingComplete, cts.Token);

        using (var batch = Handle.CreateBatch())
        {
            for (var i = 0; i < 200; i++)
            {
                batch.CreateLink(new LinkSpec(Box.Name("o" + i), new Bridge()));
            }

            (await batch.ExecuteAsync()).ThrowIfFailed();
        }

        await FirstAsync<OverrunEvent>(events, _ => true, cts.Token);

        // Still alive after the overrun: a later change is seen.
        var late = Box.Name("late");
        await Ip.RunAsync("-n", Ns, "link", "add", late, "type", "bridge");
        await FirstAsync<LinkEvent>(events, e => e.Link.Name == late, cts.Token);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Namespace_id_events_are_seen()
    {
        using var other = Box.CreateNamespace("o");
        using var cts = new CancellationTokenSource(Patience);
        var events = Pump(Handle.MonitorAsync(MonitorGroups.NsIds, new MonitorOptions { ListExisting = true }, cts.Token));
        await TakeUntilAsync(events, e => e is ListingComplete, cts.Token);

        await Handle.SetNsIdAsync(other, 23);
        var e = await FirstAsync<NsIdEvent>(events, x => !x.Deleted, cts.Token);
        Assert.Equal(23, e.NsId);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Monitor_is_bound_to_its_namespace()
    {
        // Changes in another namespace are never reported.
        using var other = Box.CreateNamespace("x");
        using var cts = new CancellationTokenSource(Patience);
        var events = Pump(Handle.MonitorAsync(MonitorGroups.Links, new MonitorOptions { ListExisting = true }, cts.Token));
        await TakeUntilAsync(events, e => e is ListingComplete, cts.Token);

        var elsewhere = Box.Name("ew");
        var here = Box.Name("hr");
        await Ip.RunAsync("-n", other.Name!, "link", "add", elsewhere, "type", "bridge");
        await Ip.RunAsync("-n", Ns, "link", "add", here, "type", "bridge");
        var seen = await TakeUntilAsync(events, e => e is LinkEvent l && l.Link.Name == here, cts.Token);
        Assert.DoesNotContain(seen.OfType<LinkEvent>(), e => e.Link.Name == elsewhere);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Bad_groups_are_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in Handle.MonitorAsync(MonitorGroups.None))
            {
                _ = unused;
            }
        });
    }

    private static async Task<T> FirstAsync<T>(ChannelReader<NetlinkEvent> events, Func<T, bool> match, CancellationToken token)
        where T : NetlinkEvent
    {
        while (true)
        {
            if (await events.ReadAsync(token) is T e && match(e))
            {
                return e;
            }
        }
    }
}
