using Aether.Ovsdb;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The OVS bridge source's validation and its pure diff: observations are database states built by hand.
/// Nothing here talks to ovsdb-server (the integration tests in Aether.Ovsdb.Tests do).</summary>
public sealed class OvsDiffTests
{
    private const string Owner = "lab1";
    private static readonly Dictionary<string, string> Ours = new(StringComparer.Ordinal) { ["aether-owner"] = Owner };
    private static readonly Dictionary<string, string> Unmarked = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, string> Others = new(StringComparer.Ordinal) { ["aether-owner"] = "lab2" };

    private static OvsBridgeSource Source(params DesiredOvsPort[] ports) => new(Owner, new DesiredOvsBridge("br-lab", ports));

    private static OvsPort Port(string name, int? tag, IReadOnlyDictionary<string, string> ids, string? iface = null) =>
        new(new OvsUuid(Guid.NewGuid()), name, tag, [new OvsInterface(new OvsUuid(Guid.NewGuid()), iface ?? name, "", 1, null, ids)], ids);

    private static OvsBridge Bridge(string name, IReadOnlyDictionary<string, string> ids, params OvsPort[] ports) =>
        new(new OvsUuid(Guid.NewGuid()), name, "netdev", [Port(name, null, ids), .. ports], ids);

    private static string[] Lines(Plan plan) => [.. plan.Select(op => (op.Conflict ? "! " : "") + op)];

    [Fact]
    public void An_empty_database_gets_the_bridge_then_its_ports()
    {
        var plan = Source(new DesiredOvsPort("vh1", 10), new DesiredOvsPort("vh2", null)).Diff(new OvsSwitchState([]));
        Assert.Equal(["create ovs bridge br-lab: missing", "create ovs port vh1 on br-lab: missing", "create ovs port vh2 on br-lab: missing"], Lines(plan));
        var port = Assert.IsType<OvsOperation>(plan[1]);
        Assert.Equal((OvsChange.CreatePort, Stage.Ovs, "br-lab", (int?)10), (port.Change, port.Stage, port.Into, port.Tag));
        Assert.Equal(ObjectKey.OvsPort(Scope.Host, "br-lab", "vh1"), port.Key);
    }

    [Fact]
    public void What_matches_is_left_alone_including_the_bridges_own_port_and_foreign_ports_on_it()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours, Port("vh1", 10, Ours), Port("theirs", 3, Unmarked))]);
        Assert.Empty(Source(new DesiredOvsPort("vh1", 10)).Diff(state));
    }

    [Fact]
    public void A_wrong_or_missing_tag_is_an_update()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours, Port("vh1", 11, Ours), Port("vh2", null, Ours))]);
        Assert.Equal(
            ["update ovs port vh1 on br-lab: tag 11, want 10", "update ovs port vh2 on br-lab: tag none, want 20"],
            Lines(Source(new DesiredOvsPort("vh1", 10), new DesiredOvsPort("vh2", 20)).Diff(state)));
    }

    [Fact]
    public void Our_port_on_another_bridge_is_moved_with_its_tag_and_their_bridge_is_not_touched()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("other", Unmarked, Port("vh1", 99, Ours), Port("x", 1, Unmarked))]);
        var plan = Source(new DesiredOvsPort("vh1", 10)).Diff(state);
        Assert.Equal(["update ovs port vh1 on br-lab: on bridge other, want br-lab, tag 99, want 10"], Lines(plan));
        var move = Assert.IsType<OvsOperation>(Assert.Single(plan));
        Assert.Equal((OvsChange.MovePort, "other", "vh1"), (move.Change, move.Bridge!.Name, move.Port!.Name));
    }

    [Fact]
    public void A_port_of_someone_elses_holding_a_device_the_caller_owns_is_taken_back_when_asked_and_only_then()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("other", Unmarked, Port("vh1", 99, Unmarked))]);

        var conflict = Source(new DesiredOvsPort("vh1", 10)).Diff(state);
        Assert.True(Assert.Single(conflict).Conflict);

        var plan = Source(new DesiredOvsPort("vh1", 10) { Reclaim = true }).Diff(state);
        Assert.Equal(
            ["delete ovs port vh1 on br-lab: our device vh1 is held by port vh1 on bridge other, not ours (unmarked): taken back", "create ovs port vh1 on br-lab: taken back"],
            Lines(plan));
        var reclaim = Assert.IsType<OvsOperation>(plan[0]);
        Assert.Equal((OvsChange.ReclaimPort, "other"), (reclaim.Change, reclaim.Bridge!.Name));
        Assert.Equal((OvsChange.CreatePort, (int?)10), (((OvsOperation)plan[1]).Change, ((OvsOperation)plan[1]).Tag));
    }

    [Fact]
    public void Someone_elses_port_or_bridge_where_ours_should_be_is_a_conflict()
    {
        var foreignPort = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("other", Unmarked, Port("vh1", 7, Others))]);
        Assert.Equal(["! update ovs port vh1 on br-lab: exists on bridge other but is not ours (aether-owner=lab2)"], Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(foreignPort)));

        var foreignBridge = new OvsSwitchState([Bridge("br-lab", Unmarked)]);
        Assert.Equal(["! update ovs bridge br-lab: exists but is not ours (unmarked)"], Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(foreignBridge)));

        // The device is an interface of someone else's port of another name (a bond).
        var inBond = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("other", Unmarked, Port("bond0", null, Unmarked, iface: "vh1"))]);
        Assert.Equal(["! create ovs port vh1 on br-lab: its interface is in port bond0 on bridge other, which is not ours (unmarked)"], Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(inBond)));
    }

    [Fact]
    public void Our_ports_and_bridges_no_longer_desired_are_deleted_ports_before_creations()
    {
        var state = new OvsSwitchState([
            Bridge("br-lab", Ours, Port("old", 1, Ours)),
            Bridge("br-old", Ours, Port("stale", 2, Ours)),
            Bridge("other", Unmarked, Port("stray", 3, Ours), Port("x", 1, Unmarked)),
        ]);
        Assert.Equal(
            ["delete ovs port old on br-lab: no longer desired", "delete ovs bridge br-old: no longer desired", "delete ovs port stray on other: no longer desired", "create ovs port vh1 on br-lab: missing"],
            Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(state)));
    }

    [Fact]
    public void An_old_bridge_of_ours_holding_foreign_ports_or_a_desired_port_is_not_deleted_whole()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("br-old", Ours, Port("vh1", 10, Ours), Port("theirs", 1, Unmarked), Port("stale", 2, Ours))]);
        Assert.Equal(
            ["! delete ovs bridge br-old: is no longer desired but holds ports that are not ours (theirs)", "delete ovs port stale on br-old: no longer desired", "update ovs port vh1 on br-lab: on bridge br-old, want br-lab"],
            Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(state)));

        var moving = new OvsSwitchState([Bridge("br-lab", Ours), Bridge("br-old", Ours, Port("vh1", 10, Ours))]);
        Assert.Equal(["update ovs port vh1 on br-lab: on bridge br-old, want br-lab"], Lines(Source(new DesiredOvsPort("vh1", 10)).Diff(moving)));
    }

    [Fact]
    public void With_nothing_desired_every_bridge_and_port_of_ours_goes_and_nothing_else()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours, Port("vh1", 1, Ours)), Bridge("other", Unmarked, Port("stray", 3, Ours), Port("x", 1, Unmarked)), Bridge("lab2", Others)]);
        Assert.Equal(
            ["delete ovs bridge br-lab: no longer desired", "delete ovs port stray on other: no longer desired"],
            Lines(new OvsBridgeSource(Owner, null).Diff(state)));
    }

    [Fact]
    public void A_datapath_type_other_than_desired_is_an_update()
    {
        var state = new OvsSwitchState([Bridge("br-lab", Ours) with { DatapathType = "system" }]);
        Assert.Equal(["update ovs bridge br-lab: datapath_type 'system', want 'netdev'"], Lines(Source().Diff(state)));
    }

    [Theory]
    [InlineData("br-lab", 1, "has the bridge's name")]
    [InlineData("vh1", 4096, "tag 4096")]
    [InlineData("a-name-over-15-bytes", 1, "bytes, the limit is 15")]
    [InlineData("vh1", -1, "tag -1")]
    public void Invalid_ports_are_refused_with_the_reason(string name, int tag, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => Source(new DesiredOvsPort(name, tag)));
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_desired_twice_or_a_bad_owner_is_refused()
    {
        Assert.Contains("desired twice", Assert.Throws<ArgumentException>(() => Source(new DesiredOvsPort("vh1", 1), new DesiredOvsPort("vh1", 2))).Message, StringComparison.Ordinal);
        Assert.Contains("without spaces", Assert.Throws<ArgumentException>(() => new OvsBridgeSource("lab 1", null)).Message, StringComparison.Ordinal);
    }
}
