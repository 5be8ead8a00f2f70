using System.Globalization;
using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Wake-ups: NOTIFY in the changing transaction, heard by the listener, which survives losing its
/// connection.</summary>
public sealed class ListenerTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ChangesAreHeardWithTheirLabAndHostsAndRefusedChangesAreNot()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        await using var listener = new ClusterListener(db.Store.ConnectionString);
        await listener.StartAsync().WaitAsync(Wait);
        await using var hints = listener.ReadAllAsync().GetAsyncEnumerator();

        // Refused (unregistered host): rolled back, so nothing is sent.
        await Assert.ThrowsAsync<ArgumentException>(() => db.Store.SetPlacementsAsync("aetbad", new Dictionary<string, HostId> { ["r1"] = HostId.Parse("aetghost") }));
        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId> { ["r1"] = h[0], ["r2"] = h[1] });
        Assert.Equal("lab=aetlab host=aeth1", await NextAsync(hints));
        Assert.Equal("lab=aetlab host=aeth2", await NextAsync(hints));

        await db.Store.AttachAsync("aetlab", h[1], h[0], "l1");
        Assert.Equal("lab=aetlab host=aeth2", await NextAsync(hints));
        await db.Store.RegisterHostAsync(new HostRegistration(HostId.Parse("aeth3"), System.Net.IPAddress.Parse("192.0.2.3")));
        Assert.Equal("host=aeth3", await NextAsync(hints));
        Assert.Equal(1, listener.Connects);
    }

    [Fact]
    public async Task AfterItsBackendIsTerminatedItReconnectsAndHearsTheNextChange()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1");
        await using var listener = new ClusterListener(db.Store.ConnectionString);
        await listener.StartAsync().WaitAsync(Wait);
        await using var hints = listener.ReadAllAsync().GetAsyncEnumerator();
        var pid = listener.BackendPid;
        Assert.NotEqual(0, pid);

        Assert.Equal("t", await db.ScalarAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT pg_terminate_backend({pid})")));
        var reconnected = await NextHintAsync(hints);
        Assert.True(reconnected.Reconnected);
        Assert.Equal(2, listener.Connects);
        Assert.NotEqual(pid, listener.BackendPid);
        Assert.NotNull(listener.LastError);
        Assert.Equal("1", await db.ScalarAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT count(*) FROM pg_stat_activity WHERE pid = {listener.BackendPid} AND query ILIKE 'LISTEN%'")));

        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId> { ["r1"] = h[0] });
        Assert.Equal("lab=aetlab host=aeth1", await NextAsync(hints));
    }

    [Fact]
    public void PayloadsRoundTripAndUnknownPartsAreIgnored()
    {
        Assert.Equal("lab=aetlab host=aeth1", new ClusterHint("aetlab", HostId.Parse("aeth1")).Payload);
        Assert.Equal("lab=aetlab", new ClusterHint("aetlab", null).Payload);
        Assert.Equal(new ClusterHint("aetlab", HostId.Parse("aeth1")), ClusterHint.Parse("lab=aetlab host=aeth1 future=1"));
        Assert.Equal(new ClusterHint(null, null), ClusterHint.Parse("host=BAD"));
        Assert.Equal("probe lab=aetlab host=aeth1", new ClusterHint("aetlab", HostId.Parse("aeth1"), Probe: true).Payload);
        Assert.Equal(new ClusterHint("aetlab", HostId.Parse("aeth1"), Probe: true), ClusterHint.Parse("probe lab=aetlab host=aeth1"));
        Assert.False(ClusterHint.Parse("lab=aetlab probes=1").Probe);
    }

    private static async Task<string> NextAsync(IAsyncEnumerator<ClusterHint> hints) => (await NextHintAsync(hints)).Payload;

    private static async Task<ClusterHint> NextHintAsync(IAsyncEnumerator<ClusterHint> hints)
    {
        Assert.True(await hints.MoveNextAsync().AsTask().WaitAsync(Wait));
        return hints.Current;
    }
}
