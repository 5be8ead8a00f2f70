using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether run</c> repairing one link over and over: its resident memory levels off after the first two hundred
/// repairs and then stays within 5% (what the hour-long soak checks, in a minute). Nothing a repair allocates is
/// kept (a repair allocates about 60 KB), and the native build's first gen0 budget is small (2 MiB, set in
/// Aether.Cli.csproj), so the heap reaches its working size in seconds: with the default budget (sized from the L3
/// cache) the native CLI climbed from 23 MB at the 100th repair to 35 MB at the 400th, and this failed. The
/// managed build does not carry that setting: it is given the same budget through <c>DOTNET_GCgen0size</c>, so that
/// there too only what repairs keep can move the figure. Since a hint wakes a loop whose pass failed (the host end
/// back while the namespace's pass failed on it), a repair makes more passes, and the managed build's figure
/// climbed until about the 200th (60.8 MB at the 100th, 64.7 MB at the 200th, 64.7 MB at the 400th): the warm-up is
/// 200 repairs.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class RunMemoryTests : CliTest
{
    private const int WarmUp = 200, Repairs = 500;

    [Fact]
    public async Task Run_resident_memory_stays_within_5_percent_from_the_200th_to_the_500th_repair()
    {
        using var run = StartRun();
        var output = new StringBuilder();
        run.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        run.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        string Out()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            await WaitForAsync(() => Task.FromResult(Out().Contains("running: ", StringComparison.Ordinal)), "run to converge", Out);
            long reference = 0;
            var samples = new List<(int Repair, long Kib)>();
            for (var repair = 1; repair <= Repairs; repair++)
            {
                await Ip.RunAsync("link", "del", HostEnd);
                await WaitForAsync(async () => await Ip.LinkAsync(null, HostEnd) is not null, $"repair {repair}: {HostEnd} to come back", Out);
                if (repair == WarmUp)
                {
                    reference = Rss(run.Id);
                }
                else if (repair > WarmUp && repair % 50 == 0)
                {
                    samples.Add((repair, Rss(run.Id)));
                }
            }

            Assert.False(run.HasExited, Out());
            var report = $"VmRSS at repair {WarmUp}: {reference} KiB; then " + string.Join(", ", samples.Select(s => $"{s.Repair}: {s.Kib} KiB"));
            Assert.True(reference > 0, report);
            Assert.All(samples, s => Assert.True(s.Kib <= reference * 1.05, report));
        }
        finally
        {
            if (!run.HasExited)
            {
                Cli.Terminate(run);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await run.WaitForExitAsync(cts.Token);
            }
        }
    }

    /// <summary><c>aether run</c> of the sandbox's topology; the managed build with the native build's gen0 budget.</summary>
    private Process StartRun()
    {
        var psi = new ProcessStartInfo(Cli.BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "run", "-f", File, "--state-dir", Path.Combine(Dir, "state") })
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Remove("DOTNET_GCgen0size");
        if (System.IO.File.Exists(Path.Combine(Path.GetDirectoryName(Cli.BinaryPath)!, "aether.dll")))
        {
            psi.Environment["DOTNET_GCgen0size"] = "200000"; // hex: 2 MiB, as Aether.Cli.csproj gives the native build
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + Cli.BinaryPath);
    }

    /// <summary><c>VmRSS</c> of <paramref name="pid"/>, in KiB.</summary>
    private static long Rss(int pid)
    {
        var line = System.IO.File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, Func<string> output)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new Xunit.Sdk.XunitException($"timed out waiting for {what}\n{output()}");
    }
}
