using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Per-link VNIs: stable, unique, in range, skipping those in use after the sequence wraps.</summary>
public sealed class VniTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task AVniIsGivenOnceAndKeptAcrossStores()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var first = await db.Store.AssignVnisAsync("aetlab", ["r1:eth1--r2:eth1", "r2:eth2--r3:eth1"]);
        Assert.Equal(2, first.Values.Distinct().Count());
        Assert.All(first.Values, v => Assert.InRange(v, ClusterStore.FirstVni, ClusterStore.LastVni));

        // A re-deploy from another process (a new store): the same VNIs, plus one for the new link.
        await using var again = db.OpenAnother();
        var second = await again.AssignVnisAsync("aetlab", ["r2:eth2--r3:eth1", "r1:eth1--r2:eth1", "r3:eth2--r1:eth2"]);
        Assert.Equal(first["r1:eth1--r2:eth1"], second["r1:eth1--r2:eth1"]);
        Assert.Equal(first["r2:eth2--r3:eth1"], second["r2:eth2--r3:eth1"]);
        Assert.Equal(3, second.Values.Distinct().Count());

        var rows = await db.QueryAsync("SELECT key, vni FROM cluster_vnis WHERE lab = 'aetlab' AND scope = 'link' ORDER BY key");
        Assert.Equal(second.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"), rows.Select(r => $"{r[0]}={r[1]}"));
        Assert.Equal(Sorted(second), Sorted(await db.Store.ListVnisAsync("aetlab")));
    }

    [Fact]
    public async Task ConcurrentAssignersGetUniqueVnisAndAgreeOnEachLink()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var links = Enumerable.Range(0, 40).Select(i => $"l{i}").ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => db.Store.AssignVnisAsync("aetlab", i % 2 == 0 ? links : links.Reverse())));
        foreach (var result in results)
        {
            Assert.Equal(Sorted(results[0]), Sorted(result));
        }

        Assert.Equal(40, results[0].Values.Distinct().Count());
        Assert.Equal(new string?[] { "40", "40" }, (await db.QueryAsync("SELECT count(*), count(DISTINCT vni) FROM cluster_vnis"))[0]);
    }

    [Fact]
    public async Task AfterTheLastVniTheSequenceWrapsAndSkipsVnisInUse()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var low = await db.Store.AssignVnisAsync("aetlab", ["a", "b"]);
        Assert.Equal([4096, 4097], low.Values.Order());
        await db.QueryAsync("SELECT setval('cluster_vni_seq', 16777214)");

        var high = await db.Store.AssignVnisAsync("aetlab", ["c", "d"]);
        Assert.Equal(16777215, high["c"]);
        Assert.Equal(4098, high["d"]); // 4096 and 4097 are held by a and b

        Assert.Equal(1, await db.Store.ReleaseVnisAsync("aetlab", ["a", "nonexistent"]));
        Assert.Equal(["b", "c", "d"], (await db.QueryAsync("SELECT key FROM cluster_vnis ORDER BY key")).Select(r => r[0]));
    }

    [Fact]
    public async Task BadLinkIdsNameTheFieldAndWriteNothing()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        foreach (var (lab, link, message) in new[]
        {
            ("aetlab", "", "link id '': empty"),
            ("aetlab", "a b", "link id 'a b': may not hold spaces"),
            ("aetlab", "a\tb", "link id 'a\tb': may not hold spaces"),
            ("aetlab", new string('x', 256), "link id 'xxx"),
            ("AET", "ok", "lab 'AET'"),
        })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.AssignVnisAsync(lab, ["good", link]));
            Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_vnis"));
        Assert.Equal("t", await db.ScalarAsync("SELECT NOT is_called FROM cluster_vni_seq"));
    }

    private static List<string> Sorted(IReadOnlyDictionary<string, int> vnis) =>
        [.. vnis.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")];
}
