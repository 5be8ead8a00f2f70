using System.Diagnostics;
using System.Globalization;

namespace Aether.Bench;

/// <summary>One row of the chaos table.</summary>
/// <param name="Scenario">What was done.</param>
/// <param name="Trials">How many times.</param>
/// <param name="Converged">How many ended converged (the next command exited 0 and <c>aether diff</c> found all in
/// sync, or after a destroy nothing was left).</param>
/// <param name="Orphans">Owned objects nothing desires, summed over the trials.</param>
/// <param name="ForeignChanged">Trials after which a foreign object's <c>ip -j</c>/<c>nft -j</c> form differed.</param>
/// <param name="Times">The time figures, as text.</param>
/// <param name="Failures">What went wrong, for the report (empty when the row passed).</param>
internal sealed record ChaosRow(string Scenario, int Trials, int Converged, int Orphans, int ForeignChanged, string Times, List<string> Failures)
{
    /// <summary>Every trial converged, nothing orphaned, nothing foreign touched, no other check failed.</summary>
    public bool Passed => Converged == Trials && Orphans == 0 && ForeignChanged == 0 && Failures.Count == 0;
}

/// <summary>
/// <c>kill -9</c> at random points of <c>aether apply</c>, <c>aether destroy</c> and <c>aether run</c>'s repairs: the
/// delay is uniform over the measured duration of an uninterrupted run of the same command, then SIGKILL goes to the
/// process and its process group. After each kill the next command must converge, leave no owned object nothing
/// desires, and leave every foreign object exactly as it was.
/// </summary>
internal static class ChaosKills
{
    /// <summary>Kills during apply (from nothing) and during destroy (of everything), alternately.</summary>
    public static async Task<ChaosRow[]> ApplyDestroyAsync(string cli, int namespaces, int kills)
    {
        await using var world = await ChaosWorld.CreateAsync(cli, namespaces);
        var baseline = await world.SnapshotForeignAsync();
        var apply = await world.CliAsync("apply");
        Expect(apply.Output, "the uninterrupted apply");
        var destroy = await world.CliAsync("destroy");
        Expect(destroy.Output, "the uninterrupted destroy");
        Tally[] rows = [new($"kill -9 in apply of {namespaces} ns", apply.Ms), new($"kill -9 in destroy of {namespaces} ns", destroy.Ms)];
        for (var trial = 0; trial < kills; trial++)
        {
            var isApply = trial % 2 == 0;
            var tally = rows[isApply ? 0 : 1];
            if (!isApply)
            {
                Expect((await world.CliAsync("apply")).Output, "apply before a killed destroy");
            }

            var process = world.StartCli(isApply ? "apply" : "destroy");
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * tally.Uninterrupted));
            tally.Killed += await ChaosShell.KillGroupAsync(process) ? 1 : 0;
            await drain;

            // The next command of the same kind converges.
            var next = await world.CliAsync(isApply ? "apply" : "destroy");
            tally.Recovery.Add(next.Ms);
            var converged = next.Output.Code == 0 && (!isApply || await world.InSyncAsync());
            if (!isApply && converged)
            {
                converged = (await world.OrphansAsync(applied: false)).Count == 0;
            }

            if (isApply)
            {
                Expect((await world.CliAsync("destroy")).Output, "destroy after a killed apply");
            }

            tally.Record(converged, await world.OrphansAsync(applied: false), ChaosWorld.Changed(baseline, await world.SnapshotForeignAsync()), $"trial {trial}: {next.Output}");
        }

        return [rows[0].Row(kills - kills / 2), rows[1].Row(kills / 2)];
    }

    /// <summary>Kills <c>aether run</c> while it repairs: a tenth of the namespaces deleted (<c>ip netns del</c>) and a
    /// tenth of the host ends set down at once, then SIGKILL at a random point of the repair; the next
    /// <c>aether apply</c> converges.</summary>
    public static async Task<ChaosRow> RunRepairAsync(string cli, int namespaces, int kills)
    {
        await using var world = await ChaosWorld.CreateAsync(cli, namespaces, foreignInside: Math.Max(1, namespaces / 10));
        Expect((await world.CliAsync("apply")).Output, "the first apply");
        await world.AddForeignInsideAsync();
        var baseline = await world.SnapshotForeignAsync();

        // The uninterrupted repair, measured once.
        var lines = new List<string>();
        var run = await world.StartRunAsync(lines, "--resync", "60s");
        var started = Stopwatch.GetTimestamp();
        await DriftAsync(world);
        var repair = await world.UntilInSyncAsync(TimeSpan.FromMinutes(2)) ?? throw new InvalidOperationException("aether run did not repair: " + string.Join(" | ", lines.TakeLast(5)));
        repair = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await ChaosShell.TerminateAsync(run);
        var tally = new Tally($"kill -9 in run repairs, {namespaces} ns", repair);
        for (var trial = 0; trial < kills; trial++)
        {
            lines.Clear();
            run = await world.StartRunAsync(lines, "--resync", "60s");
            await DriftAsync(world);
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * repair));
            tally.Killed += await ChaosShell.KillGroupAsync(run) ? 1 : 0;
            var next = await world.CliAsync("apply");
            tally.Recovery.Add(next.Ms);
            var converged = next.Output.Code == 0 && await world.InSyncAsync();
            tally.Record(converged, await world.OrphansAsync(applied: true), ChaosWorld.Changed(baseline, await world.SnapshotForeignAsync()), $"trial {trial}: {next.Output}");
        }

        Expect((await world.CliAsync("destroy")).Output, "the last destroy");
        var left = await world.OrphansAsync(applied: false);
        var row = tally.Row(kills);
        return left.Count == 0 ? row : row with { Orphans = row.Orphans + left.Count, Failures = [.. row.Failures, "after the last destroy: " + string.Join(", ", left)] };
    }

    /// <summary>Deletes every tenth namespace (not those with foreign objects inside) and sets every tenth host end
    /// down, in one <c>ip -batch</c>.</summary>
    private static async Task DriftAsync(ChaosWorld world)
    {
        var batch = new System.Text.StringBuilder();
        var step = world.Namespaces >= 20 ? 10 : 2;
        for (var i = 0; i < world.Namespaces - Math.Max(1, world.Namespaces / 10); i += step)
        {
            batch.Append(CultureInfo.InvariantCulture, $"netns del {world.Ns(i)}\n");
            batch.Append(CultureInfo.InvariantCulture, $"link set {world.HostLink(i + 1)} down\n");
        }

        var result = await ChaosShell.RunAsync("ip", ["-force", "-batch", "-"], stdin: batch.ToString());
        if (result.Code != 0)
        {
            throw new InvalidOperationException("the drift batch: " + result);
        }
    }

    private static void Expect(ChaosOutput output, string what)
    {
        if (output.Code != 0)
        {
            throw new InvalidOperationException($"{what}: {output}");
        }
    }

    /// <summary>One row's counts as the trials go.</summary>
    private sealed class Tally(string scenario, double uninterrupted)
    {
        public double Uninterrupted { get; } = uninterrupted;

        public int Killed { get; set; }

        public List<double> Recovery { get; } = [];

        private readonly List<string> _failures = [];
        private int _converged, _orphans, _foreign;

        public void Record(bool converged, List<string> orphans, List<string> foreign, string what)
        {
            _converged += converged ? 1 : 0;
            _orphans += orphans.Count;
            _foreign += foreign.Count > 0 ? 1 : 0;
            if (!converged || orphans.Count > 0 || foreign.Count > 0)
            {
                _failures.Add($"{what}; converged {converged}; orphans [{string.Join(", ", orphans)}]; foreign changed [{string.Join(", ", foreign)}]");
            }
        }

        public ChaosRow Row(int trials)
        {
            Recovery.Sort();
            var times = Recovery.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
                $"uninterrupted {Uninterrupted:0} ms; killed mid-way {Killed}/{trials}; next command p50 {ChaosBench.Percentile(Recovery, 0.5):0} ms, max {Recovery[^1]:0} ms");
            return new ChaosRow(scenario, trials, _converged, _orphans, _foreign, times, _failures);
        }
    }
}
