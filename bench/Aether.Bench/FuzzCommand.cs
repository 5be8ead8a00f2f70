using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.Labs;
using Aether.Topology;

namespace Aether.Bench;

/// <summary>
/// <c>aether-bench chaos-fuzz</c>: the topology reader and the lab reader in this process, then the daemon's HTTP API,
/// each with generated inputs mutated from valid ones. Counts crashes (an exception out of a reader; a 5xx or a reset
/// from the daemon), hangs (no answer within the timeout), and compares the kernel's namespaces and host links before
/// and after. Exit 1 on any finding.
/// </summary>
internal static class FuzzCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var inputs = int.Parse(Option(args, "--inputs", "100000"), CultureInfo.InvariantCulture);
        var seed = int.Parse(Option(args, "--seed", "16"), CultureInfo.InvariantCulture);
        var timeout = TimeSpan.FromSeconds(double.Parse(Option(args, "--timeout", "2"), CultureInfo.InvariantCulture));
        var target = Option(args, "--target", "all");
        var cli = Option(args, "--cli", ".build/aether/aether");
        var root = FuzzSeeds.RepoRoot(Environment.CurrentDirectory);
        var failed = false;
        Console.WriteLine($"chaos-fuzz: {inputs} inputs per target, seed {seed}, timeout {timeout.TotalSeconds:0.#} s, kernel {Environment.OSVersion.Version}");

        if (target == "mutator")
        {
            var mutator = new FuzzMutator(FuzzSeeds.With(FuzzSeeds.Topologies, root, "examples"), seed);
            for (var i = 0; i < inputs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var input = mutator.Next();
                if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMilliseconds(200))
                {
                    Console.WriteLine($"input {i}: {input.Length} bytes in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms ({mutator.Trace})");
                }
            }

            return 0;
        }

        if (target is "all" or "readers")
        {
            var topologySeeds = FuzzSeeds.With(FuzzSeeds.Topologies, root, "examples");
            var labSeeds = FuzzSeeds.With(FuzzSeeds.Labs, root, "examples/labs");
            var before = await KernelSnapshot.TakeAsync();
            var file = Path.Combine(Path.GetTempPath(), "aetfz-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".yaml");
            try
            {
                failed |= Report("topology reader", new FuzzRunner(b => ReadTopology(b, file), timeout) { LastInputPath = LastInput }.Run(new FuzzMutator(topologySeeds, seed), inputs), topologySeeds.Count);
                failed |= Report("lab reader", new FuzzRunner(b => ReadLab(b, file), timeout) { LastInputPath = LastInput }.Run(new FuzzMutator(labSeeds, seed + 1), inputs), labSeeds.Count);
            }
            finally
            {
                File.Delete(file);
            }

            var after = await KernelSnapshot.TakeAsync();
            var words = FuzzSeedWords(topologySeeds.Concat(labSeeds));
            var changed = before.Diff(after);
            var ours = changed.Where(c => words.Any(w => c.Contains(w, StringComparison.Ordinal))).ToList();
            Console.WriteLine($"kernel: {changed.Count} namespace/link changes on the machine during the run (others' too), {ours.Count} with a name from the seeds{(ours.Count > 0 ? ": " + string.Join(", ", ours) : string.Empty)}");
            failed |= ours.Count > 0;
        }

        if (target is "all" or "http")
        {
            failed |= !await FuzzHttp.RunAsync(cli, inputs, seed + 2, timeout);
        }

        return failed ? 1 : 0;
    }

    /// <summary>The input being read: what is left when one kills the process.</summary>
    private static readonly string LastInput = Path.Combine(Path.GetTempPath(), "aether-fuzz-last-input.yaml");

    /// <summary>Through <see cref="TopologyLoader"/>: text in nine inputs of ten, the file path (its bytes as they are)
    /// in the tenth, as the CLI reads it.</summary>
    private static bool ReadTopology(byte[] input, string file)
    {
        TopologyLoadResult result;
        if (input.Length % 10 == 0)
        {
            File.WriteAllBytes(file, input);
            result = TopologyLoader.LoadFile(file);
        }
        else
        {
            result = TopologyLoader.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml");
        }

        return (result.Topology is null) == (result.Errors.Count > 0)
            ? result.IsValid
            : throw new InvalidOperationException($"a result with a topology and {result.Errors.Count} errors");
    }

    private static bool ReadLab(byte[] input, string file)
    {
        LabLoadResult result;
        if (input.Length % 10 == 0)
        {
            File.WriteAllBytes(file, input);
            result = LabLoader.Load(file);
        }
        else
        {
            result = LabLoader.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml");
        }

        return (result.Lab is null) == (result.Errors.Count > 0)
            ? result.IsValid
            : throw new InvalidOperationException($"a result with a lab and {result.Errors.Count} errors");
    }

    private static bool Report(string what, FuzzReport report, int seeds)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {report.Inputs} inputs from {seeds} seeds in {report.Elapsed.TotalSeconds:0.0} s ({report.PerSecond:0} inputs/s), {report.Valid} still valid, {report.Crashes.Count} crashes, {report.Hangs.Count} hangs"));
        var dir = Path.Combine(Path.GetTempPath(), "aether-fuzz-findings");
        foreach (var finding in report.Crashes.Concat(report.Hangs).Where(f => f.Input.Length > 0).Take(20))
        {
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, $"{what.Replace(' ', '-')}-{finding.Index}.yaml");
            File.WriteAllBytes(path, finding.Input);
            Console.WriteLine($"  #{finding.Index} ({path}): {string.Join(" | ", finding.What.Split('\n').Take(4).Select(l => l.Trim()))}");
        }

        return report.Crashes.Count > 0 || report.Hangs.Count > 0;
    }

    /// <summary>Names in the seeds long enough to recognise in a kernel object's name.</summary>
    private static List<string> FuzzSeedWords(IEnumerable<string> seeds) =>
        [.. seeds.SelectMany(s => s.Split([' ', '\n', ':', ',', '{', '}', '[', ']', '"'], StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.Length >= 5 && w.Contains('-', StringComparison.Ordinal) && w.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            .Distinct(StringComparer.Ordinal)];

    internal static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
