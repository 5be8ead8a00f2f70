using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>The frame probe rows' states through the store alone (no agent): each step happens once, hints go to the
/// host that must act next, and an ended probe keeps its first end. Oracles: psql and a listener.</summary>
public sealed class ProbeTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Each_step_is_taken_once_hints_the_next_host_and_the_first_end_wins()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        await using var listener = new ClusterListener(db.Store.ConnectionString);
        await listener.StartAsync().WaitAsync(Wait);
        await using var hints = listener.ReadAllAsync().GetAsyncEnumerator();
        var request = new FrameProbeRequest("aetlab", "r1:eth1-r2:eth1", h[0], "aetlab-r1", "eth1", h[1], "aetlab-r2", "eth1");
        var ids = await db.Store.RequestProbesAsync([request, request with { LinkId = "r1:eth2-r2:eth2" }], TimeSpan.FromMilliseconds(1500));
        Assert.Equal(2, ids.Count);
        Assert.Equal("probe lab=aetlab host=aeth2", await NextAsync(hints)); // one hint per receiver host, not per row
        Assert.Equal("requested|1500|16", await db.ScalarAsync($"SELECT string_agg(DISTINCT state || '|' || timeout_ms || '|' || length(nonce), ',') FROM cluster_probes"));
        Assert.Equal("2", await db.ScalarAsync("SELECT count(DISTINCT nonce) FROM cluster_probes"));

        // The receiver: both to listen for; the first marked listening hints the sender; marking twice does nothing.
        var toListen = await db.Store.ListProbesToListenAsync(h[1]);
        Assert.Equal(ids, toListen.Select(p => p.Id));
        Assert.Empty(await db.Store.ListProbesToListenAsync(h[0]));
        Assert.True(await db.Store.MarkProbeListeningAsync(ids[0]));
        Assert.False(await db.Store.MarkProbeListeningAsync(ids[0]));
        Assert.Equal("probe lab=aetlab host=aeth1", await NextAsync(hints));

        // Two senders race for it (two stores, as two processes): one takes it.
        await using var other = db.OpenAnother();
        var taken = await Task.WhenAll(db.Store.TakeProbesToSendAsync(h[0]), other.TakeProbesToSendAsync(h[0]));
        Assert.Equal(1, taken.Sum(t => t.Count));
        var probe = taken.SelectMany(t => t).Single();
        Assert.Equal((ids[0], FrameProbeState.Sent, true, false), (probe.Id, probe.State, probe.Sent, probe.Received));
        Assert.Empty(await db.Store.TakeProbesToSendAsync(h[0]));

        // Received, then crossed; a late failure does not overwrite it.
        await db.Store.MarkProbeReceivedAsync(ids[0]);
        Assert.True(await db.Store.EndProbeAsync(ids[0], TimeSpan.FromMilliseconds(0.25), null));
        Assert.False(await db.Store.EndProbeAsync(ids[0], null, "too late"));
        var ended = (await db.Store.ListProbesAsync(ids)).ToDictionary(p => p.Id);
        Assert.Equal((FrameProbeState.Crossed, null, 0.25, true), (ended[ids[0]].State, ended[ids[0]].Problem, ended[ids[0]].Latency!.Value.TotalMilliseconds, ended[ids[0]].Received));

        // The other row failed while still requested (its receiver could not listen): never listened, never sent.
        Assert.True(await db.Store.EndProbeAsync(ids[1], TimeSpan.FromSeconds(1), "eth2 is down"));
        Assert.Equal("failed|eth2 is down||false", await db.ScalarAsync($"SELECT state || '|' || problem || '|' || coalesce(latency_ms::text, '') || '|' || (sent_at IS NOT NULL) FROM cluster_probes WHERE id = {ids[1]}"));
        Assert.False(await db.Store.MarkProbeListeningAsync(ids[1]));

        Assert.Equal(2, await db.Store.RemoveProbesAsync(ids));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_probes"));

        // A row an asker left behind 11 minutes ago goes with the next request; a fresh one stays.
        var left = await db.Store.RequestProbesAsync([request], TimeSpan.FromSeconds(1));
        await db.QueryAsync($"UPDATE cluster_probes SET requested_at = now() - interval '11 minutes' WHERE id = {left[0]}");
        var fresh = await db.Store.RequestProbesAsync([request], TimeSpan.FromSeconds(1));
        Assert.Equal(fresh[0].ToString(System.Globalization.CultureInfo.InvariantCulture), await db.ScalarAsync("SELECT string_agg(id::text, ',') FROM cluster_probes"));
    }

    private static async Task<string> NextAsync(IAsyncEnumerator<ClusterHint> hints)
    {
        Assert.True(await hints.MoveNextAsync().AsTask().WaitAsync(Wait));
        return hints.Current.Payload;
    }
}
