using Aether.Netlink;
using Aether.Nftables;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The nftables source's validation and its pure diff: observations are tables built by hand or parsed from
/// JSON as libnftables prints it. Nothing here loads libnftables.</summary>
public sealed class NftablesDiffTests
{
    private const string Target = "nftables inet aether-lab";

    private static readonly NftRule Masq = NftRule.Masquerade(IPPrefix.Parse("10.0.0.0/24"), "eth0");
    private static readonly NftRule Masq2 = NftRule.Masquerade(IPPrefix.Parse("10.0.1.0/24"), "eth0");

    // As given: "in" against an anonymous set. nft prints it back as "==" (seen with nftables 1.0.6).
    private static readonly NftRule SshIn = NftRule.FromJson("""[{"match":{"op":"in","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,80]}}},{"accept":null}]""");
    private static readonly NftRule SshPrinted = NftRule.FromJson("""[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,80]}}},{"accept":null}]""");

    private static NftablesSource Source(params NftChain[] chains) => new("lab", chains);

    private static NftChain Nat(params NftRule[] rules) => NftChain.NatPostrouting(rules);

    private static NftChain Filter(params NftRule[] rules) =>
        new("fwd", rules) { Type = "filter", Hook = "forward", Priority = 0 };

    private static NftTable Kernel(params NftChain[] chains) => new(NftFamily.Inet, "aether-lab", chains);

    private static NftablesObservation Observe(NftTable? table, Dictionary<string, AppliedEntry>? record = null) => new(table, record ?? []);

    private static NftablesOperation Single(Plan plan) => Assert.IsType<NftablesOperation>(Assert.Single(plan));

    private static Dictionary<string, AppliedEntry> Recorded(NftTable desired, NftTable kernel) => new(StringComparer.Ordinal)
    {
        [Target] = new AppliedEntry($$$"""{"desired":{{{desired.ToCanonicalJson()}}},"kernel":{{{kernel.ToCanonicalJson()}}}}"""),
    };

    [Fact]
    public void A_missing_table_is_created_whole()
    {
        var source = Source(Nat(Masq));
        Assert.Equal("aether-lab", source.TableName);
        var op = Single(source.Diff(Observe(null)));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal(Stage.Nftables, op.Stage);
        Assert.Equal(Target, op.Target);
        Assert.Equal("create nftables inet aether-lab: missing", op.ToString());
        Assert.Same(source.Desired, op.Table);
        Assert.False(op.Conflict);
    }

    [Fact]
    public void An_equal_table_needs_nothing_whatever_order_its_chains_and_keys_came_in()
    {
        var source = Source(Nat(Masq), Filter(SshPrinted));
        var reordered = NftRule.FromJson("""[{"match":{"right":{"set":[22,80]},"left":{"payload":{"field":"dport","protocol":"tcp"}},"op":"=="}},{"accept":null}]""");
        Assert.True(source.Diff(Observe(Kernel(Filter(reordered), Nat(Masq)))).IsEmpty);
    }

    [Fact]
    public void A_deleted_rule_is_drift_and_the_whole_table_is_replaced()
    {
        var source = Source(Nat(Masq, Masq2));
        var op = Single(source.Diff(Observe(Kernel(Nat(Masq2)))));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Equal("chain postrouting: 1 rule missing (1 of 2 present)", op.Reason);
        Assert.Same(source.Desired, op.Table);
    }

    [Fact]
    public void Chains_rules_and_objects_added_by_hand_inside_the_table_are_drift()
    {
        var source = Source(Nat(Masq));
        var kernel = NftTable.Parse($$$"""
            {"nftables":[{"metainfo":{"version":"1.0.6"}},
             {"table":{"family":"inet","name":"aether-lab","handle":4}},
             {"set":{"family":"inet","name":"blocked","table":"aether-lab","type":"ipv4_addr","handle":2}},
             {"chain":{"family":"inet","table":"aether-lab","name":"postrouting","handle":1,"type":"nat","hook":"postrouting","prio":100,"policy":"accept"}},
             {"chain":{"family":"inet","table":"aether-lab","name":"mine","handle":3}},
             {"rule":{"family":"inet","table":"aether-lab","chain":"postrouting","handle":5,"expr":{{{Masq.Expressions}}}}},
             {"rule":{"family":"inet","table":"aether-lab","chain":"postrouting","handle":6,"expr":[{"accept":null}]}}]}
            """);
        var op = Single(source.Diff(Observe(kernel)));
        Assert.Equal("chain postrouting: 1 rule not desired (2 present, want 1); chain mine not desired; set blocked not desired", op.Reason);
    }

    [Fact]
    public void A_changed_chain_header_and_a_changed_rule_are_named()
    {
        var source = Source(Nat(Masq));
        var kernel = Kernel(new NftChain("postrouting", [Masq2]) { Type = "nat", Hook = "postrouting", Priority = 50, Policy = "accept" });
        Assert.Equal(
            "chain postrouting: type nat hook postrouting priority 50; policy accept, want type nat hook postrouting priority 100; policy accept; chain postrouting: rule 1 differs",
            Single(source.Diff(Observe(kernel))).Reason);
        Assert.Equal("chain postrouting missing; chain fwd not desired", Single(source.Diff(Observe(Kernel(Filter(Masq))))).Reason);
    }

    [Fact]
    public void A_rule_nft_prints_differently_is_replaced_once_then_known_from_the_record()
    {
        var source = Source(Filter(SshIn));
        var kernel = Kernel(Filter(SshPrinted));

        // Not recorded: the printed form cannot be told from drift.
        Assert.Equal("chain fwd: rule 1 differs", Single(source.Diff(Observe(kernel))).Reason);

        // Recorded after the apply: the kernel's form of this desired table is known, and it is what is there.
        Assert.True(source.Diff(Observe(kernel, Recorded(source.Desired!, kernel))).IsEmpty);

        // Drift from the recorded form is named against that form, not against the spelling given.
        var drifted = Kernel(Filter(SshPrinted, Masq));
        Assert.Equal("chain fwd: 1 rule not desired (2 present, want 1)", Single(source.Diff(Observe(drifted, Recorded(source.Desired!, kernel)))).Reason);

        // A record of another desired table says nothing about this one.
        var other = Kernel(Filter(SshIn, SshIn));
        Assert.Equal(OperationKind.Update, Single(source.Diff(Observe(kernel, Recorded(other, kernel)))).Kind);
    }

    [Fact]
    public void A_damaged_record_is_ignored()
    {
        var source = Source(Filter(SshIn));
        var record = new Dictionary<string, AppliedEntry>(StringComparer.Ordinal) { [Target] = new AppliedEntry("not json") };
        Assert.Equal(OperationKind.Update, Single(source.Diff(Observe(Kernel(Filter(SshPrinted)), record))).Kind);
    }

    [Fact]
    public void With_no_chains_the_table_is_deleted_and_then_forgotten()
    {
        var source = Source();
        Assert.Null(source.Desired);
        var delete = Single(source.Diff(Observe(Kernel(Nat(Masq)))));
        Assert.Equal((OperationKind.Delete, "no longer desired", false), (delete.Kind, delete.Reason, delete.RecordOnly));

        var kernel = Kernel(Nat(Masq));
        var forget = Single(source.Diff(Observe(null, Recorded(kernel, kernel))));
        Assert.Equal((OperationKind.Delete, true), (forget.Kind, forget.RecordOnly));
        Assert.True(source.Diff(Observe(null)).IsEmpty);
    }

    [Fact]
    public void A_table_deleted_since_it_was_applied_is_created_again()
    {
        var source = Source(Nat(Masq));
        Assert.Equal("missing (deleted since it was applied)", Single(source.Diff(Observe(null, Recorded(source.Desired!, source.Desired!)))).Reason);
    }

    [Fact]
    public void Another_table_is_not_an_observation_of_this_source()
    {
        var source = Source(Nat(Masq));
        Assert.Throws<ArgumentException>(() => source.Diff(Observe(new NftTable(NftFamily.Ip, "aether-lab", [Nat(Masq)]))));
        Assert.Throws<ArgumentException>(() => source.Diff(Observe(new NftTable(NftFamily.Inet, "mine", [Nat(Masq)]))));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a b", "only letters")]
    [InlineData("x/y", "only letters")]
    public void An_owner_that_cannot_name_a_table_is_refused(string owner, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => new NftablesSource(owner, [Nat(Masq)]));
        Assert.Contains($"nftables owner '{owner}': {why}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_chains_are_refused_before_anything_is_read()
    {
        Assert.Contains("chain postrouting is given twice", Assert.Throws<ArgumentException>(() => Source(Nat(Masq), Nat(Masq2))).Message, StringComparison.Ordinal);
        Assert.Contains("chain c: a base chain needs a priority", Assert.Throws<ArgumentException>(() => Source(new NftChain("c") { Type = "nat", Hook = "postrouting" })).Message, StringComparison.Ordinal);
        Assert.Contains("chain c: hook 'sideways'", Assert.Throws<ArgumentException>(() => Source(new NftChain("c") { Type = "nat", Hook = "sideways", Priority = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("chain c: policy 'reject'", Assert.Throws<ArgumentException>(() => Source(new NftChain("c") { Type = "filter", Hook = "input", Priority = 0, Policy = "reject" })).Message, StringComparison.Ordinal);
        Assert.Contains("belong to a base chain", Assert.Throws<ArgumentException>(() => Source(new NftChain("c") { Priority = 0 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_records_the_intent_before_the_kernel_is_touched_and_keeps_what_is_known()
    {
        var record = AppliedRecord.InMemory();
        var source = new NftablesSource("lab", [Filter(SshIn)], new NftablesSourceOptions { Record = record });
        source.Prepare(source.Diff(Observe(null)));
        Assert.True(record.TryGet(Target, out var intent));
        Assert.Contains("\"kernel\":null", intent.Value, StringComparison.Ordinal);

        // An intent alone is not knowledge of the kernel's form: the table is still judged against the desired one,
        // and a missing table is just missing.
        var snapshot = new Dictionary<string, AppliedEntry>(record.Snapshot(), StringComparer.Ordinal);
        Assert.Equal("missing", Single(source.Diff(Observe(null, snapshot))).Reason);
        Assert.Equal("chain fwd: rule 1 differs", Single(source.Diff(Observe(Kernel(Filter(SshPrinted)), snapshot))).Reason);

        // What the kernel showed for the same desired table survives a later prepare (drift repaired, not redesigned).
        var known = Recorded(source.Desired!, Kernel(Filter(SshPrinted)));
        record.Set(Target, known[Target]);
        source.Prepare(source.Diff(Observe(Kernel(Filter()))));
        Assert.True(record.TryGet(Target, out var kept));
        Assert.Equal(known[Target], kept);

        // Nothing desired: an intent whose table never appeared is forgotten.
        var none = new NftablesSource("lab", [], new NftablesSourceOptions { Record = record });
        var forget = Single(none.Diff(Observe(null, snapshot)));
        Assert.True(forget.RecordOnly);
    }
}
