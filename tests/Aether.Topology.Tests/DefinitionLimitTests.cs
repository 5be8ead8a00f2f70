using System.Globalization;
using System.Text;
using YamlDotNet.Core;

namespace Aether.Topology.Tests;

/// <summary>
/// YAML built to exhaust the parser (deep nesting, anchors that multiply, long scalars, many nodes): each is one error
/// naming the limit, found before YamlDotNet's recursive model is built, so the process never overflows its stack.
/// </summary>
public sealed class DefinitionLimitTests
{
    private const string Deep = "nested deeper than 64 levels of mappings and lists (the limit)";
    private const string Nodes = "more than 250000 nodes (the limit; an alias counts the nodes it stands for each time it is used)";

    private static TopologyError Refused(string yaml)
    {
        var result = TopologyLoader.Parse(yaml, "topo.yaml");
        Assert.Null(result.Topology);
        return Assert.Single(result.Errors);
    }

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    [Theory]
    [InlineData(65)]
    [InlineData(10_000)]
    [InlineData(1_000_000)]
    public void Nested_flow_lists_stop_at_level_65(int depth)
    {
        var error = Refused("name: x\nz: " + Repeat("[", depth) + Repeat("]", depth) + "\n");
        Assert.Equal(Deep, error.Message);
        Assert.Equal((2, 3 + 64), (error.Line, error.Column)); // the root mapping is level 1, z's lists 2..65
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(200_000)]
    public void Nested_flow_mappings_stop_at_level_65(int depth)
    {
        var error = Refused("name: x\nz: " + Repeat("{a: ", depth) + "1" + Repeat("}", depth) + "\n");
        Assert.Equal(Deep, error.Message);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Nested_block_mappings_stop_at_level_65()
    {
        var yaml = new StringBuilder("name: x\n");
        for (var i = 0; i < 2_000; i++)
        {
            yaml.Append(' ', i).Append("a:\n");
        }

        var error = Refused(yaml.ToString());
        Assert.Equal(Deep, error.Message);
        Assert.Equal(1 + 65, error.Line); // the 64th nested 'a:' opens level 65
    }

    [Fact]
    public void Nested_block_lists_stop_at_level_65()
    {
        var error = Refused("name: x\nz:\n" + Repeat("- ", 3_000) + "1\n");
        Assert.Equal(Deep, error.Message);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void The_guard_allows_64_levels_and_not_65(int depth, bool allowed)
    {
        var guard = DefinitionFile.Guard(new Parser(new StringReader(Repeat("[", depth) + Repeat("]", depth))));
        var drain = () =>
        {
            while (guard.MoveNext())
            {
            }
        };
        if (allowed)
        {
            drain();
        }
        else
        {
            Assert.Equal(Deep, Assert.Throws<DefinitionLimitException>(drain).Limit);
        }
    }

    [Fact]
    public void Block_mappings_10000_deep_are_refused_at_level_65_without_reading_the_rest()
    {
        // 10,000 levels of two-space indentation are 100 MB of text: generated as it is read, and never read far.
        using var reader = new NestedMappings(10_000);
        var guard = DefinitionFile.Guard(new Parser(reader));
        var e = Assert.Throws<DefinitionLimitException>(() =>
        {
            while (guard.MoveNext())
            {
            }
        });
        Assert.Equal(Deep, e.Limit);
        Assert.Equal(65, e.Start.Line);
        Assert.True(reader.Served < 100_000, $"read {reader.Served} characters");
    }

    [Fact]
    public void Billion_laughs_is_refused_by_the_node_count()
    {
        var yaml = new StringBuilder("name: x\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
        {
            var previous = (char)(c - 1);
            yaml.Append(CultureInfo.InvariantCulture, $"{c}: &{c} [{string.Join(',', Enumerable.Repeat($"*{previous}", 9))}]\n");
        }

        var error = Refused(yaml.ToString());
        Assert.Equal(Nodes, error.Message);
        Assert.Equal(7, error.Line); // f: the first whose expansion (10 + 9*...) passes 250000
    }

    [Fact]
    public void Billion_laughs_in_block_style_is_refused_by_the_node_count()
    {
        var yaml = new StringBuilder("name: x\nl0: &l0\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n  - lol\n");
        for (var i = 1; i < 10; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"l{i}: &l{i}\n");
            for (var j = 0; j < 10; j++)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"  - *l{i - 1}\n");
            }
        }

        Assert.Equal(Nodes, Refused(yaml.ToString()).Message);
    }

    [Fact]
    public void An_alias_that_would_nest_too_deep_is_refused()
    {
        var yaml = "name: x\na: &deep " + Repeat("[", 40) + Repeat("]", 40) + "\nb: " + Repeat("[", 30) + "*deep" + Repeat("]", 30) + "\n";
        Assert.Equal("alias *deep nests deeper than 64 levels of mappings and lists (the limit)", Refused(yaml).Message);
    }

    [Theory]
    [InlineData("name: x\na: &x [ *x ]\n")]
    [InlineData("name: x\na: &x { k: [ 1, { j: *x } ] }\n")]
    [InlineData("name: x\na: &x 1\nb: &x [ *x ]\n")] // the name again: the alias means the open list
    public void An_alias_inside_its_own_anchor_is_refused(string yaml) =>
        Assert.Equal("alias *x is inside the node it names (&x): a structure without end", Refused(yaml).Message);

    /// <summary>Found by the fuzzer: an alias before its anchor, as a key, sent YamlDotNet's alias resolution into a
    /// recursion that overflowed the stack (the process died; no error could be reported).</summary>
    [Theory]
    [InlineData("*a1: x\nb: &a1 true\n", "a1:")] // YAML lets an alias's name hold ':'
    [InlineData("*a1 : x\nb: &a1 true\n", "a1")]
    [InlineData("name: aether-ctl\n*a1:\n  - name: aether-ns\nlinks:\n  - name: v\n    up: &a1 true\n", "a1")]
    [InlineData("name: x\nnamespaces: [ { name: *later } ]\nz: &later ns1\n", "later")]
    [InlineData("name: x\nz: *never\n", "never")]
    [InlineData("name: x\n? [ *k ]\n: &k { a: 1 }\n", "k")]
    public void An_alias_before_its_anchor_is_refused(string yaml, string name) =>
        Assert.Equal($"alias *{name} names no anchor before it (an alias must come after its &{name})", Refused(yaml).Message);

    [Fact]
    public void Aliases_in_reasonable_use_still_work()
    {
        var result = TopologyLoader.Parse("""
            name: x
            namespaces:
              - name: &ns ns1
            links:
              - name: br0
                kind: bridge
                namespace: *ns
                mtu: &mtu 1400
              - name: br1
                kind: bridge
                namespace: *ns
                mtu: *mtu
            """, "topo.yaml");
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.All(result.Topology!.Links, l => Assert.Equal(1400, l.Mtu));
    }

    [Fact]
    public void Many_keys_are_refused_by_the_node_count()
    {
        var yaml = new StringBuilder("name: x\nz:\n");
        for (var i = 0; i < 130_000; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  k{i}: 0\n");
        }

        var error = Refused(yaml.ToString());
        Assert.Equal(Nodes, error.Message);
        Assert.Equal(3 + 124_997, error.Line); // the root, name, x, z, z's mapping: 5 nodes; then 2 per key: k124997's value is node 250001
    }

    [Fact]
    public void A_long_list_is_refused_by_the_node_count() =>
        Assert.Equal(Nodes, Refused("name: x\nz: [" + Repeat("1,", 300_000) + "1]\n").Message);

    [Theory]
    [InlineData("z: {0}\n")]
    [InlineData("z: \"{0}\"\n")]
    [InlineData("z: |\n  {0}\n")]
    [InlineData("? '{0}'\n: 1\n")]
    public void A_scalar_over_64_Ki_characters_is_refused(string shape)
    {
        var error = Refused("name: x\n" + string.Format(CultureInfo.InvariantCulture, shape, new string('a', 100_000)));
        Assert.StartsWith("a scalar of 10000", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(" characters, over the limit of 65536", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_10_MB_scalar_is_refused_by_the_size_limit()
    {
        var error = Refused("name: x\nz: " + new string('a', 10_000_000) + "\n");
        Assert.StartsWith("the definition is at least 10000012 bytes, over the limit of 4194304 bytes (4 MiB)", error.Message, StringComparison.Ordinal);
    }

    /// <summary><c>a:</c> nested <paramref name="depth"/> times in block style, produced as it is read.</summary>
    private sealed class NestedMappings(int depth) : TextReader
    {
        private int _line;
        private string _current = "";
        private int _at;

        public long Served { get; private set; }

        public override int Peek() => Fill() ? _current[_at] : -1;

        public override int Read()
        {
            if (!Fill())
            {
                return -1;
            }

            Served++;
            return _current[_at++];
        }

        private bool Fill()
        {
            if (_at < _current.Length)
            {
                return true;
            }

            if (_line >= depth)
            {
                return false;
            }

            _current = new string(' ', 2 * _line) + (_line == depth - 1 ? "a: 1\n" : "a:\n");
            _line++;
            _at = 0;
            return true;
        }
    }
}
