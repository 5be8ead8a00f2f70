using System.Net;
using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>Hosts: registration, heartbeats by the database's clock, liveness; psql is the oracle.</summary>
public sealed class HostTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task RegisterThenUpdateKeepsOneRow()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h1 = HostId.Parse("aeth1");
        var first = await db.Store.RegisterHostAsync(new HostRegistration(h1, IPAddress.Parse("192.0.2.1"), 100, "1.0"));
        Assert.True(first.Alive);
        await db.Store.RegisterHostAsync(new HostRegistration(h1, IPAddress.Parse("2001:db8::7"), 200, "1.1"));

        var rows = await db.QueryAsync("SELECT id, host(underlay), agent_pid, version, registered_at <= last_seen FROM cluster_hosts");
        Assert.Equal(new string?[] { "aeth1", "2001:db8::7", "200", "1.1", "t" }, Assert.Single(rows));
    }

    [Fact]
    public async Task HeartbeatSetsLastSeenToTheDatabasesNow()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var h1 = (await db.RegisterAsync("aeth1"))[0];
        await db.QueryAsync("UPDATE cluster_hosts SET last_seen = now() - interval '1 hour'");

        var seen = await db.Store.HeartbeatAsync(h1);
        Assert.NotNull(seen);
        Assert.Equal("t", await db.ScalarAsync("SELECT now() - last_seen < interval '5 seconds' FROM cluster_hosts"));
        Assert.Null(await db.Store.HeartbeatAsync(HostId.Parse("aetnobody")));
        Assert.Equal("1", await db.ScalarAsync("SELECT count(*) FROM cluster_hosts"));
    }

    [Fact]
    public async Task AHostSilentLongerThanTheTimeoutIsUnreachableSinceItsLastSeen()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await db.RegisterAsync("aeth1", "aeth2");
        await db.QueryAsync("UPDATE cluster_hosts SET last_seen = '2026-01-02 03:04:05+00' WHERE id = 'aeth2'");

        var hosts = await db.Store.ListHostsAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(["aeth1", "aeth2"], hosts.Select(h => h.Id.Value));
        Assert.True(hosts[0].Alive);
        Assert.Equal("up", hosts[0].Describe());
        Assert.False(hosts[1].Alive);
        Assert.Equal("unreachable since 2026-01-02T03:04:05Z", hosts[1].Describe());
        Assert.True(hosts[1].Silence > TimeSpan.FromDays(30));

        // A heartbeat brings it back.
        await db.Store.HeartbeatAsync(HostId.Parse("aeth2"));
        Assert.All(await db.Store.ListHostsAsync(TimeSpan.FromSeconds(15)), h => Assert.True(h.Alive));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Aeth1")]
    [InlineData("-aeth")]
    [InlineData("aeth.1")]
    [InlineData("aeth 1")]
    [InlineData("aethaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void BadHostIdsNameTheField(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => HostId.Parse(text));
        Assert.StartsWith($"invalid host id '{text}': ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("224.0.0.5", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("::ffff:192.0.2.1", "IPv4-mapped")]
    public async Task BadUnderlaysNameTheFieldAndWriteNothing(string address, string why)
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.RegisterHostAsync(new HostRegistration(HostId.Parse("aeth1"), IPAddress.Parse(address))));
        Assert.StartsWith("underlay '", ex.Message, StringComparison.Ordinal);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_hosts"));
    }

    [Fact]
    public async Task BadPidsVersionsAndDefaultIdsWriteNothing()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var address = IPAddress.Parse("192.0.2.1");
        var cases = new (HostRegistration Registration, string Field)[]
        {
            (new HostRegistration(default, address), "host id: empty"),
            (new HostRegistration(HostId.Parse("aeth1"), address, 0), "agent pid 0"),
            (new HostRegistration(HostId.Parse("aeth1"), address, -5), "agent pid -5"),
            (new HostRegistration(HostId.Parse("aeth1"), address, 1, ""), "version ''"),
            (new HostRegistration(HostId.Parse("aeth1"), address, 1, new string('v', 65)), "version 'vvv"),
            (new HostRegistration(HostId.Parse("aeth1"), address, 1, "1.0\n"), "version '1.0"),
        };
        foreach (var (registration, field) in cases)
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Store.RegisterHostAsync(registration));
            Assert.StartsWith(field, ex.Message, StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Store.ListHostsAsync(TimeSpan.Zero));
        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM cluster_hosts"));
    }
}
