using System.Text.Json;
using Aether.Netlink;
using Aether.Netlink.Protocol;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Nftables.Tests;

/// <summary>The nftables model without libnftables or a kernel: rule validation and the masquerade helper's JSON,
/// the canonical form, reading list output, the transaction a replace sends, the errno found in libnftables' text,
/// and the decoding of nf_tables announcements.</summary>
public sealed class NftablesModelTests
{
    // Printed by `nft -j list table inet t` (nftables 1.0.6, Debian 12) after `nft add table inet t; nft add chain
    // inet t c; nft add rule inet t c accept`, with a second table's items mixed in by hand.
    private const string Listed = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
         {"table": {"family": "inet", "name": "t", "handle": 2}},
         {"chain": {"family": "inet", "table": "t", "name": "c", "handle": 1}},
         {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 2, "expr": [{"accept": null}]}},
         {"table": {"family": "ip", "name": "t", "handle": 3}},
         {"chain": {"family": "ip", "table": "t", "name": "other", "handle": 1}}]}
        """;

    [Theory]
    [InlineData("{}", "want a non-empty JSON array")]
    [InlineData("[]", "want a non-empty JSON array")]
    [InlineData("[1]", "statement #1 is not an object with one key")]
    [InlineData("""[{"accept":null,"drop":null}]""", "statement #1 is not an object with one key")]
    [InlineData("[{", "not JSON")]
    public void Raw_rules_must_be_arrays_of_statements(string json, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => NftRule.FromJson(json));
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_order_and_whitespace_do_not_matter()
    {
        var a = NftRule.FromJson("""[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth0"}},{"accept":null}]""");
        var b = NftRule.FromJson("""
            [ { "match": { "right": "eth0", "left": { "meta": { "key": "iifname" } }, "op": "==" } },
              { "accept": null } ]
            """);
        Assert.Equal(a.Expressions, b.Expressions);
        Assert.Equal("""[{"match":{"left":{"meta":{"key":"iifname"}},"op":"==","right":"eth0"}},{"accept":null}]""", a.Expressions);
        Assert.Throws<ArgumentException>(() => NftRule.FromJson("""[{"accept":null}]""", new string('x', 129)));
    }

    [Theory]
    [InlineData("10.0.0.0/24", "eth0", """{"match":{"left":{"payload":{"field":"saddr","protocol":"ip"}},"op":"==","right":{"prefix":{"addr":"10.0.0.0","len":24}}}}""")]
    [InlineData("10.0.0.7/32", "eth0", """{"match":{"left":{"payload":{"field":"saddr","protocol":"ip"}},"op":"==","right":"10.0.0.7"}}""")]
    [InlineData("0.0.0.0/0", "eth0", """{"match":{"left":{"meta":{"key":"nfproto"}},"op":"==","right":"ipv4"}}""")]
    [InlineData("fd00:1::/64", "wg0", """{"match":{"left":{"payload":{"field":"saddr","protocol":"ip6"}},"op":"==","right":{"prefix":{"addr":"fd00:1::","len":64}}}}""")]
    [InlineData("::/0", "wg0", """{"match":{"left":{"meta":{"key":"nfproto"}},"op":"==","right":"ipv6"}}""")]
    public void Masquerade_is_written_as_nft_prints_it(string prefix, string device, string source)
    {
        var rule = NftRule.Masquerade(IPPrefix.Parse(prefix), device);
        Assert.Equal($$$"""[{{{source}}},{"match":{"left":{"meta":{"key":"oifname"}},"op":"==","right":"{{{device}}}"}},{"masquerade":null}]""", rule.Expressions);
        Assert.Null(rule.Comment);
    }

    [Fact]
    public void Masquerade_refuses_host_bits_and_bad_interface_names()
    {
        Assert.Contains("has host bits set (the network is 10.0.0.0/24)", Assert.Throws<ArgumentException>(() => NftRule.Masquerade(IPPrefix.Parse("10.0.0.1/24"), "eth0")).Message, StringComparison.Ordinal);
        Assert.Contains("output interface 'a b'", Assert.Throws<ArgumentException>(() => NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/24"), "a b")).Message, StringComparison.Ordinal);
        Assert.Contains("output interface 'waytoolonginterface'", Assert.Throws<ArgumentException>(() => NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/24"), "waytoolonginterface")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eth*", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("{eth0,eth1}", "'{' (U+007B) is not allowed")]
    [InlineData("eth%d", "'%' (U+0025) is not allowed")]
    [InlineData("eth0\"", "'\"' (U+0022) is not allowed")]
    [InlineData("@set", "'@' (U+0040) is not allowed")]
    [InlineData("$wan", "'$' (U+0024) is not allowed")]
    [InlineData("eth\u001b[0m", "U+001B is not allowed")]
    public void Masquerade_refuses_an_output_interface_nft_would_read_as_more_than_one_name(string device, string why)
    {
        var message = Assert.Throws<ArgumentException>(() => NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/24"), device)).Message;
        Assert.Contains("masquerade: output interface '", message, StringComparison.Ordinal);
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', message);
    }

    [Theory]
    [InlineData("a23456789012345")]
    [InlineData("eth0.100")]
    [InlineData("wg-hub_1")]
    public void Masquerade_takes_an_edge_case_name_as_it_is(string device) =>
        Assert.Contains($"\"right\":\"{device}\"", NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/24"), device).Expressions, StringComparison.Ordinal);

    [Fact]
    public void List_output_reads_as_the_table_asked_for_without_handles()
    {
        using var doc = JsonDocument.Parse(Listed);
        var table = NftTable.Parse(Listed);
        Assert.Equal((NftFamily.Inet, "t"), (table.Family, table.Name));
        var chain = Assert.Single(table.Chains);
        Assert.Equal("c", chain.Name);
        Assert.False(chain.IsBaseChain);
        Assert.Equal("""[{"accept":null}]""", Assert.Single(chain.Rules).Expressions);
        Assert.Empty(table.OtherObjectNames);
        Assert.Equal(
            """{"nftables":[{"table":{"family":"inet","name":"t"}},{"chain":{"family":"inet","name":"c","table":"t"}},{"rule":{"chain":"c","expr":[{"accept":null}],"family":"inet","table":"t"}}]}""",
            table.ToCanonicalJson());

        var other = NftTable.FromItems(System.Text.Json.Nodes.JsonNode.Parse(Listed)!["nftables"]!.AsArray(), (NftFamily.Ip, "t"));
        Assert.Equal("other", Assert.Single(other!.Chains).Name);
        Assert.Null(NftTable.FromItems(System.Text.Json.Nodes.JsonNode.Parse(Listed)!["nftables"]!.AsArray(), (NftFamily.Ip6, "t")));
        Assert.Throws<FormatException>(() => NftTable.Parse("""{"nftables":[]}"""));
        Assert.Throws<FormatException>(() => NftTable.Parse("[]"));
    }

    [Fact]
    public void Chains_are_kept_in_name_order_and_equal_tables_have_equal_text()
    {
        var a = new NftChain("a", [NftRule.FromJson("""[{"accept":null}]""")]);
        var nat = NftChain.NatPostrouting([NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/8"), "eth0")]);
        var one = new NftTable(NftFamily.Inet, "aether-x", [nat, a]);
        var two = new NftTable(NftFamily.Inet, "aether-x", [a, nat]);
        Assert.Equal(["a", "postrouting"], one.Chains.Select(c => c.Name));
        Assert.True(one.ContentEquals(two));
        Assert.True(one.ContentEquals(NftTable.Parse(one.ToCanonicalJson())));
        Assert.False(one.ContentEquals(new NftTable(NftFamily.Ip, "aether-x", [a, nat])));
        Assert.Equal("type nat hook postrouting priority 100; policy accept", nat.DescribeHeader());
    }

    [Fact]
    public void A_replace_is_add_delete_add_then_chains_then_rules_in_one_document()
    {
        var jump = NftRule.FromJson("""[{"jump":{"target":"z"}}]""");
        var table = new NftTable(NftFamily.Inet, "aether-x", [new NftChain("z"), new NftChain("a", [jump]) { Type = "filter", Hook = "input", Priority = 0 }]);
        var commands = table.ReplaceCommands().Select(c => c!.ToJsonString()).ToList();
        Assert.Equal(
        [
            """{"add":{"table":{"family":"inet","name":"aether-x"}}}""",
            """{"delete":{"table":{"family":"inet","name":"aether-x"}}}""",
            """{"add":{"table":{"family":"inet","name":"aether-x"}}}""",
            """{"add":{"chain":{"family":"inet","hook":"input","name":"a","policy":"accept","prio":0,"table":"aether-x","type":"filter"}}}""",
            """{"add":{"chain":{"family":"inet","name":"z","table":"aether-x"}}}""",
            """{"add":{"rule":{"chain":"a","expr":[{"jump":{"target":"z"}}],"family":"inet","table":"aether-x"}}}""",
        ],
        commands);
        Assert.Equal(
            ["""{"add":{"table":{"family":"ip","name":"t"}}}""", """{"delete":{"table":{"family":"ip","name":"t"}}}"""],
            NftTable.DeleteCommands(NftFamily.Ip, "t").Select(c => c!.ToJsonString()));
    }

    [Fact]
    public void Tables_and_chains_are_validated()
    {
        Assert.Contains("chain a is given twice", Assert.Throws<ArgumentException>(() => new NftTable(NftFamily.Inet, "t", [new NftChain("a"), new NftChain("a")])).Message, StringComparison.Ordinal);
        Assert.Contains("table name '': empty", Assert.Throws<ArgumentException>(() => new NftTable(NftFamily.Inet, "", [])).Message, StringComparison.Ordinal);
        Assert.Contains("chain name", Assert.Throws<ArgumentException>(() => new NftChain("a\nb")).Message, StringComparison.Ordinal);
        Assert.Contains("a base chain needs a type", Assert.Throws<ArgumentException>(() => new NftTable(NftFamily.Inet, "t", [new NftChain("a") { Hook = "input", Priority = 0 }])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Error: No such file or directory\nlist table inet nosuch\n                ^^^^^^\n", 11, Errno.ENOENT)] // errno left stale
    [InlineData("internal:0:0-0: Error: Could not process rule: Operation not supported\n\n", 95, Errno.EOPNOTSUPP)]
    [InlineData("internal:0:0-0: Error: Could not process rule: No such file or directory\n\n", 0, Errno.ENOENT)]
    [InlineData("internal:0:0-0: Error: No such file or directory; did you mean table 't' in family inet?\n\n", 11, Errno.ENOENT)]
    [InlineData("internal:0:0-0: Error: Unknown statement object 'bogus'.\n\ninternal:0:0-0: Error: Parsing expr array at index 0 failed.\n\n", 11, null)]
    public void The_errno_is_the_one_libnftables_names_in_its_text(string text, int lastError, int? errno) =>
        Assert.Equal(errno, NftablesException.ErrnoOf(text, lastError));

    [Fact]
    public void The_message_names_operation_target_errno_and_the_library_text_on_one_line()
    {
        var ex = new NftablesException("replace table", "inet t in blue", "internal:0:0-0: Error: Could not process rule: Operation not supported\n\n", Errno.EOPNOTSUPP);
        Assert.Equal("replace table inet t in blue: EOPNOTSUPP (Operation not supported): Error: Could not process rule: Operation not supported", ex.Message);
        Assert.Equal("EOPNOTSUPP", ex.ErrnoName);
        var parse = new NftablesException("run", null, "Error: syntax error, unexpected junk\nfoo junk\n    ^^^^\n", null);
        Assert.Equal("run: Error: syntax error, unexpected junk", parse.Message);
        Assert.Null(parse.ErrnoName);
    }

    [Theory]
    // Captured on Linux 6.18 from a NETLINK_NETFILTER socket joined to NFNLGRP_NFTABLES (group 7) while
    // `nft add rule inet t c accept` ran in a scratch namespace: the NFT_MSG_NEWRULE, then the NFT_MSG_NEWGEN that
    // ends the transaction.
    [InlineData("64000000060a000c010000009060000001000004060001007400000006000200630000000c000300000000000000000234000400300001000e000100696d6d6564696174650000001c0002000800010000000000100002000c0002000800010000000001", 6, NftFamily.Inet, "t")]
    [InlineData("2c0000000f0a000001000000906000000000000408000100000000040800020000006090080003006e667400", 15, null, null)]
    public void Announcements_name_their_message_family_and_table(string hex, int message, NftFamily? family, string? table)
    {
        var messages = new NetlinkMessageEnumerator(Hex.Parse(hex));
        Assert.True(messages.MoveNext());
        var e = NftMonitor.ToEvent(messages.Current);
        Assert.NotNull(e);
        Assert.Equal(new NftEvent((ushort)message, family, table), e);
        Assert.False(messages.MoveNext());
    }

    [Fact]
    public void Messages_of_other_subsystems_are_not_announcements()
    {
        // The NEWRULE above with its subsystem byte changed to NFNL_SUBSYS_CTNETLINK (1).
        var bytes = Hex.Parse("64000000060a000c010000009060000001000004060001007400000006000200630000000c000300000000000000000234000400300001000e000100696d6d6564696174650000001c0002000800010000000000100002000c0002000800010000000001");
        bytes[5] = 1;
        var messages = new NetlinkMessageEnumerator(bytes);
        Assert.True(messages.MoveNext());
        Assert.Null(NftMonitor.ToEvent(messages.Current));
    }
}
