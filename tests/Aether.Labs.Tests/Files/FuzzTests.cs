using System.Text;
using Aether.Bench;

namespace Aether.Labs.Tests.Files;

/// <summary>The short version of <c>aether-bench chaos-fuzz</c> for the lab reader: 2,000 inputs mutated from the
/// examples and the fuzzer's seeds (fixed seed), read as text and as files; no exception and no input over 10 s.</summary>
public sealed class FuzzTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(10);

    [Fact]
    public void Two_thousand_mutated_labs_are_read_without_a_crash_or_a_hang()
    {
        var seeds = FuzzSeeds.With(FuzzSeeds.Labs, FuzzSeeds.RepoRoot(AppContext.BaseDirectory), "examples/labs");
        var file = Path.Combine(Path.GetTempPath(), "aetfz-lab-" + Guid.NewGuid().ToString("N")[..8] + ".yaml");
        try
        {
            var report = new FuzzRunner(input => Read(input, file), Hang).Run(new FuzzMutator(seeds, 1617), 2000);
            Assert.True(report.Crashes.Count == 0 && report.Hangs.Count == 0, Describe(report));
            // The mutations keep some inputs valid and make most invalid: both paths of the reader are exercised.
            Assert.InRange(report.Valid, 20, 1900);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Found by the fuzzer: a file that ends inside a plain scalar in a flow collection made YamlDotNet's
    /// scanner throw InvalidOperationException (not a YamlException), which escaped the reader.</summary>
    [Theory]
    [InlineData("name: demo\nfabric: veth\nnodes: {r1: {kinme: demo\nfabric: veth\nnodes: {r1: {kind: a")]
    [InlineData("name: x\nnodes: {r1: {kind: a")]
    [InlineData("name: x\nnodes: {}\nlinks: [ { endpoints: [a:eth1")]
    [InlineData("name: !<> x\n")] // an empty verbatim tag: YamlDotNet's scanner throws ArgumentException
    [InlineData("name: x\nnodes: !<> {}\n")]
    public void A_file_ending_inside_a_flow_collection_is_one_yaml_error(string yaml)
    {
        var result = LabLoader.Parse(yaml, "lab.yaml");
        Assert.Null(result.Lab);
        Assert.StartsWith("not valid YAML: ", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fuzz_runner_reports_a_reader_that_throws_and_one_that_hangs()
    {
        var seeds = FuzzSeeds.With(FuzzSeeds.Labs, FuzzSeeds.RepoRoot(AppContext.BaseDirectory), "examples/labs");
        var throws = new FuzzRunner(input => input.Length % 3 == 0 ? throw new InvalidOperationException("boom") : true, Hang).Run(new FuzzMutator(seeds, 1), 60);
        Assert.NotEmpty(throws.Crashes);
        Assert.Contains("boom", throws.Crashes[0].What, StringComparison.Ordinal);
        var hangs = new FuzzRunner(input => { Thread.Sleep(input.Length % 7 == 0 ? 3000 : 0); return false; }, TimeSpan.FromMilliseconds(300)).Run(new FuzzMutator(seeds, 2), 30);
        Assert.NotEmpty(hangs.Hangs);
    }

    [Fact]
    public void The_mutator_is_deterministic_for_a_seed()
    {
        var seeds = FuzzSeeds.With(FuzzSeeds.Labs, FuzzSeeds.RepoRoot(AppContext.BaseDirectory), "examples/labs");
        var a = new FuzzMutator(seeds, 7);
        var b = new FuzzMutator(seeds, 7);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(a.Next(), b.Next());
        }
    }

    private static bool Read(byte[] input, string file)
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

        // Never both a lab and errors, never neither; every error has a position and a message.
        Assert.Equal(result.Lab is null, result.Errors.Count > 0);
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
        return result.IsValid;
    }

    private static string Describe(FuzzReport report) =>
        $"{report.Crashes.Count} crashes, {report.Hangs.Count} hangs:\n" + string.Join("\n", report.Crashes.Concat(report.Hangs).Take(5)
            .Select(f => $"#{f.Index}: {f.What}\n--- input ---\n{Encoding.UTF8.GetString(f.Input)[..Math.Min(2000, f.Input.Length)]}"));
}
