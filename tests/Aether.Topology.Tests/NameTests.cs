using System.Globalization;
using System.Text;
using Aether.Netlink.Names;

namespace Aether.Topology.Tests;

/// <summary>
/// Names the kernel, nftables or a terminal give meaning to: each is refused where the file names it, with a message
/// that names the field, says why and what is allowed, and carries no character that acts on a terminal.
/// </summary>
public sealed class NameTests
{
    private const string Allowed = "allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit";

    // ---- interface names: each class with several members ----

    [Theory]
    // the kernel's template: dev_alloc_name makes eth%d into eth0, so the name would not mean one interface
    [InlineData("eth%d", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("\"%d\"", "'%' (U+0025) is not allowed")]
    [InlineData("veth%", "'%' (U+0025) is not allowed")]
    // nftables: a trailing '*' is a wildcard, braces a set, '$' a variable, '@' a named set, quotes end a string
    [InlineData("\"eth*\"", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("\"e{1,2}\"", "'{' (U+007B) is not allowed in an interface name (nftables reads braces and commas as a set")]
    [InlineData("\"$wan\"", "'$' (U+0024) is not allowed")]
    [InlineData("\"a@b\"", "'@' (U+0040) is not allowed in an interface name (nftables reads '@' as a named set")]
    [InlineData("'a\"b'", "'\"' (U+0022) is not allowed in an interface name (a quote ends a quoted string")]
    [InlineData("\"a\\\\b\"", "'\\' (U+005C) is not allowed in an interface name (a backslash starts an escape")]
    [InlineData("\"a;b\"", "';' (U+003B) is not allowed in an interface name (nftables and shells read it as syntax)")]
    // what the kernel's dev_valid_name refuses
    [InlineData("a/b", "'/' (U+002F) is not allowed in an interface name (the kernel refuses it")]
    [InlineData("eth0:1", "':' (U+003A) is not allowed in an interface name (the kernel refuses it: ':' marks an IPv4 address label")]
    [InlineData("\"a b\"", "' ' (U+0020) is not allowed in an interface name (whitespace splits a name")]
    [InlineData(".", "'.' is refused")]
    [InlineData("..", "'..' is refused")]
    // control characters and escapes
    [InlineData("\"eth\\e[31m\"", "U+001B is not allowed in an interface name (ESC starts a terminal escape sequence")]
    [InlineData("\"eth\\x1b0\"", "U+001B is not allowed")]
    [InlineData("\"a\\nb\"", "U+000A is not allowed in an interface name (a line break")]
    [InlineData("\"a\\rb\"", "U+000D is not allowed")]
    [InlineData("\"a\\0b\"", "U+0000 is not allowed in an interface name (NUL ends a name in the kernel")]
    [InlineData("\"a\\x7fb\"", "U+007F is not allowed in an interface name (a control character acts on a terminal")]
    [InlineData("\"a\\x9bb\"", "U+009B is not allowed")]
    // invisible and direction-changing characters
    [InlineData("\"eth\\u202E0\"", "U+202E is not allowed in an interface name (an invisible formatting character (bidi override, zero-width)")]
    [InlineData("\"eth\\u200B0\"", "U+200B is not allowed in an interface name (an invisible formatting character")]
    [InlineData("\"eth\\uFEFF0\"", "U+FEFF is not allowed")]
    [InlineData("\"eth\\u00A00\"", "U+00A0 is not allowed")]
    // letters from other scripts: a Cyrillic 'е' looks like the Latin one
    [InlineData("\"\\u0435th0\"", "'е' (U+0435) is not allowed in an interface name (only ASCII")]
    [InlineData("ü0", "'ü' (U+00FC) is not allowed")]
    // tools read a leading '-' as an option
    [InlineData("-eth0", "'-' at the start is not allowed in an interface name")]
    [InlineData("_x", "'_' at the start is not allowed")]
    [InlineData(".x", "'.' at the start is not allowed")]
    public void Interface_names_with_meaning_are_refused(string yaml, string why)
    {
        var error = Load.Error($"name: x\nlinks:\n  - kind: bridge\n    name: {yaml}\n", 4, 11, "links[0].name", why);
        Assert.EndsWith(Allowed, error.Message, StringComparison.Ordinal);
        AssertPrintable(error.ToString());
    }

    [Theory]
    // lengths are bytes of UTF-8 (IFNAMSIZ 16 with the NUL), not UTF-16 characters
    [InlineData("ééééééééé", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("\"\\U0001F600\\U0001F600\\U0001F600\\U0001F600\"", "16 bytes in UTF-8 (8 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("ββββββββ", "16 bytes in UTF-8 (8 UTF-16 characters)")]
    [InlineData("a234567890123456", "16 bytes; the limit is 15")]
    public void Interface_name_lengths_are_counted_in_bytes(string yaml, string why) =>
        Load.Error($"name: x\nlinks:\n  - kind: bridge\n    name: {yaml}\n", 4, 11, "links[0].name", why);

    [Theory]
    [InlineData("peer", "name: a\n    kind: veth\n    peer: { name: \"b%d\" }\n", 5, 19, "links[0].peer.name")]
    [InlineData("master", "name: a\n    kind: bridge\n    master: \"br*\"\n", 5, 13, "links[0].master")]
    [InlineData("parent", "name: m\n    kind: macvlan\n    parent: \"eth\\e0\"\n", 5, 13, "links[0].parent")]
    public void Every_interface_field_uses_the_one_rule(string what, string link, int line, int column, string field)
    {
        var error = Load.Error("name: x\nlinks:\n  - " + link, line, column, field, "is not allowed in an interface name");
        Assert.EndsWith(Allowed, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(what);
    }

    [Theory]
    [InlineData("\"eth*\"", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("\"{eth0,eth1}\"", "'{' (U+007B) is not allowed")]
    [InlineData("eth%d", "'%' (U+0025) is not allowed")]
    [InlineData("\"eth0\\\"\"", "'\"' (U+0022) is not allowed")]
    public void The_nat_output_interface_is_an_interface_name(string yaml, string why) =>
        Load.Error($"name: x\nnamespaces:\n  - name: a\n    nat:\n      - masquerade: {{ source: 10.0.0.0/24, out: {yaml} }}\n", 5, 49, "namespaces[0].nat[0].masquerade.out", why);

    [Fact]
    public void A_route_device_is_an_interface_name() =>
        Load.Error("name: x\nroutes:\n  - to: 10.0.0.0/8\n    dev: \"eth%d\"\n", 4, 10, "routes[0].dev", "'%' (U+0025) is not allowed");

    [Theory]
    [InlineData("a23456789012345")]
    [InlineData("eth0.100")]
    [InlineData("e1-1_x.y")]
    [InlineData("0eth")]
    [InlineData("ETH0")]
    public void Edge_cases_of_the_allowed_set_are_fine(string name) =>
        Assert.Equal(name, Load.Valid($"name: x\nlinks:\n  - {{ name: {name}, kind: bridge }}\n").Links[0].Name);

    // ---- namespace names ----

    [Theory]
    [InlineData("a/b", "'/' (U+002F) is not allowed in a namespace name (a namespace is the file /run/netns/NAME")]
    [InlineData(".", "'.' is refused")]
    [InlineData("..", "'..' is refused")]
    [InlineData("\"ns\\0x\"", "U+0000 is not allowed in a namespace name (NUL")]
    [InlineData("\"ns\\e]0;x\\a\"", "U+001B is not allowed in a namespace name (ESC")]
    [InlineData("\"ns\\u202Ex\"", "U+202E is not allowed")]
    [InlineData("\"ns\\tx\"", "U+0009 is not allowed")]
    [InlineData("\"ns*\"", "'*' (U+002A) is not allowed in a namespace name")]
    [InlineData("\"-ns\"", "'-' at the start is not allowed in a namespace name")]
    [InlineData("\"ns%d\"", "'%' (U+0025) is not allowed in a namespace name")]
    public void Namespace_names_with_meaning_are_refused(string yaml, string why)
    {
        var error = Load.Error($"name: x\nnamespaces:\n  - name: {yaml}\n", 3, 11, "namespaces[0].name", why);
        Assert.EndsWith("allowed: 1-255 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit", error.Message, StringComparison.Ordinal);
        AssertPrintable(error.ToString());
    }

    [Fact]
    public void Namespace_name_lengths_are_counted_in_bytes()
    {
        Load.Error($"name: x\nnamespaces:\n  - name: {new string('é', 128)}\n", 3, 11, "namespaces[0].name", "256 bytes in UTF-8 (128 UTF-16 characters); the limit is 255 bytes");
        Load.Valid($"name: x\nnamespaces:\n  - name: {new string('n', 255)}\n");
    }

    [Fact]
    public void Namespace_references_use_the_same_rule()
    {
        Load.Error("name: x\nlinks:\n  - { name: a, kind: bridge, namespace: \"n/s\" }\n", 3, 41, "links[0].namespace", "'/' (U+002F) is not allowed in a namespace name");
        Load.Error("name: x\nroutes:\n  - { to: 10.0.0.0/8, dev: eth0, namespace: \"n\\e\" }\n", 3, 45, "routes[0].namespace", "U+001B is not allowed");
    }

    // ---- the topology's own name, and messages ----

    [Theory]
    [InlineData("\"t\\e[2J\"")]
    [InlineData("\"t\\u202E\"")]
    [InlineData("\"t\\nx\"")]
    public void The_topology_name_is_quoted_safely(string yaml)
    {
        var error = Load.Error($"name: {yaml}\n", 1, 7, "name", "invalid topology name 't\\");
        Assert.Contains("allowed: 1-48 lowercase ASCII letters", error.Message, StringComparison.Ordinal);
        AssertPrintable(error.ToString());
    }

    [Fact]
    public void Quoting_escapes_what_acts_on_a_terminal()
    {
        Assert.Equal("'eth\\u001B[31m'", NameText.Quote("eth\u001b[31m"));
        Assert.Equal("'a\\nb\\tc\\\\d\\'e'", NameText.Quote("a\nb\tc\\d'e"));
        Assert.Equal("'x\\u202Ey\\u200Bz'", NameText.Quote("x\u202ey\u200bz"));
        Assert.Equal("'\\uD800'", NameText.Quote("\ud800"));
        Assert.Equal("'été'", NameText.Quote("été"));
        Assert.Equal("'a\U0001D518b'", NameText.Quote("a\U0001D518b")); // printable beyond the BMP: its surrogate pair, as it is
        Assert.Equal("\u2713 \U0001D518 \u00B7 ok", NameText.Printable("\u2713 \U0001D518 \u00B7 ok"));
        Assert.Equal("(none)", NameText.Quote(null));
        // Whole lines keep line breaks, tabs and backslashes (JSON stays JSON) and escape the rest as JSON does.
        Assert.Equal("{\"a\":\"x\\u001B\\n\"}\n\tb", NameText.Printable("{\"a\":\"x\u001b\\n\"}\n\tb"));
        Assert.Equal("\\uDB40\\uDC01", NameText.Printable("\U000E0001"));
    }

    [Theory]
    [InlineData("eth0")]
    [InlineData("a23456789012345")]
    [InlineData("a234567890123456")]
    [InlineData("eth0.100")]
    [InlineData("eth%d")]
    [InlineData("eth*")]
    [InlineData("-eth")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a b")]
    [InlineData("ééé")]
    [InlineData("a\u202eb")]
    [InlineData("a@b")]
    [InlineData("A_b-c.d")]
    public void The_schema_says_what_the_rules_say(string name)
    {
        // Editors check with the schema; its patterns must accept exactly what the loader does (ASCII only, so
        // the schema's length in characters is the rule's length in bytes).
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Load.RepoRoot(), "schema", "aether-topology.schema.json")));
        var defs = doc.RootElement.GetProperty("$defs");
        static bool Schema(System.Text.Json.JsonElement def, string value) =>
            value.Length >= def.GetProperty("minLength").GetInt32() && value.Length <= def.GetProperty("maxLength").GetInt32()
            && System.Text.RegularExpressions.Regex.IsMatch(value, def.GetProperty("pattern").GetString()!, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.Equal(InterfaceNameRule.IsValid(name, out _), Schema(defs.GetProperty("interfaceName"), name));
        Assert.Equal(NamespaceNameRule.IsValid(name, out _), Schema(defs.GetProperty("namespaceName"), name));
    }

    /// <summary>No character that acts on a terminal or hides: controls (other than none at all), format
    /// characters, separators other than the space.</summary>
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
