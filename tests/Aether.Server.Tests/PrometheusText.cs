using System.Globalization;
using System.Text.RegularExpressions;

namespace Aether.Server.Tests;

/// <summary>A strict reader of the Prometheus text exposition format 0.0.4, enough to say a scrape parses: every line
/// is a <c># HELP</c>, a <c># TYPE</c> (once per family, before its samples) or a sample of a declared family, with
/// well-formed labels and a number.</summary>
public static partial class PrometheusText
{
    public sealed class Family(string type)
    {
        public string Type { get; } = type;

        /// <summary>Samples by suffix (<c>""</c>, <c>_bucket</c>, <c>_sum</c>, <c>_count</c>) and label text.</summary>
        public Dictionary<(string Suffix, string Labels), double> Samples { get; } = [];

        /// <summary>The sum of the samples with <paramref name="suffix"/> whose labels include every one of
        /// <paramref name="labels"/> (<c>name="value"</c>); fails when there is none.</summary>
        public double Sum(string suffix, params string[] labels)
        {
            var matching = Samples.Where(s => s.Key.Suffix == suffix && labels.All(l => s.Key.Labels.Split(',').Contains(l, StringComparer.Ordinal))).ToList();
            Assert.True(matching.Count > 0, $"no sample{suffix} with {string.Join(",", labels)} in {string.Join("; ", Samples.Keys)}");
            return matching.Sum(s => s.Value);
        }

        public double Value(string labels, string suffix = "") =>
            Samples.TryGetValue((suffix, labels), out var v) ? v : throw new KeyNotFoundException($"no sample{suffix}{{{labels}}} in {string.Join("; ", Samples.Keys)}");
    }

    public static Dictionary<string, Family> Parse(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var name = line[7..].Split(' ', 2)[0];
                Assert.Matches(NameRegex(), name);
                Assert.True(helps.Add(name), "second HELP for " + name);
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                Assert.Equal(2, parts.Length);
                Assert.Contains(parts[1], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                Assert.False(families.ContainsKey(parts[0]), "second TYPE for " + parts[0]);
                families.Add(parts[0], new Family(parts[1]));
                continue;
            }

            var match = SampleRegex().Match(line);
            Assert.True(match.Success, "not a sample line: " + line);
            var sample = match.Groups["name"].Value;
            var labels = match.Groups["labels"].Value;
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            var (family, suffix) = Owner(families, sample);
            Assert.True(family is not null, "sample before its TYPE: " + line);
            if (suffix == "_bucket")
            {
                Assert.Contains("le=\"", labels, StringComparison.Ordinal);
            }

            Assert.True(family.Samples.TryAdd((suffix, labels), value), "duplicate sample: " + line);
        }

        return families;
    }

    private static (Family? Family, string Suffix) Owner(Dictionary<string, Family> families, string sample)
    {
        if (families.TryGetValue(sample, out var exact))
        {
            return (exact, "");
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sample[..^suffix.Length], out var f) && f.Type == "histogram")
            {
                return (f, suffix);
            }
        }

        return (null, "");
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex NameRegex();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")*)\})? (?<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\+Inf|-Inf|NaN)$""")]
    private static partial Regex SampleRegex();
}
