using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Nftables;

namespace Aether.Netlink.IntegrationTests;

/// <summary>
/// The libnftables binding against the kernel, inside test namespaces only. The oracle is <c>nft -j list ruleset</c>
/// run with <c>ip netns exec</c>; the host's ruleset is read before and after and must not change.
/// </summary>
public sealed class NftablesTests : SandboxTest
{
    private NetworkNamespace _ns = null!;
    private NftContext _nft = null!;
    private string? _hostRuleset;

    private string Ns => _ns.Name!;

    protected override async Task SetUpAsync()
    {
        _hostRuleset = await Nft.HostRulesetAsync();
        _ns = Box.CreateNamespace("n");
        _nft = Box.Own(NftContext.OpenAt(_ns));
    }

    private async Task AssertHostUnchangedAsync() => Assert.Equal(_hostRuleset, await Nft.HostRulesetAsync());

    private NftTable Table(params NftChain[] chains) => new(NftFamily.Inet, "aether-" + Box.Token, chains);

    private static NftChain Filter(string name, params NftRule[] rules) =>
        new(name, rules) { Type = "filter", Hook = "forward", Priority = NftChain.FilterPriority, Policy = "accept" };

    private static NftRule Accept(string iif) =>
        NftRule.FromJson($$$"""[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"{{{iif}}}"}},{"accept":null}]""");

    [Fact]
    public async Task A_replaced_table_is_what_nft_lists_and_reads_back_equal()
    {
        var table = Table(
            NftChain.NatPostrouting([NftRule.Masquerade(IPPrefix.Parse("10.77.0.0/24"), "eth0")]),
            Filter("fwd", Accept("eth1")));
        _nft.ReplaceTable(table);

        var items = await Nft.TableItemsAsync(Ns, "inet", table.Name);
        var chains = items.Where(i => i.TryGetProperty("chain", out _)).Select(i => i.GetProperty("chain")).ToList();
        var nat = Assert.Single(chains, c => c.GetProperty("name").GetString() == "postrouting");
        Assert.Equal("nat", nat.GetProperty("type").GetString());
        Assert.Equal("postrouting", nat.GetProperty("hook").GetString());
        Assert.Equal(100, nat.GetProperty("prio").GetInt32());
        Assert.Equal("accept", nat.GetProperty("policy").GetString());
        Assert.Contains(chains, c => c.GetProperty("name").GetString() == "fwd" && c.GetProperty("hook").GetString() == "forward");

        var rule = Assert.Single(await Nft.RulesAsync(Ns, "inet", table.Name, "postrouting")).GetProperty("expr");
        Assert.Equal(3, rule.GetArrayLength());
        var saddr = rule[0].GetProperty("match");
        Assert.Equal("saddr", saddr.GetProperty("left").GetProperty("payload").GetProperty("field").GetString());
        Assert.Equal("10.77.0.0", saddr.GetProperty("right").GetProperty("prefix").GetProperty("addr").GetString());
        Assert.Equal(24, saddr.GetProperty("right").GetProperty("prefix").GetProperty("len").GetInt32());
        Assert.Equal("eth0", rule[1].GetProperty("match").GetProperty("right").GetString());
        Assert.True(rule[2].TryGetProperty("masquerade", out _));

        var read = _nft.GetTable(NftFamily.Inet, table.Name);
        Assert.NotNull(read);
        Assert.True(table.ContentEquals(read), $"wrote {table.ToCanonicalJson()}\nread  {read.ToCanonicalJson()}");
        Assert.Equal([(NftFamily.Inet, table.Name)], _nft.ListTables());
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public void Every_form_of_the_masquerade_helper_reads_back_as_it_was_written()
    {
        var rules = new[] { "10.0.0.0/24", "10.0.0.7/32", "0.0.0.0/0", "fd00:1::/64", "fd00::7/128", "::/0" }
            .Select(p => NftRule.Masquerade(IPPrefix.Parse(p), "eth0"));
        var table = Table(NftChain.NatPostrouting(rules));
        _nft.ReplaceTable(table);
        var read = _nft.GetTable(NftFamily.Inet, table.Name);
        Assert.True(table.ContentEquals(read), $"wrote {table.ToCanonicalJson()}\nread  {read?.ToCanonicalJson()}");
    }

    [Fact]
    public async Task A_second_replace_swaps_the_whole_table_and_a_rejected_one_leaves_it_as_it_was()
    {
        _nft.ReplaceTable(Table(Filter("a", Accept("x0")), Filter("b", Accept("x1"))));
        var second = Table(Filter("a", Accept("y0"), Accept("y1")));
        _nft.ReplaceTable(second);
        Assert.Equal(["a"], (await Nft.TableItemsAsync(Ns, "inet", second.Name)).Where(i => i.TryGetProperty("chain", out _)).Select(i => i.GetProperty("chain").GetProperty("name").GetString()));
        Assert.Equal(2, (await Nft.RulesAsync(Ns, "inet", second.Name, "a")).Count);
        var before = await Nft.RunAsync(Ns, "-j", "list", "ruleset");

        // Masquerade in a filter chain: the kernel refuses the rule, and with it the whole transaction (the table
        // would have been deleted and re-created first).
        var bad = Table(Filter("a", NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/8"), "eth0")));
        var ex = Assert.Throws<NftablesException>(() => _nft.ReplaceTable(bad));
        Assert.Equal(Errno.EOPNOTSUPP, ex.Errno);
        Assert.Equal("EOPNOTSUPP", ex.ErrnoName);
        Assert.Contains("Operation not supported", ex.ErrorText, StringComparison.Ordinal);
        Assert.StartsWith($"replace table inet {bad.Name} in {Ns}: EOPNOTSUPP (Operation not supported): Error:", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Nft.RunAsync(Ns, "-j", "list", "ruleset"));
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task A_table_made_with_nft_is_read_back_with_what_it_holds()
    {
        var name = "made-" + Box.Token;
        await Nft.ScriptAsync(Ns, $$"""
            table ip {{name}} {
                set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
                chain input {
                    type filter hook input priority 0; policy drop;
                    ip saddr @blocked counter drop
                    tcp dport { 22, 80 } accept
                }
                chain helper {
                }
            }
            """);
        var table = _nft.GetTable(NftFamily.Ip, name);
        Assert.NotNull(table);
        Assert.Equal(["helper", "input"], table.Chains.Select(c => c.Name));
        var input = table.Chains[1];
        Assert.Equal(("filter", "input", 0, "drop"), (input.Type, input.Hook, input.Priority, input.Policy));
        Assert.Equal(2, input.Rules.Count);
        Assert.Contains("\"counter\":null", input.Rules[0].Expressions, StringComparison.Ordinal); // stateless: no packet counts
        Assert.False(table.Chains[0].IsBaseChain);
        Assert.Equal(["set blocked"], table.OtherObjectNames);

        // The canonical text reads back to the same table, and is a document nft accepts as it is.
        Assert.True(table.ContentEquals(NftTable.Parse(table.ToCanonicalJson())));
        _nft.DeleteTable(NftFamily.Ip, name);
        Assert.Null(_nft.GetTable(NftFamily.Ip, name));
        _nft.ReplaceTable(NftTable.Parse(table.ToCanonicalJson()));
        Assert.True(table.ContentEquals(_nft.GetTable(NftFamily.Ip, name)));
        Assert.Equal(3, (await Nft.TableItemsAsync(Ns, "ip", name)).Count(i => i.TryGetProperty("chain", out _) || i.TryGetProperty("set", out _)));
    }

    [Fact]
    public async Task A_missing_table_reads_as_null_and_deleting_it_changes_nothing()
    {
        Assert.Null(_nft.GetTable(NftFamily.Inet, "aether-none"));
        _nft.DeleteTable(NftFamily.Inet, "aether-none");
        Assert.Empty(await Nft.RulesetAsync(Ns));
    }

    [Fact]
    public async Task Check_changes_nothing_and_reports_what_would_fail()
    {
        var good = Table(NftChain.NatPostrouting([NftRule.Masquerade(IPPrefix.Parse("10.1.0.0/16"), "eth0")]));
        _nft.CheckReplaceTable(good);
        Assert.Empty(await Nft.RulesetAsync(Ns));

        // The kernel checks each message of the transaction, then discards it: a jump to a chain that does not exist.
        var bad = Table(Filter("f", NftRule.FromJson("""[{"jump":{"target":"nosuch"}}]""")));
        var ex = Assert.Throws<NftablesException>(() => _nft.CheckReplaceTable(bad));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.StartsWith($"check table inet {bad.Name} in {Ns}: ENOENT (No such file or directory): Error: Could not process rule", ex.Message, StringComparison.Ordinal);

        // libnftables refuses what it cannot parse.
        var unknown = Table(Filter("f", NftRule.FromJson("""[{"bogus":null}]""")));
        Assert.Null(Assert.Throws<NftablesException>(() => _nft.CheckReplaceTable(unknown)).Errno);
        Assert.Empty(await Nft.RulesetAsync(Ns));
    }

    [Fact]
    public void A_statement_the_library_does_not_know_carries_its_text_and_no_errno()
    {
        var rule = NftRule.FromJson("""[{"bogus":null}]""");
        var ex = Assert.Throws<NftablesException>(() => _nft.ReplaceTable(Table(Filter("f", rule))));
        Assert.Null(ex.Errno);
        Assert.Contains("Unknown statement object 'bogus'", ex.ErrorText, StringComparison.Ordinal);
        Assert.Contains("Unknown statement object 'bogus'", ex.Message, StringComparison.Ordinal);
        Assert.Null(_nft.GetTable(NftFamily.Inet, "aether-" + Box.Token));
    }

    [Fact]
    public async Task Interface_names_are_resolved_in_the_target_namespace_not_the_callers()
    {
        // meta oif takes an ifindex: libnftables looks the name up when it evaluates the rule. The link exists only in
        // the test namespace, so a lookup made from the caller's (the host's) namespace would fail.
        var link = Box.Name("o");
        await Ip.RunAsync("-n", Ns, "link", "add", link, "type", "veth", "peer", "name", Box.Name("p"));
        var rule = NftRule.FromJson($$$"""[{"match":{"op":"==","left":{"meta":{"key":"oif"}},"right":"{{{link}}}"}},{"accept":null}]""");
        var table = Table(Filter("f", rule));
        await Task.Run(() => _nft.ReplaceTable(table));
        var read = Assert.Single(await Nft.RulesAsync(Ns, "inet", table.Name, "f"));
        Assert.Equal(link, read.GetProperty("expr")[0].GetProperty("match").GetProperty("right").GetString());
        Assert.True(table.ContentEquals(_nft.GetTable(NftFamily.Inet, table.Name)));
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task The_monitor_announces_a_change_made_with_nft_naming_its_table()
    {
        var name = "watched-" + Box.Token;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var events = NftMonitor.WatchAsync(_ns, cts.Token).GetAsyncEnumerator(cts.Token);
        var next = events.MoveNextAsync().AsTask(); // subscribed once the first MoveNext ran the iterator's opening
        await Task.Delay(200);
        await Nft.RunAsync(Ns, "add", "table", "ip6", name);
        Assert.True(await next);
        while (events.Current.Table != name)
        {
            Assert.True(await events.MoveNextAsync());
        }

        Assert.Equal(NftFamily.Ip6, events.Current.Family);
        Assert.Equal(0, events.Current.Message); // NFT_MSG_NEWTABLE
        Assert.False(events.Current.Overrun);
    }

    [Fact]
    public async Task Contexts_in_different_namespaces_used_at_once_keep_to_their_own()
    {
        var other = Box.CreateNamespace("m");
        using var second = NftContext.OpenAt(other);
        var contexts = new[] { (Context: _nft, Name: "aether-one"), (Context: second, Name: "aether-two") };
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), async (i, _) =>
        {
            await Task.Yield();
            var (context, name) = contexts[i % 2];
            context.ReplaceTable(new NftTable(NftFamily.Inet, name, [Filter("f", Accept("e" + i))]));
            Assert.NotNull(context.GetTable(NftFamily.Inet, name));
        });
        Assert.Equal(["inet aether-one"], await Nft.TablesAsync(Ns));
        Assert.Equal(["inet aether-two"], await Nft.TablesAsync(other.Name!));
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public void A_closed_context_refuses_work()
    {
        var context = NftContext.OpenAt(_ns);
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.ListTables());
    }

    [Fact]
    public void The_library_is_found()
    {
        Assert.True(NftContext.IsAvailable(out var why), why);
        Assert.Equal(_ns.Inode, _nft.Namespace!.Inode);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(_nft.Run("""{"nftables":[{"list":{"ruleset":null}}]}""")).RootElement.GetProperty("nftables").ValueKind);
    }
}
