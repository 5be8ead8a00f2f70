using Aether.TestSupport;
using Aether.Topology;

namespace Aether.Labs.Tests.Files;

/// <summary>Every example file under <c>examples/</c> names its editor schema on its first line, is valid against
/// it by a JSON Schema library, and is read without error by the loader that schema stands for.</summary>
public sealed class ExampleSchemaTests
{
    private static readonly string Root = LabFile.RepoRoot();

    private static readonly string TopologySchema = Path.Combine(Root, "schema", "aether-topology.schema.json");

    private static readonly string LabSchema = Path.Combine(Root, "schema", "aether-lab.schema.json");

    /// <summary>Every YAML file under examples/, relative to it.</summary>
    public static TheoryData<string> Examples() => [.. Files()];

    private static IEnumerable<string> Files() =>
        Directory.EnumerateFiles(Path.Combine(Root, "examples"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Path.Combine(Root, "examples"), f))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void There_are_topology_and_lab_examples()
    {
        var examples = Files().ToList();
        Assert.Contains("aether-ctl.yaml", examples);
        Assert.Contains("router-chain.yaml", examples);
        Assert.Contains(Path.Combine("labs", "demo.yaml"), examples);
        Assert.Contains(Path.Combine("labs", "frr-ospf.yaml"), examples);
        Assert.Contains(Path.Combine("labs", "vendors.yaml"), examples);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_is_valid_against_the_schema_its_first_line_names(string example)
    {
        var path = Path.Combine(Root, "examples", example);
        var schema = EditorSchema.SchemaOf(path);
        Assert.True(schema is not null, $"{example}: the first line is not '{EditorSchema.Modeline}PATH'");
        Assert.True(File.Exists(schema), $"{example}: the schema {schema} does not exist");
        Assert.Contains(schema, new[] { TopologySchema, LabSchema });

        var problems = EditorSchema.Problems(EditorSchema.Load(schema), File.ReadAllText(path));
        Assert.True(problems.Count == 0, $"{example} against {Path.GetFileName(schema)}:\n{string.Join('\n', problems)}");

        // The loader the schema stands for reads it too (and the other one does not: the schema line is the right one).
        var asTopology = TopologyLoader.LoadFile(path);
        var asLab = LabLoader.Load(path);
        if (string.Equals(schema, LabSchema, StringComparison.Ordinal))
        {
            Assert.True(asLab.IsValid, string.Join('\n', asLab.Errors));
            Assert.False(asTopology.IsValid);
        }
        else
        {
            Assert.True(asTopology.IsValid, string.Join('\n', asTopology.Errors));
            Assert.False(asLab.IsValid);
        }
    }

    [Fact]
    public void The_schema_lines_are_relative_paths_an_editor_resolves_from_the_file()
    {
        Assert.Equal("# yaml-language-server: $schema=../schema/aether-topology.schema.json", File.ReadLines(Path.Combine(Root, "examples", "aether-ctl.yaml")).First());
        Assert.Equal("# yaml-language-server: $schema=../../schema/aether-lab.schema.json", File.ReadLines(Path.Combine(Root, "examples", "labs", "demo.yaml")).First());
    }
}
