using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Aether.Cli.Tests;

/// <summary>
/// Names the kernel, nftables or a terminal give meaning to, end to end through the real binary: <c>apply</c> exits 2
/// naming the field, the reason and what is allowed, prints no character that acts on a terminal, and nothing
/// changes (<c>ip -j link</c>, <c>ip -j netns</c>, the state directory). Names at the edge of what is allowed (15
/// bytes, with '.' and '-') still reach the kernel and nftables exactly as written.
/// </summary>
public sealed class NameTests : CliTest
{
    public static TheoryData<string, string, string> BadNames => new()
    {
        // where in the topology (a replacement of the aether-ctl case), the field, what the message says
        { "link %d", "links[0].name", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template" },
        { "link *", "links[0].name", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard" },
        { "link @", "links[0].name", "'@' (U+0040) is not allowed in an interface name" },
        { "link ESC", "links[0].name", "U+001B is not allowed in an interface name (ESC starts a terminal escape sequence" },
        { "link bidi", "links[0].name", "U+202E is not allowed in an interface name (an invisible formatting character" },
        { "link zero-width", "links[0].name", "U+200B is not allowed in an interface name" },
        { "link multi-byte", "links[0].name", "bytes in UTF-8 (13 UTF-16 characters); the limit is 15 bytes" },
        { "link colon", "links[0].name", "':' (U+003A) is not allowed in an interface name (the kernel refuses it" },
        { "peer braces", "links[0].peer.name", "'{' (U+007B) is not allowed in an interface name (nftables reads braces" },
        { "namespace slash", "namespaces[0].name", "'/' (U+002F) is not allowed in a namespace name (a namespace is the file /run/netns/NAME" },
        { "namespace newline", "namespaces[0].name", "U+000A is not allowed in a namespace name (a line break" },
        { "namespace dot-dot", "namespaces[0].name", "'..' is refused" },
        { "nat out wildcard", "namespaces[0].nat[0].masquerade.out", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard" },
        { "nat out set", "namespaces[0].nat[0].masquerade.out", "'{' (U+007B) is not allowed" },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task A_name_with_meaning_exits_2_and_changes_nothing(string which, string field, string why)
    {
        var yaml = Bad(which);
        Assert.NotEqual(CtlYaml(), yaml);
        var file = Write("bad.yaml", yaml);
        Assert.Equal(string.Empty, await SnapshotAsync());

        foreach (var command in new[] { "apply", "diff", "apply --dry-run" })
        {
            var result = await AetherAsync(command, file);
            Assert.True(result.Code == 2, command + ": " + result);
            Assert.Matches(new Regex("^" + Regex.Escape(file) + @":\d+:\d+: " + Regex.Escape(field) + ": ", RegexOptions.Multiline), result.Stderr);
            Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
            Assert.Contains("allowed: 1-", result.Stderr, StringComparison.Ordinal);
            AssertPrintable(result.Stderr);
            Assert.Equal(string.Empty, result.Stdout);
        }

        // Nothing with the test's prefix in the kernel, and no record in the state directory.
        Assert.Equal(string.Empty, await SnapshotAsync());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
        var state = Path.Combine(Dir, "state");
        Assert.True(!Directory.Exists(state) || !Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories).Any(),
            "the state directory holds: " + (Directory.Exists(state) ? string.Join(", ", Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories)) : ""));
    }

    [Fact]
    public async Task Names_at_the_edge_reach_the_kernel_and_nftables_as_written()
    {
        // 15 bytes with '.' and '-' on both ends of a veth, and a namespace name with both too.
        var host = Box.TrackHostLink(Box.Token + "h.1-abc");
        var peer = Box.Token + "p.2-cde";
        var ns = Box.Token + "-n.s_1";
        Box.TrackNamespace(ns);
        Assert.Equal(15, Encoding.UTF8.GetByteCount(host));
        Assert.Equal(15, Encoding.UTF8.GetByteCount(peer));
        var file = Write("edge.yaml", $$"""
            name: {{Box.Token}}
            namespaces:
              - name: {{ns}}
                nat:
                  - masquerade: { source: 10.214.0.0/30, out: {{peer}} }
            links:
              - name: {{host}}
                kind: veth
                peer: { name: {{peer}}, namespace: {{ns}}, addresses: [10.214.0.2/30] }
            """);

        var applied = await AetherAsync("apply", file);
        Assert.True(applied.Code == 0, applied.ToString());
        Assert.Contains(ns, await Ip.NetnsNamesAsync());
        Assert.Equal(host, Ip.Str(await Ip.RequireLinkAsync(null, host), "ifname"));
        Assert.Equal(peer, Ip.Str(await Ip.RequireLinkAsync(ns, peer), "ifname"));

        // nftables holds the output interface as one exact name, not a pattern.
        var (code, rules, error) = await Ip.RunInAsync(ns, "nft", "-j", "list", "ruleset");
        Assert.True(code == 0, error);
        Assert.Contains($"\"right\": \"{peer}\"", rules.Replace("\":\"", "\": \"", StringComparison.Ordinal), StringComparison.Ordinal);

        var again = await AetherAsync("apply", file);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Contains("in sync", again.Stdout, StringComparison.Ordinal);

        var destroyed = await AetherAsync("destroy", file);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.DoesNotContain(ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(null, host));
    }

    [Fact]
    public async Task Ns_add_refuses_names_with_meaning_and_creates_nothing()
    {
        foreach (var (name, why) in new[]
        {
            (Box.Token + "/x", "'/' (U+002F) is not allowed in a namespace name"),
            (Box.Token + "\u001b[31m", "U+001B is not allowed in a namespace name"),
            (Box.Token + "\u202e", "U+202E is not allowed"),
            (Box.Token + "*", "'*' (U+002A) is not allowed"),
        })
        {
            var result = await Cli.RunAsync("ns", "add", name);
            Assert.True(result.Code == 2, result.ToString());
            Assert.Contains("invalid namespace name '" + Box.Token, result.Stderr, StringComparison.Ordinal);
            Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
            AssertPrintable(result.Stderr);
        }

        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("w*", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("w%d", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("w\u001b", "U+001B is not allowed in an interface name (ESC")]
    [InlineData("wireguard-hub", "17 bytes; the limit is 15")]
    public async Task Serve_refuses_a_wireguard_prefix_with_meaning_before_it_starts(string prefix, string why)
    {
        var socket = Path.Combine(Dir, "aether.sock");
        var result = await Cli.RunAsync("serve", "--socket", socket, "--db", Path.Combine(Dir, "aether.db"), "--wireguard-prefix", prefix);
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("--wireguard-prefix '", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
        AssertPrintable(result.Stderr);
        Assert.False(System.IO.File.Exists(socket));
        Assert.False(System.IO.File.Exists(Path.Combine(Dir, "aether.db")));
    }

    [Fact]
    public async Task A_namespace_another_program_named_with_escapes_is_listed_escaped()
    {
        // ip netns takes any file name; the kernel's names may hold ESC and bidi characters. Listing must not let
        // them act on the terminal.
        var name = Box.Token + "\u001b[31m\u202ex";
        Box.TrackNamespace(name);
        await Ip.RunAsync("netns", "add", name);

        var listed = await Cli.RunAsync("ns", "list");
        Assert.True(listed.Code == 0, listed.ToString());
        Assert.Contains(Box.Token + "\\u001B[31m\\u202Ex", listed.Stdout, StringComparison.Ordinal);
        AssertPrintable(listed.Stdout);

        // As JSON the name is the exact name (JSON's own escapes), and still nothing raw reaches the terminal.
        var json = await Cli.RunAsync("ns", "list", "-o", "json");
        Assert.True(json.Code == 0, json.ToString());
        AssertPrintable(json.Stdout);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Contains(doc.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == name);
    }

    private string Bad(string which)
    {
        var yaml = CtlYaml();
        string Link(string name) => yaml.Replace($"name: {HostEnd}\n", $"name: \"{name}\"\n", StringComparison.Ordinal);
        string Namespace(string name) => yaml.Replace($"namespaces:\n  - name: {Ns}\n", $"namespaces:\n  - name: \"{name}\"\n", StringComparison.Ordinal);
        string Nat(string output) => yaml.Replace($"  - name: {Ns}\n", $"  - name: {Ns}\n    nat:\n      - masquerade: {{ source: 10.213.0.0/30, out: \"{output}\" }}\n", StringComparison.Ordinal);
        return which switch
        {
            "link %d" => Link(Box.Token + "%d"),
            "link *" => Link(Box.Token + "*"),
            "link @" => Link(Box.Token + "@x"),
            "link ESC" => Link(Box.Token + "\\e[31m"),
            "link bidi" => Link(Box.Token + "\\u202E1"),
            "link zero-width" => Link(Box.Token + "\\u200B1"),
            "link multi-byte" => Link(Box.Token + "ééééé"),
            "link colon" => Link(Box.Token + ":1"),
            "peer braces" => yaml.Replace($"peer: {{ name: {Peer},", $"peer: {{ name: \"{Box.Token}{{a,b}}\",", StringComparison.Ordinal),
            "namespace slash" => Namespace(Box.Token + "/x"),
            "namespace newline" => Namespace(Box.Token + "\\nx"),
            "namespace dot-dot" => Namespace(".."),
            "nat out wildcard" => Nat("eth*"),
            "nat out set" => Nat("{eth0,eth1}"),
            _ => throw new ArgumentOutOfRangeException(nameof(which), which, null),
        };
    }

    /// <summary>No control or formatting character (other than line breaks between lines) reaches the terminal.</summary>
    private static void AssertPrintable(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            Assert.True(rune.Value is '\n' or ' ' || category is not (UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator),
                string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4} in the output"));
        }
    }
}
