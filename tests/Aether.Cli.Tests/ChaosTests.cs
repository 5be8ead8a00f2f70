using Aether.Bench;

namespace Aether.Cli.Tests;

/// <summary>The short versions of <c>aether-bench chaos</c> (seconds, not hours): the same scenario code, smaller.
/// Each scenario names its objects with a prefix of its own (<c>aetXXXX</c>) and removes them, also on failure; each
/// row fails on a kill the next command does not recover from, an owned object left that nothing desires, a foreign
/// object changed, or a check of its own (no overflow happened, the monitor went quiet).</summary>
public sealed class ChaosTests
{
    private static void AssertPassed(params ChaosRow[] rows)
    {
        foreach (var row in rows)
        {
            Assert.True(row.Passed, $"{row.Scenario}: {row.Converged}/{row.Trials} converged, {row.Orphans} orphans, {row.ForeignChanged} foreign changed; {row.Times}\n{string.Join("\n", row.Failures)}");
        }
    }

    [Fact]
    public async Task Kill_9_in_apply_and_destroy_of_20_namespaces_the_next_command_converges()
    {
        var rows = await ChaosKills.ApplyDestroyAsync(Cli.BinaryPath, 20, 10);
        Assert.Equal([5, 5], rows.Select(r => r.Trials));
        AssertPassed(rows);
    }

    [Fact]
    public async Task Kill_9_in_run_repairs_the_next_apply_converges()
    {
        var row = await ChaosKills.RunRepairAsync(Cli.BinaryPath, 20, 5);
        Assert.Equal(5, row.Trials);
        AssertPassed(row);
    }

    [Fact]
    public async Task Kill_9_of_the_daemon_in_AddNetwork_the_request_again_converges()
    {
        var row = await ChaosHub.AddNetworkAsync(Cli.BinaryPath, 3);
        Assert.Equal(3, row.Trials);
        AssertPassed(row);
    }

    /// <summary>The soak in 40 seconds: apply/destroy, drift under <c>aether run</c>, hub add/remove through the
    /// daemon, round after round, with no failed step, and the open descriptors of both processes flat (the last third's
    /// mean within 5% and one descriptor of the middle third's). RSS is the hour-long run's to judge (docs/reliability.md):
    /// 40 seconds are still the processes' warm-up; <c>RunMemoryTests</c> holds <c>aether run</c>'s RSS to 5%.</summary>
    [Fact]
    public async Task A_40_second_soak_fails_no_step_and_keeps_descriptors_flat()
    {
        var soak = await SoakCommand.SoakAsync(Cli.BinaryPath, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1), _ => { });
        Assert.True(soak.Failures.Count == 0, string.Join("; ", soak.Failures));
        Assert.True(soak.Rounds >= 5, $"only {soak.Rounds} rounds in 40 s");
        Assert.Equal(soak.Rounds, soak.Heal.Count);
        var third = soak.Samples.Count / 3;
        foreach (var (what, pick) in new (string, Func<(TimeSpan, long, int, long, int), double>)[] { ("daemon", s => s.Item3), ("aether run", s => s.Item5) })
        {
            var middle = soak.Samples.Skip(third).Take(third).Average(pick);
            var last = soak.Samples.Skip(2 * third).Average(pick);
            Assert.True(last <= (middle * 1.05) + 1, $"{what}'s open descriptors grew: {middle:0.0} then {last:0.0}");
        }
    }

    [Fact]
    public async Task A_50_change_drift_storm_under_run_heals_and_leaves_foreign_objects_alone()
    {
        AssertPassed(await ChaosDrift.StormAsync(Cli.BinaryPath, 6, 50));
    }

    /// <summary>Four hub networks under the daemon (its resync 2 s), a foreign wireguard-go device and foreign bridges
    /// beside them; 60 random <c>wg</c>/<c>ip</c> changes, then wg-only ones (port, stranger peer, private key) that no
    /// kernel event announces: all healed (checked with <c>wg show dump</c> and <c>ip -j</c>), the foreign device's
    /// dump and links as they were, nothing left after the networks are removed.</summary>
    [Fact]
    public async Task A_60_change_wireguard_drift_storm_under_the_hub_heals_and_leaves_foreign_objects_alone()
    {
        AssertPassed(await ChaosWgDrift.StormAsync(Cli.BinaryPath, 60));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("-1s")]
    [InlineData("10")]
    [InlineData("5x")]
    [InlineData("abc")]
    public async Task Serve_refuses_a_hub_resync_that_is_no_duration_and_makes_nothing(string resync)
    {
        var dir = Directory.CreateTempSubdirectory("aether-chaos-resync-");
        try
        {
            var result = await Cli.RunAsync("serve", "--socket", Path.Combine(dir.FullName, "s.sock"), "--db", Path.Combine(dir.FullName, "a.db"), "--state-dir", dir.FullName, "--hub-resync", resync);
            Assert.True(result.Code == 2, result.ToString());
            Assert.Contains("--hub-resync", result.Stderr + result.Stdout, StringComparison.Ordinal);
            Assert.Empty(dir.GetFileSystemInfos());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Ten thousand events while the run is stopped: the row fails when the kernel dropped nothing (no
    /// overflow happened). A running reactor keeps up with such a flood on a quiet machine, so the run is held by
    /// SIGSTOP until the flood is over and the overflow is certain.</summary>
    [Fact]
    public async Task Ten_thousand_events_against_a_4_KiB_monitor_buffer_converge_and_the_monitor_goes_on()
    {
        AssertPassed(await ChaosDrift.OverflowAsync(Cli.BinaryPath, 10_000, 4096));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("2303")]
    [InlineData("268435457")]
    [InlineData("abc")]
    [InlineData("4k")]
    public async Task Run_refuses_a_monitor_buffer_out_of_range_and_makes_nothing(string buffer)
    {
        var prefix = "aet" + Guid.NewGuid().ToString("N")[..4];
        var dir = Directory.CreateTempSubdirectory("aether-chaos-arg-");
        try
        {
            var file = Path.Combine(dir.FullName, "t.yaml");
            await File.WriteAllTextAsync(file, $"name: {prefix}\nnamespaces:\n  - name: {prefix}n\n");
            var result = await Cli.RunAsync("run", "-f", file, "--state-dir", dir.FullName, "--monitor-buffer", buffer);
            Assert.True(result.Code == 2, result.ToString());
            Assert.Contains("--monitor-buffer", result.Stderr + result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(prefix + "n", await Ip.NetnsNamesAsync());
            Assert.Equal(["t.yaml"], dir.GetFileSystemInfos().Select(f => f.Name));
        }
        finally
        {
            if (File.Exists("/run/netns/" + prefix + "n"))
            {
                await Ip.TryRunAsync("netns", "del", prefix + "n");
            }

            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_row_fails_on_any_miss()
    {
        var good = new ChaosRow("s", 3, 3, 0, 0, "-", []);
        Assert.True(good.Passed);
        Assert.False((good with { Converged = 2 }).Passed);
        Assert.False((good with { Orphans = 1 }).Passed);
        Assert.False((good with { ForeignChanged = 1 }).Passed);
        Assert.False((good with { Failures = ["no overflow happened"] }).Passed);
        Assert.Contains("| s | 3 | 3 | 0 | 0 | - |", ChaosBench.Table([good]), StringComparison.Ordinal);
    }
}
