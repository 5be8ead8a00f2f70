using System.Globalization;
using System.Text;
using Aether.Bench;
using YamlDotNet.Core;

namespace Aether.Topology.Tests;

/// <summary>
/// <see cref="DefinitionTree"/>'s one pass against YamlDotNet's representation model (<see cref="DefinitionTree.FromModel"/>,
/// what the readers read before): for every input, the same nodes (kind, position, value, style, children in order)
/// or the same exception (type, both positions, message); and a plain file read once, anything else twice.
/// </summary>
public sealed class DefinitionTreeTests
{
    public static TheoryData<string> Cases()
    {
        var sysctls = string.Concat(Enumerable.Range(0, 20).Select(i => $"      net.ipv4.conf.all.k{i}: {i}\n"));
        var many = "name: t\nnamespaces:\n  - name: a\n    sysctls:\n" + sysctls;
        var flow = "name: x\nlinks:\n  - {" + string.Join(", ", Enumerable.Range(0, 20).Select(i => $"k{i}: v"));
        return new TheoryData<string>
        {
            "",
            "# only a comment\n",
            "---\n",
            "---\n---\n",
            "name: x\n...\n---\nname: y\n...\n",
            many,
            many + "      net.ipv4.conf.all.k3: 9\n", // a duplicate found by comparing with each earlier key
            many + "      net.ipv4.conf.all.k17: 9\n", // ... and through the set, past 16 keys
            many + "      net.ipv4.conf.all.k17: [\n", // the value's error comes before the duplicate
            flow + ", k5: w}\n",
            flow + ", k19: w}\n",
            "name: x\nname: y\n: [\n", // the parser's error at the event after the duplicate's value comes first
            "name: x\nname: [a, b\n",
            "name: x\n\"name\": y\n",
            "name: x\n!!str name: y\nnamespaces: []\n", // keys that differ in tag are two keys for the model
            "name: &n x\nnamespaces: [{name: *n}]\n",
            "name: &n x\n---\nname: *n\n", // an anchor of another document
            "name: &n x\n---\nfoo: [*n]\n",
            "name: &n x\n---\n*n\n",
            "a: &x [ &x 1, *x ]\nb: *x\nname: y\n", // an anchor named again inside its node
            "? [a]\n: b\nname: x\n",
            "? {a: 1}\n: b\n? {a: 1}\n: c\n", // equal mappings as keys
            "&k name: x\nnamespaces: []\n",
            "name: x\n*k : y\n",
            "name: !!str x\nnamespaces: [ !foo {name: a} ]\n",
            "name: 'x'\nnamespaces: [ ~, null, {name: \"b\"} ]\nlinks: |\n  text\nroutes: >\n  folded\n",
            "name: x\nz: " + new string('[', 70) + new string(']', 70) + "\n",
            "name: !<> x\n",
            "name: x\nlinks: [ { name: a, kind: bri",
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_case_reads_as_the_model_reads_it(string yaml) => AssertSame(yaml);

    [Fact]
    public void Mutated_topologies_read_as_the_model_reads_them()
    {
        var seeds = FuzzSeeds.With(FuzzSeeds.Topologies, Load.RepoRoot(), "examples");
        var mutator = new FuzzMutator(seeds, 1616);
        var (once, twice) = (0, 0);
        foreach (var text in seeds.Concat(Enumerable.Range(0, 3000).Select(_ => Encoding.UTF8.GetString(mutator.Next()))))
        {
            if (AssertSame(text) == 1)
            {
                once++;
            }
            else
            {
                twice++;
            }
        }

        // Both ways are taken: most mutations stay plain, some gain anchors, aliases or tags.
        Assert.InRange(once, 1500, 3100);
        Assert.InRange(twice, 10, 1500);
    }

    [Fact]
    public void A_plain_file_is_read_once_and_one_with_an_anchor_twice()
    {
        Assert.Equal(1, AssertSame(File.ReadAllText(Path.Combine(Load.RepoRoot(), "examples", "router-chain.yaml"))));
        Assert.Equal(2, AssertSame("name: &n x\nnamespaces: [{name: *n}]\n"));
    }

    /// <summary>Asserts the one pass gives what the model gives; returns how many times the text was parsed.</summary>
    private static int AssertSame(string yaml)
    {
        var opened = 0;
        var expected = NodeText.Outcome(() => DefinitionTree.FromModel(Open(yaml)));
        var actual = NodeText.Outcome(() => DefinitionTree.Load(() =>
        {
            opened++;
            return Open(yaml);
        }));
        Assert.Equal(expected, actual);
        return opened;
    }

    internal static IParser Open(string yaml) => DefinitionFile.Guard(new Parser(new StringReader(yaml)));
}
