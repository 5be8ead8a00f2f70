using System.Globalization;
using System.Text;
using Aether.Netlink.Names;

namespace Aether.Labs.Tests.Files;

/// <summary>
/// Names in a lab file and in interface profiles that the kernel, nftables or a terminal give meaning to: refused
/// with the field, the reason and what is allowed, the message safe to print.
/// </summary>
public sealed class NameTests
{
    private const string Allowed = "allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit";
    private const string Nodes = "nodes:\n  r1: { kind: arista_ceos }\n  h1: { kind: linux }\n";

    [Theory]
    [InlineData("h1:eth%d", "'eth%d': '%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("h1:eth*", "'eth*': '*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("h1:a@b", "'a@b': '@' (U+0040) is not allowed")]
    [InlineData("h1:e{1}", "'e{1}': '{' (U+007B) is not allowed")]
    [InlineData("h1:$x", "'$x': '$' (U+0024) is not allowed")]
    [InlineData("h1:eth\\e[31m", "'eth\\u001B[31m': U+001B is not allowed in an interface name (ESC starts a terminal escape sequence")]
    [InlineData("h1:eth\\u202E1", "'eth\\u202E1': U+202E is not allowed in an interface name (an invisible formatting character")]
    [InlineData("h1:eth\\u200B1", "U+200B is not allowed")]
    [InlineData("h1:eth\\x7f", "U+007F is not allowed")]
    [InlineData("h1:\\u0435th1", "'е' (U+0435) is not allowed in an interface name (only ASCII")]
    [InlineData("h1:ééééééééé", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("h1:-eth1", "'-' at the start is not allowed")]
    public void An_endpoint_name_with_meaning_is_refused(string endpoint, string why)
    {
        var error = LabFile.Error($"name: x\n{Nodes}links:\n  - endpoints: [\"r1:eth1\", \"{endpoint}\"]\n", 6, 28, "links[0].endpoints[1]", why);
        Assert.StartsWith("links[0].endpoints[1]: node h1: '", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(Allowed, error.Message, StringComparison.Ordinal);
        AssertPrintable(error.ToString());
    }

    [Theory]
    [InlineData("r1:Eth\\e1", "'Eth\\u001B1' is not an interface name of kind arista_ceos")]
    [InlineData("r9\\e:eth1", "node 'r9\\u001B' is not in nodes")]
    [InlineData("r1\\u202E", "'r1\\u202E' is not node:interface")]
    public void Names_echoed_in_messages_are_quoted_safely(string endpoint, string why)
    {
        var error = LabFile.Error($"name: x\n{Nodes}links:\n  - endpoints: [\"r1:eth1\", \"{endpoint}\"]\n", 6, 28, "links[0].endpoints[1]", why);
        AssertPrintable(error.ToString());
    }

    [Theory]
    [InlineData("ns\\e]0;x\\a", "U+001B is not allowed in a namespace name (ESC")]
    [InlineData("ns%d", "'%' (U+0025) is not allowed in a namespace name")]
    [InlineData("n/s", "'/' (U+002F) is not allowed in a namespace name (a namespace is the file /run/netns/NAME")]
    [InlineData("ns\\0", "U+0000 is not allowed in a namespace name (NUL")]
    [InlineData("ns\\u202E", "U+202E is not allowed")]
    [InlineData("ns*", "'*' (U+002A) is not allowed")]
    [InlineData(".", "'.' is refused")]
    public void A_node_namespace_with_meaning_is_refused(string ns, string why)
    {
        var error = LabFile.Error($"name: x\nnodes:\n  r1: {{ kind: linux, namespace: \"{ns}\" }}\n", 3, 33, "nodes.r1.namespace", why);
        Assert.EndsWith("allowed: 1-255 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit", error.Message, StringComparison.Ordinal);
        AssertPrintable(error.ToString());
    }

    [Theory]
    [InlineData("name: \"x\\e[2J\"\nnodes:\n  r1: { kind: linux }\n", 1, 7, "name", "invalid lab name 'x\\u001B[2J'")]
    [InlineData("name: \"x\\u202E\"\nnodes:\n  r1: { kind: linux }\n", 1, 7, "name", "invalid lab name 'x\\u202E'")]
    [InlineData("name: x\nnodes:\n  \"r\\e1\": { kind: linux }\n", 3, 3, "nodes.r\\u001B1", "invalid node name 'r\\u001B1'")]
    public void Lab_and_node_names_are_quoted_safely(string yaml, int line, int column, string field, string why)
    {
        var error = LabFile.Error(yaml, line, column, field, why);
        Assert.Contains("allowed: 1-", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", NameText.Printable(error.ToString()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("e%{n}", "its first name 'e%0': '%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("e*{n}", "its first name 'e*0': '*' (U+002A) is not allowed")]
    [InlineData("e@{n}", "its first name 'e@0': '@' (U+0040) is not allowed")]
    [InlineData("é{n}", "its first name 'é0': 'é' (U+00E9) is not allowed")]
    [InlineData("-e{n}", "its first name '-e0': '-' at the start is not allowed")]
    public void A_profile_whose_linux_names_have_meaning_is_refused(string linux, string why)
    {
        var result = InterfaceProfiles.Parse($"kinds:\n  x:\n    interfaces:\n      - vendor: 'A{{n}}'\n        linux: \"{linux}\"\n", "profiles.yaml");
        Assert.Null(result.Profiles);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("kinds.x.interfaces[0].linux: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.EndsWith(Allowed, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_that_would_map_to_a_long_name_is_refused_at_the_endpoint()
    {
        var profiles = InterfaceProfiles.Parse("kinds:\n  x:\n    interfaces:\n      - vendor: 'Port{n}'\n        linux: 'port-long-{n}'\n", "profiles.yaml");
        Assert.True(profiles.IsValid, string.Join('\n', profiles.Errors));
        var result = LabFile.Parse("name: x\nnodes:\n  a: { kind: x }\n  b: { kind: x }\nlinks:\n  - endpoints: [\"a:Port1\", \"b:Port100000\"]\n", profiles.Profiles);
        var error = Assert.Single(result.Errors);
        Assert.Equal((6, 28), (error.Line, error.Column));
        Assert.StartsWith("links[0].endpoints[1]: node b: 'Port100000' would be the Linux name 'port-long-100000': 16 bytes; the limit is 15", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(Allowed, error.Message, StringComparison.Ordinal);
        Assert.Empty(LabFile.Parse("name: x\nnodes:\n  a: { kind: x }\n  b: { kind: x }\nlinks:\n  - endpoints: [\"a:Port1\", \"b:Port10000\"]\n", profiles.Profiles).Errors);
    }

    [Theory]
    [InlineData("h1:a23456789012345", "a23456789012345")]
    [InlineData("h1:eth0.100", "eth0.100")]
    [InlineData("h1:e1-1_a", "e1-1_a")]
    public void Edge_cases_of_the_allowed_set_are_fine(string endpoint, string linux)
    {
        var lab = LabFile.Valid($"name: x\n{Nodes}links:\n  - endpoints: [\"r1:eth1\", \"{endpoint}\"]\n");
        Assert.Contains(linux, new[] { lab.Links[0].A.Linux, lab.Links[0].B.Linux });
    }

    [Fact]
    public void A_namespace_with_dots_and_dashes_is_fine() =>
        Assert.Equal("my.ns-1_a", LabFile.Valid("name: x\nnodes:\n  r1: { kind: linux, namespace: my.ns-1_a }\n").Nodes[0].Namespace);

    private static void AssertPrintable(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            Assert.True(rune.Value == ' ' || (Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)),
                $"{NameText.CodePoint(rune)} in: {NameText.Printable(text)}");
        }
    }
}
