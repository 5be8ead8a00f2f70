using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The address diff on hand-made observations: no kernel, no record, no I/O.</summary>
public sealed class AddressDiffTests
{
    private const int Eth0 = 2;
    private const int Eth1 = 3;

    private static IPPrefix P(string text) => IPPrefix.Parse(text);

    private static Address On(int index, string prefix, string? peer = null) =>
        new() { Index = index, Prefix = P(prefix), Peer = peer is null ? null : IPAddress.Parse(peer) };

    private static string Key(string link, string prefix) => AddressSource.KeyOf(link, P(prefix));

    /// <summary>An observation of lo, eth0 and eth1 with <paramref name="addresses"/> and the record holding <paramref name="owned"/>.</summary>
    private static AddressObservation Seen(Address[] addresses, params string[] owned)
    {
        var links = new Dictionary<string, int>(StringComparer.Ordinal) { ["lo"] = 1, ["eth0"] = Eth0, ["eth1"] = Eth1 };
        return new AddressObservation(
            links,
            links.ToDictionary(kv => kv.Value, kv => kv.Key),
            addresses,
            owned.ToDictionary(k => k, k => new AppliedEntry(k[(k.LastIndexOf(' ') + 1)..]), StringComparer.Ordinal));
    }

    private static Plan Diff(AddressObservation observed, ConflictPolicy policy, params DesiredAddress[] desired) =>
        AddressSource.Diff(desired, policy, observed);

    private static Plan Diff(AddressObservation observed, params DesiredAddress[] desired) => Diff(observed, ConflictPolicy.Report, desired);

    private static DesiredAddress Want(string link, string prefix) => new(link, P(prefix));

    private static AddressOperation Op(Operation op) => Assert.IsType<AddressOperation>(op);

    [Fact]
    public void The_families_read_are_those_desired_or_recorded()
    {
        static Dictionary<string, AppliedEntry> Recorded(params string[] keys) =>
            keys.ToDictionary(k => k, k => new AppliedEntry(k[(k.LastIndexOf(' ') + 1)..]), StringComparer.Ordinal);

        Assert.Equal((false, false), AddressSource.FamiliesOf([], Recorded()));
        Assert.Equal((true, false), AddressSource.FamiliesOf([Want("eth0", "10.0.0.1/24")], Recorded()));
        Assert.Equal((false, true), AddressSource.FamiliesOf([Want("eth0", "fd00::1/64")], Recorded()));
        // Nothing desired of IPv6, but one recorded: read, so that it can be deleted.
        Assert.Equal((true, true), AddressSource.FamiliesOf([Want("eth0", "10.0.0.1/24")], Recorded(Key("eth0", "fd00::1/64"))));
        Assert.Equal((true, false), AddressSource.FamiliesOf([], Recorded(Key("eth1", "10.0.0.9/24"), "not an address key")));
    }

    [Fact]
    public void Keys_have_one_format_and_read_back()
    {
        Assert.Equal("address eth0 10.0.0.1/24", AddressSource.KeyOf("eth0", P("10.0.0.1/24")));
        Assert.Equal("address eth0 fd00::1/64", AddressSource.KeyOf("eth0", P("fd00:0::1/64")));
        Assert.True(AddressSource.TryParseKey("address eth0 fd00::1/64", out var link, out var address));
        Assert.Equal("eth0", link);
        Assert.Equal(P("fd00::1/64"), address);
        Assert.False(AddressSource.TryParseKey("sysctl net/ipv4/ip_forward", out _, out _));
        Assert.False(AddressSource.TryParseKey("address eth0", out _, out _));
        Assert.False(AddressSource.TryParseKey("address eth0 banana/24", out _, out _));
    }

    [Fact]
    public void An_address_someone_else_holds_is_a_conflict_even_before_its_link_exists()
    {
        // eth9 is still to be created; 10.0.0.1 sits on eth1 and is not ours: a plan must refuse now, not after
        // creating everything else.
        var seen = Seen([On(Eth1, "10.0.0.1/24")]);
        var op = Op(Assert.Single(Diff(seen, Want("eth9", "10.0.0.1/24"))));
        Assert.True(op.Conflict);
        Assert.Contains("conflicts with 10.0.0.1/24 on eth1, which is not ours", op.Reason, StringComparison.Ordinal);

        // Nobody holds it: judged when the link exists.
        var waiting = Op(Assert.Single(Diff(Seen([]), Want("eth9", "10.0.0.1/24"))));
        Assert.False(waiting.Conflict);
        Assert.Equal("link eth9 missing", waiting.Reason);

        // Ours (recorded on eth1, no longer desired there): no conflict; the old one is deleted, the new one waits.
        var moved = Diff(Seen([On(Eth1, "10.0.0.1/24")], Key("eth1", "10.0.0.1/24")), Want("eth9", "10.0.0.1/24"));
        Assert.DoesNotContain(moved, o => o.Conflict);
        Assert.Contains(moved, o => o.Kind == OperationKind.Delete);
    }

    [Fact]
    public void Desired_present_and_owned_is_nothing_to_do()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/24"), On(Eth0, "fd00::1/64")], Key("eth0", "10.0.0.1/24"), Key("eth0", "fd00::1/64"));
        Assert.True(Diff(seen, Want("eth0", "10.0.0.1/24"), Want("eth0", "fd00::1/64")).IsEmpty);
    }

    [Fact]
    public void Desired_present_but_not_recorded_is_left_alone_under_report()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/24")]);
        Assert.True(Diff(seen, ConflictPolicy.Report, Want("eth0", "10.0.0.1/24")).IsEmpty);
    }

    [Fact]
    public void Desired_present_but_not_recorded_is_adopted_into_the_record_only_under_adopt()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/24")]);
        var op = Op(Assert.Single(Diff(seen, ConflictPolicy.Adopt, Want("eth0", "10.0.0.1/24"))));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.True(op.RecordOnly);
        Assert.False(op.Conflict);
        Assert.Contains("adopt", op.Reason, StringComparison.Ordinal);
        Assert.Equal(Key("eth0", "10.0.0.1/24"), op.RecordKey);
    }

    [Fact]
    public void Desired_and_missing_is_created_on_its_link()
    {
        var op = Op(Assert.Single(Diff(Seen([]), Want("eth1", "fd00::2/64"))));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal(Stage.Addresses, op.Stage);
        Assert.Equal(Eth1, op.Index);
        Assert.Equal(P("fd00::2/64"), op.Address);
        Assert.Equal("missing", op.Reason);
        Assert.Equal("address fd00::2/64 on eth1", op.Target);
        Assert.False(op.RecordOnly || op.Conflict);
    }

    [Fact]
    public void Recorded_but_missing_is_created_again()
    {
        var op = Op(Assert.Single(Diff(Seen([], Key("eth0", "10.0.0.1/24")), Want("eth0", "10.0.0.1/24"))));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal("missing", op.Reason);
    }

    [Fact]
    public void A_missing_link_still_gets_its_create_with_the_reason()
    {
        var op = Op(Assert.Single(Diff(Seen([]), Want("veth9", "10.0.0.1/24"))));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal(0, op.Index);
        Assert.Equal("link veth9 missing", op.Reason);
    }

    [Fact]
    public void A_foreign_clash_is_not_taken_while_the_desired_link_is_missing_even_under_adopt()
    {
        var op = Op(Assert.Single(Diff(Seen([On(Eth0, "10.0.0.1/24")]), ConflictPolicy.Adopt, Want("veth9", "10.0.0.1/24"))));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal("link veth9 missing", op.Reason);
    }

    [Fact]
    public void Same_ip_with_another_prefix_length_not_ours_is_a_reported_conflict_naming_both()
    {
        var op = Op(Assert.Single(Diff(Seen([On(Eth0, "10.0.0.1/16")]), ConflictPolicy.Report, Want("eth0", "10.0.0.1/24"))));
        Assert.True(op.Conflict);
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal("address 10.0.0.1/24 on eth0", op.Target);
        Assert.Contains("10.0.0.1/16 on eth0", op.Reason, StringComparison.Ordinal);
        Assert.Contains("not ours", op.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_ip_on_another_link_not_ours_is_a_conflict_even_when_ours_is_in_place()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/24"), On(Eth1, "10.0.0.1/24")], Key("eth0", "10.0.0.1/24"));
        var op = Op(Assert.Single(Diff(seen, Want("eth0", "10.0.0.1/24"))));
        Assert.True(op.Conflict);
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Contains("10.0.0.1/24 on eth1", op.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_adopt_a_foreign_clash_is_deleted_then_ours_added()
    {
        var seen = Seen([On(Eth1, "10.0.0.1/32", peer: "10.0.0.2"), On(Eth0, "10.0.0.1/16")]);
        var plan = Diff(seen, ConflictPolicy.Adopt, Want("eth0", "10.0.0.1/24"));
        Assert.Equal(
            [(OperationKind.Delete, "address 10.0.0.1/32 on eth1"), (OperationKind.Delete, "address 10.0.0.1/16 on eth0"), (OperationKind.Create, "address 10.0.0.1/24 on eth0")],
            plan.Select(o => (o.Kind, o.Target)));
        Assert.All(plan, o => Assert.False(Op(o).Conflict || Op(o).RecordOnly));
        Assert.Equal(IPAddress.Parse("10.0.0.2"), Op(plan[0]).Peer); // the kernel matches an IPv4 delete on it
        Assert.Equal(Eth1, Op(plan[0]).Index);
    }

    [Fact]
    public void An_owned_clash_is_replaced_whatever_the_policy()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/24")], Key("eth0", "10.0.0.1/24"));
        var plan = Diff(seen, ConflictPolicy.Report, Want("eth0", "10.0.0.1/16"));
        Assert.Equal([OperationKind.Delete, OperationKind.Create], plan.Select(o => o.Kind));
        Assert.Equal(P("10.0.0.1/24"), Op(plan[0]).Address);
        Assert.Equal("replaced by 10.0.0.1/16 on eth0", plan[0].Reason);
        Assert.False(Op(plan[0]).RecordOnly);
        Assert.Equal(P("10.0.0.1/16"), Op(plan[1]).Address);
    }

    [Fact]
    public void An_owned_address_moves_to_another_link()
    {
        var seen = Seen([On(Eth0, "fd00::1/64")], Key("eth0", "fd00::1/64"));
        var plan = Diff(seen, Want("eth1", "fd00::1/64"));
        Assert.Equal(
            [(OperationKind.Delete, "address fd00::1/64 on eth0"), (OperationKind.Create, "address fd00::1/64 on eth1")],
            plan.Select(o => (o.Kind, o.Target)));
    }

    [Fact]
    public void Recorded_not_desired_and_present_is_deleted()
    {
        var op = Op(Assert.Single(Diff(Seen([On(Eth0, "10.0.0.1/24")], Key("eth0", "10.0.0.1/24")))));
        Assert.Equal(OperationKind.Delete, op.Kind);
        Assert.False(op.RecordOnly);
        Assert.Equal(Eth0, op.Index);
        Assert.Equal("no longer desired", op.Reason);
    }

    [Fact]
    public void Recorded_not_desired_and_absent_is_only_forgotten()
    {
        var seen = Seen([On(Eth0, "10.0.0.1/16")], Key("eth0", "10.0.0.1/24"), Key("gone0", "fd00::9/64"));
        var plan = Diff(seen);
        Assert.Equal(2, plan.Count);
        Assert.All(plan, o =>
        {
            Assert.Equal(OperationKind.Delete, o.Kind);
            Assert.True(Op(o).RecordOnly);
            Assert.Contains("forgotten", o.Reason, StringComparison.Ordinal);
        });
        Assert.Equal([Key("eth0", "10.0.0.1/24"), Key("gone0", "fd00::9/64")], plan.Select(o => Op(o).RecordKey));
    }

    [Fact]
    public void Link_locals_foreign_addresses_and_other_keys_are_never_touched()
    {
        var seen = Seen(
            [On(1, "127.0.0.1/8"), On(1, "::1/128"), On(Eth0, "fe80::1/64"), On(Eth0, "192.168.7.7/24"), On(Eth1, "fd00:7::7/64"), On(Eth0, "10.0.0.1/24")],
            Key("eth0", "10.0.0.1/24"), "sysctl net/ipv4/ip_forward", "address not a key");
        Assert.True(Diff(seen, ConflictPolicy.Adopt, Want("eth0", "10.0.0.1/24")).IsEmpty);
        Assert.True(Diff(seen, ConflictPolicy.Report, Want("eth0", "10.0.0.1/24")).IsEmpty);
    }

    [Fact]
    public void Deletes_come_first_then_creates_in_desired_order_then_those_waiting_for_a_link_then_conflicts()
    {
        var seen = Seen(
            [On(Eth0, "10.0.0.9/24"), On(Eth1, "10.0.0.1/24"), On(Eth0, "10.0.5.1/24")],
            Key("eth0", "10.0.0.9/24"), Key("eth0", "10.0.5.1/24"));
        var plan = Diff(
            seen,
            Want("eth0", "10.0.0.1/24"), // conflicts with the foreign one on eth1
            Want("veth9", "10.0.8.1/24"), // waits for its link
            Want("eth0", "10.0.2.1/24"),
            Want("eth1", "10.0.5.1/24"), // moves from eth0
            Want("eth1", "fd00::1/64"));
        Assert.Equal(
            [
                "delete address 10.0.0.9/24 on eth0: no longer desired",
                "delete address 10.0.5.1/24 on eth0: replaced by 10.0.5.1/24 on eth1",
                "create address 10.0.2.1/24 on eth0: missing",
                "create address 10.0.5.1/24 on eth1: missing",
                "create address fd00::1/64 on eth1: missing",
                "create address 10.0.8.1/24 on veth9: link veth9 missing",
                "create address 10.0.0.1/24 on eth0: conflicts with 10.0.0.1/24 on eth1, which is not ours",
            ],
            plan.Select(o => o.ToString()));
        Assert.True(Op(plan[^1]).Conflict);
    }

    [Fact]
    public void Diff_reads_the_record_from_the_observation_only()
    {
        // The same observation gives the same plan, however often it is asked.
        var seen = Seen([On(Eth0, "10.0.0.1/24")], Key("eth0", "10.0.0.1/24"));
        var first = Diff(seen, Want("eth0", "10.0.0.1/16"));
        var second = Diff(seen, Want("eth0", "10.0.0.1/16"));
        Assert.Equal(first.Select(o => o.ToString()), second.Select(o => o.ToString()));
    }

    [Theory]
    [InlineData("", "10.0.0.1/24", "invalid interface name")]
    [InlineData("eth0:1", "10.0.0.1/24", "invalid interface name")]
    [InlineData("a-name-longer-than-15", "10.0.0.1/24", "invalid interface name")]
    [InlineData("eth0", "0.0.0.0/0", "unspecified")]
    [InlineData("eth0", "::/0", "unspecified")]
    [InlineData("eth0", "224.0.0.1/32", "multicast")]
    [InlineData("eth0", "ff02::1/128", "multicast")]
    [InlineData("eth0", "255.255.255.255/32", "broadcast")]
    public void Invalid_entries_are_rejected_by_name(string link, string prefix, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => AddressSource.Validate([Want("eth0", "10.9.0.1/24"), Want(link, prefix)]));
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.Contains(prefix, ex.Message, StringComparison.Ordinal);
        Assert.Equal("desired", ex.ParamName);
    }

    [Fact]
    public void An_entry_without_an_address_or_with_a_scope_id_is_rejected()
    {
        Assert.Contains("#0", Assert.Throws<ArgumentException>(() => AddressSource.Validate([new DesiredAddress("eth0", default)])).Message, StringComparison.Ordinal);
        var scoped = new IPPrefix(new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), 2), 64);
        Assert.Contains("scope id", Assert.Throws<ArgumentException>(() => AddressSource.Validate([new DesiredAddress("eth0", scoped)])).Message, StringComparison.Ordinal);
        Assert.Contains("#1", Assert.Throws<ArgumentException>(() => AddressSource.Validate([Want("eth0", "10.0.0.1/24"), null!])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eth0", "10.0.0.1/24")] // the same entry
    [InlineData("eth0", "10.0.0.1/16")] // the same IP with another length
    [InlineData("eth1", "10.0.0.1/24")] // the same IP on another link
    public void An_ip_address_is_desired_once(string link, string prefix)
    {
        var ex = Assert.Throws<ArgumentException>(() => AddressSource.Validate([Want("eth0", "10.0.0.1/24"), Want(link, prefix)]));
        Assert.Contains("10.0.0.1 is desired twice", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]  // looked through one by one
    [InlineData(12)] // past the length where the earlier ones are kept in a set
    public void An_ip_address_is_desired_once_however_long_the_list(int count)
    {
        var distinct = Enumerable.Range(1, count).Select(i => Want("eth0", $"10.0.1.{i}/24")).ToList();
        AddressSource.Validate(distinct);
        var ex = Assert.Throws<ArgumentException>(() => AddressSource.Validate([.. distinct, Want("eth1", "10.0.1.2/16")]));
        Assert.Contains("10.0.1.2 is desired twice (10.0.1.2/24 on eth0 and 10.0.1.2/16 on eth1)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_list_passes()
    {
        AddressSource.Validate([Want("eth0", "10.0.0.1/24"), Want("eth0", "10.0.0.2/24"), Want("eth1", "fd00::1/64"), Want("lo", "127.0.0.2/8")]);
        AddressSource.Validate([]);
    }
}
