using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Link ends reported by agents, and the read that joins both ends with their hosts' liveness.</summary>
public sealed class LinkEndTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task BothEndsUpMakeTheLinkUpAndAReportReplacesTheLast()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l1", LinkEnd.A, h[0], LinkEndState.Down, "creating"));
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l1", LinkEnd.B, h[1], LinkEndState.Up));
        var down = Assert.Single(await db.Store.ListLinkStatesAsync("aetlab", Timeout));
        Assert.Equal(LinkEndState.Down, down.State);
        Assert.Equal("end a: creating", down.Message);

        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l1", LinkEnd.A, h[0], LinkEndState.Up));
        var up = Assert.Single(await db.Store.ListLinkStatesAsync("aetlab", Timeout));
        Assert.Equal(LinkEndState.Up, up.State);
        Assert.Null(up.Message);
        Assert.Equal(["a aeth1 up ", "b aeth2 up "], (await db.QueryAsync("SELECT link_end, host_id, state, coalesce(message, '') FROM cluster_link_ends ORDER BY link_end")).Select(r => string.Join(' ', r)));
    }

    [Fact]
    public async Task AnErrorOrAMissingEndOrAnUnreachableHostIsNotUp()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l1", LinkEnd.A, h[0], LinkEndState.Up));
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l1", LinkEnd.B, h[1], LinkEndState.Error, "vxlan: File exists (EEXIST)"));
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l2", LinkEnd.A, h[0], LinkEndState.Up));
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l3", LinkEnd.A, h[0], LinkEndState.Up));
        await db.Store.ReportLinkEndAsync(new LinkEndReport("aetlab", "l3", LinkEnd.B, h[1], LinkEndState.Up));
        await db.QueryAsync("UPDATE cluster_hosts SET last_seen = '2026-03-04 05:06:07+00' WHERE id = 'aeth2'");

        var links = await db.Store.ListLinkStatesAsync("aetlab", Timeout);
        Assert.Equal(["l1", "l2", "l3"], links.Select(l => l.LinkId));
        Assert.Equal(LinkEndState.Error, links[0].State);
        Assert.Equal("end b: host aeth2 unreachable since 2026-03-04T05:06:07Z", links[0].Message);
        Assert.Equal((LinkEndState.Down, "end b: not reported"), (links[1].State, links[1].Message));
        Assert.Equal(LinkEndState.Error, links[2].State);
        Assert.Equal(LinkEndState.Up, links[2].B!.Reported);
        Assert.Equal("end b: host aeth2 unreachable since 2026-03-04T05:06:07Z", links[2].Message);

        // The host is back: its ends count again.
        await db.Store.HeartbeatAsync(h[1]);
        links = await db.Store.ListLinkStatesAsync("aetlab", Timeout);
        Assert.Equal("end b: vxlan: File exists (EEXIST)", links[0].Message);
        Assert.Equal(LinkEndState.Up, links[2].State);
    }

    [Fact]
    public async Task BadReportsNameTheFieldAndWriteNothing()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1");
        foreach (var (report, message) in new[]
        {
            (new LinkEndReport("aetlab", "l1", LinkEnd.A, HostId.Parse("aetghost"), LinkEndState.Up), "host id 'aetghost': not registered"),
            (new LinkEndReport("aetlab", "", LinkEnd.A, h[0], LinkEndState.Up), "link id '': empty"),
            (new LinkEndReport("aet lab", "l1", LinkEnd.A, h[0], LinkEndState.Up), "lab 'aet lab'"),
            (new LinkEndReport("aetlab", "l1", (LinkEnd)7, h[0], LinkEndState.Up), "link end 7"),
            (new LinkEndReport("aetlab", "l1", LinkEnd.B, h[0], (LinkEndState)9), "link end B / state 9"),
            (new LinkEndReport("aetlab", "l1", LinkEnd.B, default, LinkEndState.Up), "host id: empty"),
        })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.ReportLinkEndAsync(report));
            Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_link_ends"));
    }
}
