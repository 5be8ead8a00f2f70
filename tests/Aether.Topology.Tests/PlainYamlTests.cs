using System.Globalization;
using System.Text;
using Aether.Bench;

namespace Aether.Topology.Tests;

/// <summary>
/// <see cref="PlainYaml"/> against YamlDotNet's representation model: whatever text it reads, the model reads the
/// same (node kinds, values, styles, start index, line and column, children in order), and the model does not refuse
/// it; what it does not read goes to YamlDotNet. Checked on the shapes definitions are written in, generated with
/// random spacing, indentation, comments and flow or block style, then with up to three characters changed or
/// inserted (quotes, colons, tabs, indicators, spaces, line breaks) so that most are near misses.
/// </summary>
public sealed class PlainYamlTests
{
    /// <summary>Characters that YAML gives a meaning, put into generated files.</summary>
    private const string Disturbances = ":#- ,[]{}?&*!|>%@`'\"\t\r\n.~+/_0:  -\n\n   ";

    [Fact]
    public void A_generated_topology_is_read_as_the_model_reads_it()
    {
        var text = Generated(3);
        Assert.NotNull(PlainYaml.Read(text));
        AssertSame(text);
    }

    [Fact]
    public void Random_plain_files_and_their_near_misses_are_read_as_the_model_reads_them()
    {
        var random = new Random(20_240_613);
        var (read, notRead) = (0, 0);
        for (var i = 0; i < 4000; i++)
        {
            var text = new Document(random).Text();
            for (var m = random.Next(0, 4); m > 0; m--)
            {
                var at = random.Next(text.Length + 1);
                var c = Disturbances[random.Next(Disturbances.Length)];
                text = random.Next(2) == 0 || at == text.Length ? text.Insert(at, c.ToString()) : text.Remove(at, 1).Insert(at, c.ToString());
            }

            if (AssertSame(text))
            {
                read++;
            }
            else
            {
                notRead++;
            }
        }

        // Both ways are taken, each often (a quarter of the files are left as generated).
        Assert.InRange(read, 1000, 3500);
        Assert.InRange(notRead, 500, 3000);
    }

    [Fact]
    public void Mutated_topologies_are_read_as_the_model_reads_them()
    {
        var seeds = FuzzSeeds.With(FuzzSeeds.Topologies, Load.RepoRoot(), "examples");
        seeds.Add(Generated(4));
        var mutator = new FuzzMutator(seeds, 77);
        var read = 0;
        foreach (var text in seeds.Concat(Enumerable.Range(0, 3000).Select(_ => Encoding.UTF8.GetString(mutator.Next()))))
        {
            read += AssertSame(text) ? 1 : 0;
        }

        // The fuzzer writes most of its files with quotes or marks, which are not the plain shape: few are read here.
        Assert.InRange(read, 10, 3000);
    }

    [Theory]
    [InlineData("name: x\n")]
    [InlineData("# c\n  name: x\n  links: []\n\n")]
    [InlineData("name: x\nnamespaces:\n- name: a\n- {name: b}\nlinks: [ ]\n")] // a list at its key's indentation
    [InlineData("name: x\nnamespaces:\n  -   name: a\n      sysctls: {net.ipv4.ip_forward: 1,a.b: ~}\n")]
    [InlineData("name: x\nlinks:\n  - peer:\n      addresses: [a,b , c]   # c\n    up: true\n")]
    [InlineData("name: x # c\nnamespaces:    # c\n    # c\n  - name: a\n")]
    public void A_plain_file_is_read_as_the_model_reads_it(string yaml)
    {
        Assert.NotNull(PlainYaml.Read(yaml));
        AssertSame(yaml);
    }

    [Theory]
    [InlineData("")]
    [InlineData("- a\n")] // not a mapping at the top
    [InlineData("name:\n")] // no value
    [InlineData("name: a b\n")] // a space inside a word
    [InlineData("name: 'x'\n")]
    [InlineData("name: x\nname: y\n")] // a key twice: YamlDotNet refuses it
    [InlineData("name: &a x\n")]
    [InlineData("name: !!str x\n")]
    [InlineData("name: x\r\n")]
    [InlineData("name:\tx\n")]
    [InlineData("name: fd00::1/64\n")]
    [InlineData("name: [a,\n  b]\n")] // a flow list over two lines
    [InlineData("name: [a, ]\n")]
    [InlineData("name: x\n---\nname: y\n")]
    [InlineData("name: x\n  more: y\n")]
    [InlineData("name: x#c\n")]
    [InlineData("name: caf\u00e9\n")]
    public void A_file_of_another_shape_is_left_to_YamlDotNet(string yaml)
    {
        Assert.Null(PlainYaml.Read(yaml));
        AssertSame(yaml);
    }

    [Fact]
    public void Nesting_and_size_beyond_the_limits_are_left_to_YamlDotNet()
    {
        var deep = "name: x\nz: " + new string('[', 65) + new string(']', 65) + "\n";
        Assert.Null(PlainYaml.Read(deep));
        var justDeepEnough = "name: x\nz: " + new string('[', 63) + new string(']', 63) + "\n";
        Assert.NotNull(PlainYaml.Read(justDeepEnough));
        Assert.Null(PlainYaml.Read("name: " + new string('a', DefinitionFile.MaxScalarLength + 1) + "\n"));
        Assert.Null(PlainYaml.Read("name: x\nz: [" + string.Join(", ", Enumerable.Repeat("a", DefinitionFile.MaxNodes)) + "]\n"));
    }

    /// <summary>Asserts that when <see cref="PlainYaml"/> reads <paramref name="yaml"/>, YamlDotNet's model reads the
    /// same nodes; returns whether it read it.</summary>
    private static bool AssertSame(string yaml)
    {
        if (PlainYaml.Read(yaml) is not { } root)
        {
            return false;
        }

        var expected = NodeText.Outcome(() => DefinitionTree.FromModel(DefinitionTreeTests.Open(yaml)));
        var actual = NodeText.Outcome(() => [root]);
        Assert.True(string.Equals(expected, actual, StringComparison.Ordinal), $"read differently:\n{yaml}\n--- model ---\n{expected}\n--- plain ---\n{actual}");
        return true;
    }

    /// <summary>What <c>examples/generate-topology.sh N gen</c> prints.</summary>
    private static string Generated(int n)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"# Generated by examples/generate-topology.sh {n} gen\nname: gen-topology\nnamespaces:\n");
        for (var i = 1; i <= n; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"  - name: gen{i}\n");
        }

        text.Append("links:\n");
        for (var i = 1; i <= n; i++)
        {
            var b = (i - 1) * 4;
            text.Append(CultureInfo.InvariantCulture, $"  - name: gen-h{i}\n    kind: veth\n    addresses: [10.128.{b / 256}.{(b % 256) + 1}/30]\n");
            text.Append(CultureInfo.InvariantCulture, $"    peer: {{ name: eth0, namespace: gen{i}, addresses: [10.128.{b / 256}.{(b % 256) + 2}/30] }}\n");
        }

        return text.ToString();
    }

    /// <summary>A random file of the plain shape: a mapping at the top, nested block and flow collections, words of
    /// every kind of character a word may hold, random indentation, spacing, comments and blank lines.</summary>
    private sealed class Document(Random random)
    {
        private const string Start = "abcxyzABZ0123456789_/~";
        private const string Part = "abz09_/~.-+";
        private readonly StringBuilder _text = new();

        public string Text()
        {
            Comments(0);
            Mapping(random.Next(0, 2) * random.Next(1, 4), depth: 0);
            return _text.ToString();
        }

        private string Word()
        {
            var word = new StringBuilder().Append(Start[random.Next(Start.Length)]);
            for (var i = random.Next(0, 6); i > 0; i--)
            {
                word.Append(Part[random.Next(Part.Length)]);
            }

            return word.ToString();
        }

        private string Spaces(int most) => new(' ', random.Next(1, most + 1));

        private void Comments(int indent)
        {
            while (random.Next(5) == 0)
            {
                _text.Append(random.Next(2) == 0 ? "\n" : new string(' ', random.Next(0, indent + 3)) + "# " + Word() + "\n");
            }
        }

        private void LineEnd() => _text.Append(random.Next(6) == 0 ? Spaces(3) + "# " + Word() + " : -\n" : random.Next(6) == 0 ? "  \n" : "\n");

        private void Mapping(int indent, int depth, bool firstOnLine = false)
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (var i = random.Next(1, 5); i > 0; i--)
            {
                var key = Word();
                if (!keys.Add(key))
                {
                    continue;
                }

                if (!firstOnLine)
                {
                    _text.Append(' ', indent);
                }

                firstOnLine = false;
                _text.Append(key).Append(':');
                var kind = depth >= 3 ? 0 : random.Next(5);
                if (kind <= 1)
                {
                    _text.Append(Spaces(3)).Append(kind == 0 ? Word() : Flow(depth));
                    LineEnd();
                }
                else
                {
                    LineEnd();
                    Comments(indent);
                    var inner = indent + random.Next(1, 4);
                    if (kind == 2)
                    {
                        Mapping(inner, depth + 1);
                    }
                    else
                    {
                        List(kind == 3 ? inner : indent, depth + 1); // the other: a list at the key's indentation
                    }
                }

                Comments(indent);
            }
        }

        private void List(int indent, int depth)
        {
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                _text.Append(' ', indent).Append('-');
                var spaces = Spaces(3);
                _text.Append(spaces);
                switch (depth >= 3 ? 0 : random.Next(3))
                {
                    case 0:
                        _text.Append(Word());
                        LineEnd();
                        break;
                    case 1:
                        _text.Append(Flow(depth));
                        LineEnd();
                        break;
                    default:
                        Mapping(indent + 1 + spaces.Length, depth + 1, firstOnLine: true);
                        break;
                }

                Comments(indent);
            }
        }

        private string Flow(int depth)
        {
            var sep = random.Next(3) == 0 ? "," : "," + Spaces(2);
            var pad = random.Next(2) == 0 ? "" : " ";
            var count = random.Next(0, 4);
            if (random.Next(2) == 0)
            {
                var items = Enumerable.Range(0, count).Select(_ => depth < 4 && random.Next(4) == 0 ? Flow(depth + 1) : Word());
                return "[" + pad + string.Join(sep, items) + pad + "]";
            }

            var pairs = Enumerable.Range(0, count).Select(i => $"k{i}{Word()}:{Spaces(2)}{(depth < 4 && random.Next(4) == 0 ? Flow(depth + 1) : Word())}");
            return "{" + pad + string.Join(sep, pairs) + pad + "}";
        }
    }
}
