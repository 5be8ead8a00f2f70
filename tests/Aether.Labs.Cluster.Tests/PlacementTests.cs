using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Placements: a lab's set replaced as a whole, listed by lab and by host; bad input changes nothing.</summary>
public sealed class PlacementTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    private const string Rows = "SELECT lab || ' ' || node || ' ' || host_id FROM cluster_placements ORDER BY 1";

    [Fact]
    public async Task SetReplacesTheLabsPlacementsAndLeavesOtherLabs()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2", "aeth3");
        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId> { ["r1"] = h[0], ["r2"] = h[1], ["r3"] = h[1] });
        await db.Store.SetPlacementsAsync("aetother", new Dictionary<string, HostId> { ["x"] = h[1] });
        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId> { ["r1"] = h[2], ["r4"] = h[1] });

        Assert.Equal(["aetlab r1 aeth3", "aetlab r4 aeth2", "aetother x aeth2"], (await db.QueryAsync(Rows)).Select(r => r[0]));
        Assert.Equal(["r1 aeth3", "r4 aeth2"], (await db.Store.ListPlacementsAsync("aetlab")).Select(p => p.Node + " " + p.Host));
        Assert.Equal(["aetlab r4", "aetother x"], (await db.Store.ListPlacementsOnHostAsync(h[1])).Select(p => p.Lab + " " + p.Node));
        Assert.Empty(await db.Store.ListPlacementsOnHostAsync(h[0]));

        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId>());
        Assert.Equal(["aetother x aeth2"], (await db.QueryAsync(Rows)).Select(r => r[0]));
    }

    [Fact]
    public async Task BadPlacementsNameTheFieldAndChangeNothing()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1");
        await db.Store.SetPlacementsAsync("aetlab", new Dictionary<string, HostId> { ["r1"] = h[0] });
        var cases = new (string Lab, Dictionary<string, HostId> Nodes, string Message)[]
        {
            ("aetlab", new() { ["r1"] = h[0], ["r2"] = HostId.Parse("aetnowhere") }, "host of node 'r2': host 'aetnowhere' is not registered"),
            ("aetlab", new() { ["R2"] = h[0] }, "node 'R2': must start with a lowercase letter or digit"),
            ("aetlab", new() { ["r2"] = default }, "host of node 'r2': empty"),
            ("aetlab", new() { ["r 2"] = h[0] }, "node 'r 2': may hold only"),
            ("Aetlab", new() { ["r2"] = h[0] }, "lab 'Aetlab': must start"),
            ("", new() { ["r2"] = h[0] }, "lab '': empty"),
            (new string('a', 33), new() { ["r2"] = h[0] }, "lab 'aaaa"),
        };
        foreach (var (lab, nodes, message) in cases)
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.SetPlacementsAsync(lab, nodes));
            Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
            Assert.Equal(["aetlab r1 aeth1"], (await db.QueryAsync(Rows)).Select(r => r[0]));
        }
    }

    [Fact]
    public async Task ConcurrentSettersOfOneLabLeaveOneWhole()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h = await db.RegisterAsync("aeth1", "aeth2");
        var writers = Enumerable.Range(0, 12).Select(i => db.Store.SetPlacementsAsync("aetlab",
            Enumerable.Range(0, 5).ToDictionary(n => $"n{n}", _ => h[i % 2])));
        await Task.WhenAll(writers);
        var rows = await db.QueryAsync("SELECT count(*), count(DISTINCT host_id) FROM cluster_placements WHERE lab = 'aetlab'");
        Assert.Equal(new string?[] { "5", "1" }, rows[0]);
    }
}
