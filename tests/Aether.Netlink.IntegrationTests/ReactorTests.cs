using System.Threading.Channels;
using Aether.Netlink.IntegrationTests.Infrastructure;
using static Aether.Netlink.IntegrationTests.Infrastructure.EventChannels;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>The epoll reactor that reads every monitor socket: many monitors on one thread, unregistering under load,
/// descriptor reuse, and monitors in a namespace that goes away.</summary>
public sealed class ReactorTests : NamespaceTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Many_monitors_on_the_shared_reactor_each_get_their_listing_and_events_with_no_thread_each()
    {
        using var cts = new CancellationTokenSource(Patience);
        var streams = Enumerable.Range(0, 64)
            .Select(_ => Pump(Handle.MonitorAsync(MonitorGroups.Links, new MonitorOptions { ListExisting = true }, cts.Token)))
            .ToList();
        foreach (var events in streams)
        {
            var listed = await TakeUntilAsync(events, e => e is ListingComplete, cts.Token);
            Assert.Contains(listed.OfType<LinkEvent>(), e => e.Link.Name == A);
        }

        // 64 monitors, one reactor thread; no reader thread per monitor (the old design named them so).
        var names = ThreadNames();
        Assert.Equal(1, names.Count(n => n == "aether-reactor"));
        Assert.DoesNotContain(names, n => n.StartsWith("aether-netlink-", StringComparison.Ordinal) || n.StartsWith("aether-multicas", StringComparison.Ordinal));

        var bridge = Box.Name("br");
        await Ip.RunAsync("-n", Ns, "link", "add", bridge, "type", "bridge");
        foreach (var events in streams)
        {
            await FirstAsync(events, e => e is LinkEvent { Deleted: false } l && l.Link.Name == bridge, cts.Token);
        }

        await cts.CancelAsync();
    }

    [Fact]
    public async Task Unregistering_under_load_dispatches_nothing_after_it_returns()
    {
        using var reactor = new NetlinkReactor();
        using var load = new CancellationTokenSource();
        var churn = Task.Run(() => ChurnAsync(load.Token)); // the handle's calls may complete synchronously
        try
        {
            for (var round = 0; round < 20; round++)
            {
                using var socket = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null });
                socket.JoinGroup(RtnlGroup.Link);
                var client = new Counter();
                var registration = reactor.Register(socket, client);
                await client.First.Task.WaitAsync(Patience);
                registration.Dispose();
                client.Stopped = true;
                await Task.Delay(20); // the churn goes on: the socket keeps receiving, nobody may dispatch it
                Assert.Equal(0, Volatile.Read(ref client.AfterStop));
                Assert.Null(client.Failure);
            }

            Assert.Equal(0, reactor.Count);
        }
        finally
        {
            await load.CancelAsync();
            await churn;
        }
    }

    [Fact]
    public async Task A_descriptor_closed_and_reused_goes_to_the_new_registration_only()
    {
        using var reactor = new NetlinkReactor();
        var first = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null });
        first.JoinGroup(RtnlGroup.Link);
        var old = new Counter();
        var registration = reactor.Register(first, old);
        var fd = first.Fd;

        // Events queued on the first socket, then it goes: unregistered, closed, its number free for the next.
        await Ip.RunAsync("-n", Ns, "link", "add", Box.Name("q"), "type", "bridge");
        await old.First.Task.WaitAsync(Patience);
        registration.Dispose();
        old.Stopped = true;
        first.Dispose();

        using var second = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null });
        second.JoinGroup(RtnlGroup.Link);
        var fresh = new Counter();
        using var again = reactor.Register(second, fresh);
        await Ip.RunAsync("-n", Ns, "link", "add", Box.Name("r"), "type", "bridge");
        await fresh.First.Task.WaitAsync(Patience);

        Assert.Equal(0, Volatile.Read(ref old.AfterStop));
        Assert.Null(fresh.Failure);
        Assert.Equal(1, reactor.Count);
        if (second.Fd == fd)
        {
            // The number was reused (usual when nothing else opened one between): the new registration got the events.
            Assert.True(Volatile.Read(ref fresh.Datagrams) > 0);
        }
    }

    [Fact]
    public async Task Overrun_on_the_reactor_is_reported_and_reading_goes_on()
    {
        using var reactor = new NetlinkReactor();
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null, ReceiveBufferSize = 1024 });
        using var cts = new CancellationTokenSource(Patience);
        using var monitor = new NetlinkMonitor(socket, MonitorGroups.Links, new MonitorOptions(), reactor);

        // Block the reactor's thread inside a dispatch of another registration so the small queue overflows.
        using var blocker = NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null });
        blocker.JoinGroup(RtnlGroup.Link);
        var gate = new ManualResetEventSlim();
        var blocking = new Counter { OnEach = () => gate.Wait(Patience) };
        using (reactor.Register(blocker, blocking))
        {
            using (var batch = Handle.CreateBatch())
            {
                for (var i = 0; i < 200; i++)
                {
                    batch.CreateLink(new LinkSpec(Box.Name("o" + i), new Bridge()));
                }

                (await batch.ExecuteAsync()).ThrowIfFailed();
            }

            gate.Set();
            await FirstAsync(monitor.Events, e => e is OverrunEvent, cts.Token);
        }

        var late = Box.Name("late");
        await Ip.RunAsync("-n", Ns, "link", "add", late, "type", "bridge");
        await FirstAsync(monitor.Events, e => e is LinkEvent l && l.Link.Name == late, cts.Token);
    }

    [Fact]
    public async Task A_monitor_in_a_deleted_namespace_ends_cleanly_and_frees_its_registration()
    {
        using var reactor = new NetlinkReactor();
        using var cts = new CancellationTokenSource(Patience);
        var gone = Box.CreateNamespace("g");
        var name = gone.Name!;
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, gone, NetlinkSocketOptions.Default with { ReplyTimeout = null });
        var monitor = new NetlinkMonitor(socket, MonitorGroups.Links | MonitorGroups.Addresses, new MonitorOptions { ListExisting = true }, reactor);
        await FirstAsync(monitor.Events, e => e is ListingComplete, cts.Token);
        using var other = new NetlinkMonitor(NetlinkSocket.Open(NetlinkProtocol.Route, Namespace, NetlinkSocketOptions.Default with { ReplyTimeout = null }), MonitorGroups.Links, new MonitorOptions(), reactor);
        Assert.Equal(2, reactor.Count);

        NetworkNamespace.Delete(name);
        gone.Dispose();
        Assert.False(NetworkNamespace.Exists(name));
        monitor.Dispose();

        // Its stream ends without an error; its registration is gone; the other monitor reads on.
        await monitor.Events.Completion.WaitAsync(cts.Token);
        Assert.Equal(1, reactor.Count);
        Assert.True(socket.IsClosed);
        var bridge = Box.Name("x");
        await Ip.RunAsync("-n", Ns, "link", "add", bridge, "type", "bridge");
        await FirstAsync(other.Events, e => e is LinkEvent l && l.Link.Name == bridge, cts.Token);
    }

    /// <summary>The names of the process's threads; one that ends between the listing and the read is skipped.</summary>
    private static List<string> ThreadNames()
    {
        var names = new List<string>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).Trim());
            }
            catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException)
            {
                // the thread ended meanwhile
            }
        }

        return names;
    }

    /// <summary>Creates and deletes a bridge in the test's namespace over and over until cancelled.</summary>
    private async Task ChurnAsync(CancellationToken token)
    {
        var name = Box.Name("c");
        while (!token.IsCancellationRequested)
        {
            await Handle.CreateLinkAsync(new LinkSpec(name, new Bridge()), CancellationToken.None);
            await Handle.DeleteLinkAsync(name, CancellationToken.None);
        }
    }

    private static async Task FirstAsync(ChannelReader<NetlinkEvent> events, Func<NetlinkEvent, bool> match, CancellationToken token)
    {
        while (!match(await events.ReadAsync(token)))
        {
        }
    }

    /// <summary>Counts what the reactor dispatches, and what it dispatches after <see cref="Stopped"/>.</summary>
    private sealed class Counter : IReactorClient
    {
        public int Datagrams;
        public int AfterStop;

        public volatile bool Stopped;

        public Exception? Failure { get; private set; }

        public Action? OnEach { get; init; }

        public TaskCompletionSource First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnDatagram(ReadOnlySpan<byte> datagram)
        {
            if (Stopped)
            {
                Interlocked.Increment(ref AfterStop);
            }

            Interlocked.Increment(ref Datagrams);
            First.TrySetResult();
            OnEach?.Invoke();
        }

        public void OnOverrun()
        {
        }

        public void OnFailure(Exception error) => Failure = error;
    }
}
