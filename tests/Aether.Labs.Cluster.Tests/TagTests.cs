using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Lab-wide VLAN tags of ovs-fabric links: stable, unique per lab, 100..4094, the smallest free one.</summary>
public sealed class TagTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task ATagIsGivenOnceSmallestFreeFirstAndKeptAcrossStores()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var first = await db.Store.AssignTagsAsync("aetlab", ["l2", "l1", "l3"]);
        Assert.Equal(["l1=100", "l2=101", "l3=102"], Sorted(first));

        // Another lab counts on its own.
        Assert.Equal(["x=100"], Sorted(await db.Store.AssignTagsAsync("aetother", ["x"])));

        // A link gone, one added (from another store, as a re-deploy is): the others keep theirs, the new one takes
        // the freed tag.
        Assert.Equal(1, await db.Store.ReleaseTagsAsync("aetlab", ["l2", "nonexistent"]));
        await using var again = db.OpenAnother();
        var second = await again.AssignTagsAsync("aetlab", ["l3", "l1", "l4"]);
        Assert.Equal(["l1=100", "l3=102", "l4=101"], Sorted(second));
        Assert.Equal(Sorted(second), Sorted(await db.Store.ListTagsAsync("aetlab")));
        var rows = await db.QueryAsync("SELECT link_id || '=' || tag FROM cluster_vlan_tags WHERE lab = 'aetlab' ORDER BY link_id");
        Assert.Equal(Sorted(second), rows.Select(r => r[0]));
    }

    [Fact]
    public async Task ConcurrentAssignersAgreeOnEachLinkAndNoTagIsGivenTwice()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var links = Enumerable.Range(0, 30).Select(i => $"l{i}").ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => db.Store.AssignTagsAsync("aetlab", i % 2 == 0 ? links : links.Skip(i).Concat(links.Take(i)))));
        foreach (var result in results)
        {
            Assert.Equal(Sorted(results[0]), Sorted(result));
        }

        Assert.Equal(Enumerable.Range(100, 30), results[0].Values.Order());
        Assert.Equal(new string?[] { "30", "30" }, (await db.QueryAsync("SELECT count(*), count(DISTINCT tag) FROM cluster_vlan_tags"))[0]);
    }

    [Fact]
    public async Task MoreLinksThanTagsIsRefusedAndNothingIsWritten()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var links = Enumerable.Range(0, ClusterStore.LastTag - ClusterStore.FirstTag + 2).Select(i => $"l{i}").ToArray();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => db.Store.AssignTagsAsync("aetlab", links));
        Assert.Contains("no free VLAN tag", ex.Message, StringComparison.Ordinal);
        Assert.Contains("100..4094", ex.Message, StringComparison.Ordinal);
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_vlan_tags"));

        // The database refuses a tag outside the range on its own.
        var (code, _, error) = await db.Server.TryQueryAsync(db.Name, "INSERT INTO cluster_vlan_tags (lab, link_id, tag) VALUES ('aetlab', 'x', 4095)");
        Assert.NotEqual(0, code);
        Assert.Contains("ck_cluster_vlan_tags_tag", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadFieldsAreNamedAndNothingIsWritten()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        foreach (var (lab, link, message) in new[]
        {
            ("aetlab", "", "link id '': empty"),
            ("aetlab", "a b", "link id 'a b': may not hold spaces"),
            ("aetlab", new string('x', 256), "link id 'xxx"),
            ("AET", "ok", "lab 'AET'"),
        })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.AssignTagsAsync(lab, ["good", link]));
            Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_vlan_tags"));
    }

    private static List<string> Sorted(IReadOnlyDictionary<string, int> tags) =>
        [.. tags.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")];
}
