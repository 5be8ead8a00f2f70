using System.Diagnostics;
using System.Globalization;
using Aether.Topology;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.Bench;

/// <summary>
/// Loading a topology file, in process and warm: files of <c>examples/generate-topology.sh</c> at each size are loaded
/// over and over (after warm-up loads, so JIT is not counted), and each stage is timed on its own: the file read
/// (<see cref="DefinitionFile.Read"/>), YamlDotNet's event parser alone, YamlDotNet's representation model, and the
/// whole <see cref="TopologyLoader.LoadFile"/>. Prints the median and best ms per load, µs per namespace, and the bytes
/// allocated and the collections of each generation per load (in the native CLI, whose first gen0 budget is 2 MiB,
/// what a load allocates is what it collects). Nothing touches the kernel.
/// </summary>
internal static class LoadBench
{
    public static async Task<int> RunAsync(int[] sizes, double seconds)
    {
        var directory = Directory.CreateTempSubdirectory("bload-");
        try
        {
            Console.WriteLine("load: ms per load (median, best of the runs), µs per namespace (median), bytes allocated and collections (gen0/gen1/gen2) per load");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"n",6} {"stage",-10} {"runs",5} {"median ms",10} {"best ms",9} {"µs/ns",7} {"alloc KiB",10} {"GCs gen0/1/2",16}"));
            foreach (var n in sizes)
            {
                var path = Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"topo-{n}.yaml"));
                await GenerateAsync(n, path);
                var text = File.ReadAllText(path);
                Measure(n, "read", seconds / 4, () => DefinitionFile.Read(path).Text!.Length);
                Measure(n, "events", seconds / 4, () => Events(text));
                Measure(n, "model", seconds / 4, () => Model(text));
                Measure(n, "load", seconds, () => Load(path, n));
            }

            return 0;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void Measure(int n, string stage, double seconds, Func<int> action)
    {
        for (var i = 0; i < 5; i++)
        {
            _ = action(); // warm: JIT and first-use costs are not what is measured
        }

        var times = new List<double>();
        long allocated = 0;
        var collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
        var budget = Stopwatch.StartNew();
        while (times.Count < 5 || (budget.Elapsed.TotalSeconds < seconds && times.Count < 1000))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.GetTimestamp();
            _ = action();
            times.Add(Stopwatch.GetElapsedTime(clock).TotalMilliseconds);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        var gcs = string.Join('/', Enumerable.Range(0, 3).Select(g => ((GC.CollectionCount(g) - collections[g]) / (double)times.Count).ToString("F2", CultureInfo.InvariantCulture)));
        times.Sort();
        var median = times[times.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n,6} {stage,-10} {times.Count,5} {median,10:F2} {times[0],9:F2} {median * 1000 / n,7:F1} {allocated / times.Count / 1024.0,10:F0} {gcs,16}"));
    }

    /// <summary>YamlDotNet's parser alone: every event, nothing built.</summary>
    private static int Events(string text)
    {
        var parser = new Parser(new StringReader(text));
        var events = 0;
        while (parser.MoveNext())
        {
            events++;
        }

        return events;
    }

    /// <summary>YamlDotNet's representation model of the file.</summary>
    private static int Model(string text)
    {
        var stream = new YamlStream();
        stream.Load(new Parser(new StringReader(text)));
        return stream.Documents.Count;
    }

    private static int Load(string path, int n)
    {
        var loaded = TopologyLoader.LoadFile(path);
        if (!loaded.IsValid || loaded.Topology!.Namespaces.Count != n || loaded.Topology.Links.Count != n)
        {
            throw new InvalidOperationException($"{path}: not loaded as {n} namespaces and links: {string.Join("; ", loaded.Errors)}");
        }

        return loaded.Topology.Links.Count;
    }

    private static async Task GenerateAsync(int n, string path)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["examples/generate-topology.sh", n.ToString(CultureInfo.InvariantCulture), "bload"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"examples/generate-topology.sh exited {process.ExitCode}");
        }

        await File.WriteAllTextAsync(path, text);
    }
}
