using System.Text;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Cluster.Tests;

/// <summary>VTEPs counted by their links: made with the first, deleted with the last, under concurrency too.</summary>
public sealed class VtepTests(PostgresServer fixture, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    /// <summary>VTEPs without links, and links without VTEPs: both must be none, always.</summary>
    private const string Orphans = """
        SELECT (SELECT count(*) FROM cluster_vteps v WHERE NOT EXISTS (SELECT 1 FROM cluster_vtep_links l WHERE l.vtep_id = v.id))
            || ' ' || (SELECT count(*) FROM cluster_vtep_links l WHERE NOT EXISTS (SELECT 1 FROM cluster_vteps v WHERE v.id = l.vtep_id))
        """;

    [Fact]
    public async Task TheFirstLinkCreatesTheVtepAndTheLastDeletesIt()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");

        var first = await db.Store.AttachAsync("aetlab", h[0], h[1], "l1");
        Assert.Equal((VtepAction.CreatePort, 1, true), (first.Action, first.LinkCount, first.Changed));
        Assert.Equal("10.200.0.2", first.Vtep!.RemoteUnderlay.ToString());
        Assert.Equal("10.200.0.1", first.Vtep.LocalUnderlay.ToString());
        var second = await db.Store.AttachAsync("aetlab", h[0], h[1], "l2");
        Assert.Equal((VtepAction.None, 2, true), (second.Action, second.LinkCount, second.Changed));
        var again = await db.Store.AttachAsync("aetlab", h[0], h[1], "l2");
        Assert.Equal((VtepAction.None, 2, false), (again.Action, again.LinkCount, again.Changed));
        Assert.Equal(first.Vtep.Id, second.Vtep!.Id);

        // The other side's VTEP: its own row, the same tunnel VNI.
        var back = await db.Store.AttachAsync("aetlab", h[1], h[0], "l1");
        Assert.Equal(VtepAction.CreatePort, back.Action);
        Assert.Equal(first.Vtep.Vni, back.Vtep!.Vni);
        Assert.NotEqual(first.Vtep.Id, back.Vtep.Id);

        var tunnels = await db.Store.ListTunnelsAsync("aetlab");
        Assert.Equal(["aeth1→aeth2 2 l1,l2", "aeth2→aeth1 1 l1"], tunnels.Select(t => $"{t.Vtep.Host}→{t.Vtep.Remote} {t.LinkCount} {string.Join(',', t.Links)}"));
        Assert.Equal(["aeth1 aeth2 2", "aeth2 aeth1 1"], (await db.QueryAsync("""
            SELECT v.host_id, v.remote_host_id, count(l.link_id) FROM cluster_vteps v LEFT JOIN cluster_vtep_links l ON l.vtep_id = v.id
            GROUP BY v.id ORDER BY v.host_id
            """)).Select(r => string.Join(' ', r)));

        Assert.Equal((VtepAction.None, 1, true), Summary(await db.Store.DetachAsync("aetlab", h[0], h[1], "l1")));
        Assert.Equal((VtepAction.None, 1, false), Summary(await db.Store.DetachAsync("aetlab", h[0], h[1], "l1")));
        var last = await db.Store.DetachAsync("aetlab", h[0], h[1], "l2");
        Assert.Equal((VtepAction.DeletePort, 0, true), Summary(last));
        Assert.Equal(first.Vtep.PortName, last.Vtep!.PortName);
        Assert.Equal((VtepAction.None, 0, false), Summary(await db.Store.DetachAsync("aetlab", h[0], h[1], "l2")));
        Assert.Equal(["aeth2"], (await db.QueryAsync("SELECT host_id FROM cluster_vteps")).Select(r => r[0]));
        Assert.Equal(["aeth2"], (await db.Store.ListTunnelsOnHostAsync(h[1])).Select(t => t.Vtep.Host.Value));
        Assert.Empty(await db.Store.ListTunnelsOnHostAsync(h[0]));
    }

    [Fact]
    public void PortNamesFitIfnamsizAndDifferByLabAndRemote()
    {
        var shortId = HostId.Parse("h2");
        var longId = HostId.Parse("rack7-compute-node-0042");
        var longId2 = HostId.Parse("rack7-compute-node-0043");
        var names = new[] { VtepNames.PortName("aetlab", shortId), VtepNames.PortName("aetlab", longId), VtepNames.PortName("aetlab", longId2), VtepNames.PortName("aetlab2", longId) };
        Assert.All(names, n => Assert.InRange(Encoding.UTF8.GetByteCount(n), 4, 15));
        Assert.All(names, n => Assert.StartsWith("vx", n, StringComparison.Ordinal));
        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
        Assert.EndsWith("-h2", names[0], StringComparison.Ordinal);
        Assert.Equal(VtepNames.PortName("aetlab", shortId), names[0]);
    }

    [Fact]
    public async Task BadAttachesNameTheFieldAndWriteNothing()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        foreach (var (lab, host, remote, link, message) in new[]
        {
            ("aetlab", h[0], h[0], "l1", "remote host id 'aeth1': the same as the host id"),
            ("aetlab", h[0], HostId.Parse("aetghost"), "l1", "remote host id 'aetghost': not registered"),
            ("aetlab", HostId.Parse("aetghost"), h[1], "l1", "host id 'aetghost': not registered"),
            ("aetlab", h[0], default, "l1", "remote host id: empty"),
            ("aetlab", h[0], h[1], "", "link id '': empty"),
            ("aet/lab", h[0], h[1], "l1", "lab 'aet/lab'"),
        })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.AttachAsync(lab, host, remote, link));
            Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal("0 0 0", await db.ScalarAsync("SELECT (SELECT count(*) FROM cluster_vteps) || ' ' || (SELECT count(*) FROM cluster_vtep_links) || ' ' || (SELECT count(*) FROM cluster_vnis)"));
    }

    [Fact]
    public async Task ConcurrentAttachAndDetachNeverLeaveAVtepWithoutLinksOrALinkWithoutItsVtep()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        const int Links = 4;
        const int Rounds = 50;
        var creates = 0;
        var deletes = 0;
        using var done = new CancellationTokenSource();

        // psql watches meanwhile: every committed state it sees has no orphan.
        var watched = 0;
        var watcher = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                Assert.Equal("0 0", await db.ScalarAsync(Orphans));
                watched++;
            }
        });

        // Each task churns its own link on the one shared VTEP; even links end attached, odd ones detached.
        await Task.WhenAll(Enumerable.Range(0, Links).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                var attach = await db.Store.AttachAsync("aetlab", h[0], h[1], $"l{i}");
                Assert.True(attach.Changed);
                Assert.InRange(attach.LinkCount, 1, Links);
                if (attach.Action == VtepAction.CreatePort)
                {
                    Interlocked.Increment(ref creates);
                    Assert.Equal(1, attach.LinkCount);
                }

                if (round == Rounds - 1 && i % 2 == 0)
                {
                    break;
                }

                var detach = await db.Store.DetachAsync("aetlab", h[0], h[1], $"l{i}");
                Assert.True(detach.Changed);
                if (detach.Action == VtepAction.DeletePort)
                {
                    Interlocked.Increment(ref deletes);
                    Assert.Equal(0, detach.LinkCount);
                }
            }
        })));
        await done.CancelAsync();
        await watcher;

        output.WriteLine($"{Links} links × {Rounds} rounds: {creates} creates, {deletes} deletes, {watched} psql checks meanwhile");
        Assert.Equal("0 0", await db.ScalarAsync(Orphans));
        Assert.Equal(Enumerable.Range(0, Links).Where(i => i % 2 == 0).Select(i => $"l{i}").Order(StringComparer.Ordinal),
            (await db.QueryAsync("SELECT link_id FROM cluster_vtep_links ORDER BY link_id")).Select(r => r[0]));
        Assert.Equal("1", await db.ScalarAsync("SELECT count(*) FROM cluster_vteps"));

        // Every port created was deleted but the one that remains: the agent's kernel would agree with the rows.
        Assert.Equal(1, creates - deletes);
        Assert.True(creates > 1, $"the churn never emptied the VTEP ({creates} creates): no concurrency exercised");
        Assert.True(watched > 0);
    }

    private static (VtepAction, int, bool) Summary(VtepChange change) => (change.Action, change.LinkCount, change.Changed);
}
