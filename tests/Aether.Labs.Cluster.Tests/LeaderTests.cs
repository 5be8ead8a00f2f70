using System.Diagnostics;
using System.Globalization;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Cluster.Tests;

/// <summary>The leader lock: one leader at a time; a follower takes over within seconds of the leader's connection
/// ending.</summary>
public sealed class LeaderTests(PostgresServer fixture, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task OneLeadsAndTheOtherTakesOverWithinFiveSecondsOfTheLeadersBackendDying()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var first = new LeaderElector(db.ConnectionString);
        await using var second = new LeaderElector(db.ConnectionString);

        Assert.True(await first.TryLeadAsync());
        Assert.False(await second.TryLeadAsync());
        Assert.True(await first.TryLeadAsync()); // still, and idempotent
        Assert.Equal(first.BackendPid.ToString(CultureInfo.InvariantCulture), await db.ScalarAsync(
            $"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = {LeaderElector.LockKey}"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var follower = second.WaitToLeadAsync(timeout.Token);
        await Task.Delay(1500); // the follower has tried and failed at least once
        Assert.False(follower.IsCompleted);

        var clock = Stopwatch.StartNew();
        Assert.Equal("t", await db.ScalarAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT pg_terminate_backend({first.BackendPid})")));
        await follower;
        var takeover = clock.Elapsed;
        output.WriteLine($"takeover after the leader's backend was terminated: {takeover.TotalMilliseconds:F0} ms");
        Assert.True(takeover < TimeSpan.FromSeconds(5), $"took over after {takeover}");
        Assert.True(second.IsLeader);

        // The old leader learns it lost, and cannot take the lock back while the new one holds it.
        Assert.False(await first.StillLeadingAsync());
        Assert.False(await first.TryLeadAsync());
        Assert.True(await second.StillLeadingAsync());
        Assert.Equal(second.BackendPid.ToString(CultureInfo.InvariantCulture), await db.ScalarAsync(
            $"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = {LeaderElector.LockKey}"));
    }

    [Fact]
    public async Task DisposingTheLeaderFreesTheLock()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var second = new LeaderElector(db.ConnectionString);
        await using (var first = new LeaderElector(db.ConnectionString))
        {
            Assert.True(await first.TryLeadAsync());
            Assert.False(await second.TryLeadAsync());
        }

        Assert.True(await second.TryLeadAsync());
    }
}
