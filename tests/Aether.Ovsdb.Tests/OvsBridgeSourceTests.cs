using System.Threading.Channels;
using Aether.Ovsdb.Tests.Infrastructure;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Ovsdb.Tests;

/// <summary>The OVS bridge source against a real ovsdb-server and ovs-vswitchd: passes on their own and under a
/// <see cref="ReconcileLoop"/>, drift made with <c>ovs-vsctl</c>, checked with <c>ovs-vsctl</c>.</summary>
public sealed class OvsBridgeSourceTests : OvsTest
{
    private string Bridge => Box.Name("br");

    [Fact]
    public async Task One_pass_creates_the_bridge_and_its_ports_with_their_tags_and_a_second_finds_nothing()
    {
        var (p1, p2, p3) = (Box.Name("p1"), Box.Name("p2"), Box.Name("p3"));
        await using var source = Source(new DesiredOvsPort(p1, 10), new DesiredOvsPort(p2, 10), new DesiredOvsPort(p3, null));

        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal(
            [$"create ovs bridge {Bridge}: missing", $"create ovs port {p1} on {Bridge}: missing", $"create ovs port {p2} on {Bridge}: missing", $"create ovs port {p3} on {Bridge}: missing"],
            first.Applied.Select(op => op.ToString()));

        Assert.Equal([Bridge], await Bridges());
        Assert.Equal([p1, p2, p3], await PortsOf(Bridge));
        Assert.Equal((10, 10, (int?)null), (await TagOf(p1), await TagOf(p2), await TagOf(p3)));
        Assert.Equal("netdev", (await Vsctl("get", "bridge", Bridge, "datapath_type")).Trim('"'));
        Assert.Equal(Owner, await ExternalId("port", p3, "aether-owner"));

        var second = await source.RunPassAsync(CancellationToken.None);
        Assert.True(second.Plan.IsEmpty, string.Join("; ", second.Plan));
    }

    [Fact]
    public async Task A_tag_changed_with_ovs_vsctl_is_found_and_set_back()
    {
        var port = Box.Name("p1");
        await using var source = Source(new DesiredOvsPort(port, 10));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        await Vsctl("set", "port", port, "tag=11");
        var plan = await source.PlanPassAsync(CancellationToken.None);
        Assert.Equal([$"update ovs port {port} on {Bridge}: tag 11, want 10"], plan.Select(op => op.ToString()));
        Assert.Null((await source.ApplyPlanAsync(plan, CancellationToken.None)).Error);
        Assert.Equal(10, await TagOf(port));

        await Vsctl("clear", "port", port, "tag");
        Assert.Equal([$"update ovs port {port} on {Bridge}: tag none, want 10"], (await source.RunPassAsync(CancellationToken.None)).Applied.Select(op => op.ToString()));
        Assert.Equal(10, await TagOf(port));
    }

    [Fact]
    public async Task A_trunk_port_is_made_with_its_vlans_and_drifted_trunks_are_set_back()
    {
        var (vtep, access) = (Box.Name("vx"), Box.Name("p1"));
        await using (var source = Source(new DesiredOvsPort(vtep, null) { Trunks = [102, 100, 101] }, new DesiredOvsPort(access, 100)))
        {
            var first = await source.RunPassAsync(CancellationToken.None);
            Assert.Null(first.Error);
            Assert.Equal("[100, 101, 102]", await Vsctl("get", "port", vtep, "trunks"));
            Assert.Equal(("[]", (int?)null), (await Vsctl("get", "port", access, "trunks"), await TagOf(vtep)));
            Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);

            // A VLAN taken away, then every VLAN cleared (which would trunk them all): both put back, each with
            // next_cfg bumped (ovs-vswitchd is not woken by a change of trunks alone).
            await Vsctl("set", "port", vtep, "trunks=100,102");
            var cfg = long.Parse(await Vsctl("get", "open_vswitch", ".", "next_cfg"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal([$"update ovs port {vtep} on {Bridge}: trunks [100,102], want [100,101,102]"], (await source.RunPassAsync(CancellationToken.None)).Applied.Select(op => op.ToString()));
            Assert.Equal("[100, 101, 102]", await Vsctl("get", "port", vtep, "trunks"));
            Assert.Equal(cfg + 1, long.Parse(await Vsctl("get", "open_vswitch", ".", "next_cfg"), System.Globalization.CultureInfo.InvariantCulture));
            await Vsctl("clear", "port", vtep, "trunks");
            Assert.Equal([$"update ovs port {vtep} on {Bridge}: trunks [], want [100,101,102]"], (await source.RunPassAsync(CancellationToken.None)).Applied.Select(op => op.ToString()));
            Assert.Equal("[100, 101, 102]", await Vsctl("get", "port", vtep, "trunks"));

            // Someone's extra VLAN on an access port: cleared.
            await Vsctl("set", "port", access, "trunks=7");
            Assert.Equal([$"update ovs port {access} on {Bridge}: trunks [7], want []"], (await source.RunPassAsync(CancellationToken.None)).Applied.Select(op => op.ToString()));
            Assert.Equal("[]", await Vsctl("get", "port", access, "trunks"));
        }

        // A link gone: the trunk narrows, in place (the same row).
        var uuid = await Vsctl("get", "port", vtep, "_uuid");
        await using var narrower = Source(new DesiredOvsPort(vtep, null) { Trunks = [101] });
        var result = await narrower.RunPassAsync(CancellationToken.None);
        Assert.Null(result.Error);
        Assert.Contains($"update ovs port {vtep} on {Bridge}: trunks [100,101,102], want [101]", result.Applied.Select(op => op.ToString()));
        Assert.Equal(("[101]", uuid), (await Vsctl("get", "port", vtep, "trunks"), await Vsctl("get", "port", vtep, "_uuid")));
        Assert.Equal([vtep], await PortsOf(Bridge));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4096)]
    [InlineData(70000)]
    public async Task A_trunked_vlan_outside_0_to_4095_is_refused_naming_the_port_and_nothing_is_made(int vlan)
    {
        var port = Box.Name("vx");
        var ex = Assert.Throws<ArgumentException>(() => Source(new DesiredOvsPort(port, null) { Trunks = [100, vlan] }));
        Assert.Contains($"ovs port '{port}': trunks", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0 to 4095", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await Bridges());
    }

    [Fact]
    public async Task A_port_moved_to_another_bridge_is_moved_back_and_the_other_bridge_is_left_alone()
    {
        var (port, kept, other, theirs) = (Box.Name("p1"), Box.Name("p2"), Box.Name("bx"), Box.Name("px"));
        await using var source = Source(new DesiredOvsPort(port, 10), new DesiredOvsPort(kept, 20));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await Vsctl("add-br", other, "--", "set", "bridge", other, "datapath_type=netdev");
        await Vsctl("add-port", other, theirs, "tag=3");

        // The same Port row moved (its mark goes with it), and its tag changed on the way.
        var uuid = await Vsctl("get", "port", port, "_uuid");
        await Vsctl("remove", "bridge", Bridge, "ports", uuid, "--", "add", "bridge", other, "ports", uuid, "--", "set", "port", port, "tag=99");
        Assert.Equal(other, await Vsctl("port-to-br", port));

        var result = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(result.Error);
        Assert.Equal([$"update ovs port {port} on {Bridge}: on bridge {other}, want {Bridge}, tag 99, want 10"], result.Applied.Select(op => op.ToString()));
        Assert.Equal((Bridge, 10, uuid), (await Vsctl("port-to-br", port), await TagOf(port), await Vsctl("get", "port", port, "_uuid")));
        Assert.Equal([theirs], await PortsOf(other));
        Assert.Equal(3, await TagOf(theirs));
        Assert.Equal([port, kept], (await PortsOf(Bridge)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_foreign_port_where_ours_should_be_is_a_conflict_and_is_left_alone()
    {
        var (port, other, mine) = (Box.Name("p1"), Box.Name("bx"), Box.Name("p2"));
        await Vsctl("add-br", other, "--", "set", "bridge", other, "datapath_type=netdev");
        await Vsctl("add-port", other, port, "tag=7");
        await using var source = Source(new DesiredOvsPort(mine, 1), new DesiredOvsPort(port, 10));

        var result = await source.RunPassAsync(CancellationToken.None);

        var conflict = Assert.Single(result.Plan, op => op.Conflict);
        Assert.Equal($"update ovs port {port} on {Bridge}: exists on bridge {other} but is not ours (unmarked)", conflict.ToString());
        var error = Assert.IsType<TerminalReconcileException>(result.Error);
        Assert.Equal($"ovs port {port} on {Bridge} exists on bridge {other} but is not ours (unmarked): not taking it over", error.Message);
        Assert.Equal((other, 7, (string?)null), (await Vsctl("port-to-br", port), await TagOf(port), await ExternalId("port", port, "aether-owner")));
        Assert.Equal([$"create ovs bridge {Bridge}: missing", $"create ovs port {mine} on {Bridge}: missing"], result.Applied.Select(op => op.ToString()));
    }

    [Fact]
    public async Task A_foreign_bridge_of_the_desired_name_is_a_conflict_and_nothing_is_added_to_it()
    {
        await Vsctl("add-br", Bridge, "--", "set", "bridge", Bridge, "datapath_type=netdev");
        await using var source = Source(new DesiredOvsPort(Box.Name("p1"), 1));

        var result = await source.RunPassAsync(CancellationToken.None);

        Assert.Equal([$"update ovs bridge {Bridge}: exists but is not ours (unmarked)"], result.Plan.Select(op => op.ToString()));
        Assert.IsType<TerminalReconcileException>(result.Error);
        Assert.Empty(await PortsOf(Bridge));
        Assert.Null(await ExternalId("bridge", Bridge, "aether-owner"));
    }

    [Fact]
    public async Task Our_ports_no_longer_desired_go_and_foreign_ports_on_our_bridge_stay()
    {
        var (stay, gone, foreign) = (Box.Name("p1"), Box.Name("p2"), Box.Name("px"));
        await using (var before = Source(new DesiredOvsPort(stay, 1), new DesiredOvsPort(gone, 2)))
        {
            Assert.Null((await before.RunPassAsync(CancellationToken.None)).Error);
        }

        await Vsctl("add-port", Bridge, foreign, "tag=2");
        await using var after = Source(new DesiredOvsPort(stay, 1));
        var result = await after.RunPassAsync(CancellationToken.None);

        Assert.Null(result.Error);
        Assert.Equal([$"delete ovs port {gone} on {Bridge}: no longer desired"], result.Applied.Select(op => op.ToString()));
        Assert.Equal([stay, foreign], (await PortsOf(Bridge)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task With_no_bridge_desired_everything_of_ours_goes_and_nothing_else()
    {
        var (port, other, mine, theirs) = (Box.Name("p1"), Box.Name("bx"), Box.Name("p2"), Box.Name("px"));
        await using (var source = Source(new DesiredOvsPort(port, 1)))
        {
            Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        }

        await Vsctl("add-br", other, "--", "set", "bridge", other, "datapath_type=netdev");
        await Vsctl("add-port", other, theirs);
        await Database.AddPortAsync(Bridge, mine, 5, Owner);
        var uuid = await Vsctl("get", "port", mine, "_uuid");
        await Vsctl("remove", "bridge", Bridge, "ports", uuid, "--", "add", "bridge", other, "ports", uuid); // ours, on their bridge

        await using var none = new OvsBridgeSource(Endpoint, Owner, null);
        var result = await none.RunPassAsync(CancellationToken.None);

        Assert.Null(result.Error);
        Assert.Equal([$"delete ovs bridge {Bridge}: no longer desired", $"delete ovs port {mine} on {other}: no longer desired"], result.Applied.Select(op => op.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal([other], await Bridges());
        Assert.Equal([theirs], await PortsOf(other));
        Assert.True((await none.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task The_monitor_hint_arrives_after_an_ovs_vsctl_change()
    {
        var port = Box.Name("p1");
        await using var source = Source(new DesiredOvsPort(port, 10));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var hints = Channel.CreateUnbounded<object>();
        var pump = Task.Run(async () =>
        {
            await foreach (var hint in source.Subscribe(stop.Token)!)
            {
                await hints.Writer.WriteAsync(hint);
            }
        });

        // The first hint says the monitor is live (the loop looks again: what changed before it was is not missed);
        // then ovs-vsctl's change comes through.
        Assert.IsType<OvsdbMonitor>(await hints.Reader.ReadAsync(stop.Token));
        await Vsctl("set", "port", port, "tag=12");
        var update = Assert.IsType<OvsdbUpdate>(await hints.Reader.ReadAsync(stop.Token));
        Assert.Contains(update.Rows, r => r.Table == "Port" && r.New?.GetProperty("name").GetString() == port);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pump);
    }

    [Fact]
    public async Task Under_a_reconcile_loop_an_ovs_vsctl_change_is_repaired_by_its_hint_not_the_timer()
    {
        var port = Box.Name("p1");
        await using var source = Source(new DesiredOvsPort(port, 10));
        var loop = new ReconcileLoop(source, new ReconcileLoopOptions { Resync = TimeSpan.FromMinutes(10) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var first = await loop.Reports.ReadAsync(timeout.Token);
            Assert.Equal((PassOutcome.Converged, 2), (first.Outcome, first.Applied.Count));
            Assert.Equal(10, await TagOf(port));
            await Task.Delay(300); // the updates of our own pass come through as hints: let their pass go by
            while (loop.Reports.TryRead(out _))
            {
            }

            var changed = DateTimeOffset.UtcNow;
            await Vsctl("set", "port", port, "tag=13");
            PassReport repair;
            do
            {
                repair = await loop.Reports.ReadAsync(timeout.Token);
            }
            while (repair.Applied.Count == 0);

            Assert.Equal([$"update ovs port {port} on {Bridge}: tag 13, want 10"], repair.Applied.Select(op => op.ToString()));
            Assert.True(repair.Started - changed < TimeSpan.FromSeconds(5), $"the repair pass started {repair.Started - changed} after the change");
            Assert.Equal(10, await TagOf(port));
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_source_reconnects_after_ovsdb_server_closed_its_connection()
    {
        var port = Box.Name("p1");
        await using var source = Source(new DesiredOvsPort(port, 10));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        // ovsdb-server drops every connection it serves when told to reconnect them.
        await Vsctl("--no-wait", "set", "port", port, "tag=3");
        (int code, _, string stderr) = await RunAsync("ovs-appctl", "-t", Path.Combine(Ovs.Directory, "ovsdb-server.ctl"), "ovsdb-server/reconnect");
        Assert.True(code == 0, stderr);
        await Client.Completion.WaitAsync(TimeSpan.FromSeconds(5)); // the test's own client was dropped too
        Assert.IsType<OvsdbConnectionException>(Client.CloseReason);

        var result = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(result.Error);
        Assert.Equal(10, await TagOf(port));
    }

    private OvsBridgeSource Source(params DesiredOvsPort[] ports) => new(Endpoint, Owner, new DesiredOvsBridge(Bridge, ports));

    private static Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, params string[] args) =>
        Netlink.IntegrationTests.Infrastructure.Ip.ExecAsync(program, args);
}
