using System.Globalization;

namespace Aether.Bench;

/// <summary>What <c>aether-bench chaos</c> runs, and how big.</summary>
/// <param name="Cli">The <c>aether</c> binary.</param>
/// <param name="Kills">SIGKILLs per kill scenario (apply and destroy share theirs, alternately).</param>
/// <param name="Namespaces">The topology's namespaces in the kill scenarios.</param>
/// <param name="Drift">Changes in the drift storm.</param>
/// <param name="DriftNamespaces">The topology's namespaces in the drift storm.</param>
/// <param name="Events">Kernel events in the monitor overflow.</param>
/// <param name="Buffer">The monitor's receive buffer in bytes in the overflow.</param>
/// <param name="Only">The scenarios to run (apply, run, hub, drift, wgdrift, overflow); empty for all.</param>
/// <param name="HubKills">SIGKILLs of the daemon in AddNetwork (a trial takes a second or two, against many for 200
/// namespaces); null for <paramref name="Kills"/>.</param>
/// <param name="WgDrift">Changes in the WireGuard drift storm against the daemon's hub.</param>
internal sealed record ChaosOptions(string Cli, int Kills, int Namespaces, int Drift, int DriftNamespaces, int Events, int Buffer, IReadOnlySet<string> Only, int? HubKills = null, int WgDrift = 1000)
{
    /// <summary>The full run the issue asks for.</summary>
    public static ChaosOptions Full(string cli) => new(cli, 100, 200, 1000, 20, 50_000, 4096, new HashSet<string>());

    /// <summary>Seconds, not hours: what the test suite runs.</summary>
    public static ChaosOptions Short(string cli) => new(cli, 5, 20, 50, 6, 2000, 4096, new HashSet<string>(), WgDrift: 50);

    public bool Runs(string scenario) => Only.Count == 0 || Only.Contains(scenario);

    /// <summary>Reads <c>--kills N --hub-kills N --namespaces N --drift N --drift-namespaces N --wg-drift N --events N --buffer BYTES --only a,b
    /// --short --cli PATH</c>.</summary>
    public static ChaosOptions Parse(string[] args)
    {
        var cli = Option(args, "--cli") ?? ".build/aether/aether";
        var o = args.Contains("--short") ? Short(cli) : Full(cli);
        return o with
        {
            Kills = Int(args, "--kills") ?? o.Kills,
            Namespaces = Int(args, "--namespaces") ?? o.Namespaces,
            Drift = Int(args, "--drift") ?? o.Drift,
            DriftNamespaces = Int(args, "--drift-namespaces") ?? o.DriftNamespaces,
            Events = Int(args, "--events") ?? o.Events,
            Buffer = Int(args, "--buffer") ?? o.Buffer,
            HubKills = Int(args, "--hub-kills"),
            WgDrift = Int(args, "--wg-drift") ?? o.WgDrift,
            Only = (Option(args, "--only") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
        };
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int? Int(string[] args, string name) => Option(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// The fault figures: SIGKILL at random points of apply, destroy, run's repairs and the hub's AddNetwork; a drift
/// storm under <c>aether run</c>; a WireGuard drift storm under the daemon's hub; a monitor overflow. Prints one table; exit 0 when every row passed, 1 otherwise
/// (with what failed).
/// </summary>
internal static class ChaosBench
{
    public static async Task<int> RunAsync(ChaosOptions options)
    {
        var rows = await RowsAsync(options, Console.Error.WriteLine);
        Console.WriteLine(Table(rows));
        foreach (var failure in rows.SelectMany(r => r.Failures.Select(f => r.Scenario + ": " + f)))
        {
            Console.WriteLine("FAILED " + failure);
        }

        return rows.All(r => r.Passed) ? 0 : 1;
    }

    /// <summary>Runs the chosen scenarios one after the other; <paramref name="progress"/> hears each row as it ends.</summary>
    public static async Task<List<ChaosRow>> RowsAsync(ChaosOptions options, Action<string> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cli = Path.GetFullPath(options.Cli);
        var rows = new List<ChaosRow>();
        void Add(params ChaosRow[] done)
        {
            rows.AddRange(done);
            foreach (var row in done)
            {
                progress($"chaos: {(row.Passed ? "passed" : "FAILED")} {Table([row]).Split('\n')[2]}");
            }
        }

        // The quick rows first: a long run cut short still has them.
        if (options.Runs("overflow"))
        {
            Add(await ChaosDrift.OverflowAsync(cli, options.Events, options.Buffer));
        }

        if (options.Runs("drift"))
        {
            Add(await ChaosDrift.StormAsync(cli, options.DriftNamespaces, options.Drift));
        }

        if (options.Runs("wgdrift"))
        {
            Add(await ChaosWgDrift.StormAsync(cli, options.WgDrift));
        }

        if (options.Runs("hub"))
        {
            Add(await ChaosHub.AddNetworkAsync(cli, options.HubKills ?? options.Kills));
        }

        if (options.Runs("run"))
        {
            Add(await ChaosKills.RunRepairAsync(cli, options.Namespaces, options.Kills));
        }

        if (options.Runs("apply"))
        {
            Add(await ChaosKills.ApplyDestroyAsync(cli, options.Namespaces, options.Kills * 2));
        }

        return rows;
    }

    /// <summary>The rows as one Markdown table.</summary>
    public static string Table(IEnumerable<ChaosRow> rows)
    {
        var text = new System.Text.StringBuilder("| scenario | trials | converged | orphans | foreign changed | times |\n|---|---:|---:|---:|---:|---|\n");
        foreach (var r in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Trials} | {r.Converged} | {r.Orphans} | {r.ForeignChanged} | {r.Times} |\n");
        }

        return text.ToString();
    }

    /// <summary>The value below which a share <paramref name="p"/> of the sorted values lie.</summary>
    internal static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1))];
}
