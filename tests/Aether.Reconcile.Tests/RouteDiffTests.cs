using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile.Sources;
using RouteScope = Aether.Netlink.Rtnl.Scope;

namespace Aether.Reconcile.Tests;

/// <summary>The route diff, without a socket: observations are built by hand.</summary>
public sealed class RouteDiffTests
{
    private const byte Ours = RouteSource.DefaultProtocol;
    private const int Eth0 = 2;
    private const int Eth1 = 3;

    private static readonly Dictionary<string, int> Links = new(StringComparer.Ordinal) { ["eth0"] = Eth0, ["eth1"] = Eth1 };

    private static readonly DesiredRoute Default = new() { Gateway = IPAddress.Parse("10.0.0.1") };
    private static readonly DesiredRoute Lan = new() { Destination = IPPrefix.Parse("10.9.0.0/16"), Device = "eth0" };
    private static readonly DesiredRoute V6 = new() { Destination = IPPrefix.Parse("fd00:9::/64"), Gateway = IPAddress.Parse("fd00::1"), Device = "eth0" };

    private const string DefaultKey = "route 254 0.0.0.0/0 metric 0";
    private const string LanKey = "route 254 10.9.0.0/16 metric 0";
    private const string V6Key = "route 254 fd00:9::/64 metric 1024";

    [Fact]
    public void Keys_carry_family_table_destination_and_the_metric_the_kernel_stores()
    {
        Assert.Equal(DefaultKey, RouteSource.KeyOf(Default));
        Assert.Equal("route 254 ::/0 metric 1024", RouteSource.KeyOf(new DesiredRoute { Gateway = IPAddress.Parse("fd00::1") }));
        Assert.Equal("route 254 ::/0 metric 1024", RouteSource.KeyOf(new DesiredRoute { Gateway = IPAddress.Parse("fd00::1"), Metric = 0 }));
        Assert.Equal("route 100 0.0.0.0/0 metric 5", RouteSource.KeyOf(new DesiredRoute { Destination = IPPrefix.Parse("0.0.0.0/0"), Device = "eth0", Table = 100, Metric = 5 }));
        Assert.Equal(DefaultKey, RouteSource.KeyOf(new Route { Gateway = IPAddress.Parse("10.0.0.2"), Protocol = 3 }));
        Assert.Equal(V6Key, RouteSource.KeyOf(new Route { Family = AddressFamily.InterNetworkV6, Destination = IPPrefix.Parse("fd00:9::/64"), Metric = 1024 }));
    }

    [Fact]
    public void Missing_routes_are_created()
    {
        var plan = Source(Default, Lan, V6).Diff(Observe());
        Assert.Equal([DefaultKey, LanKey, V6Key], plan.Select(op => op.Target));
        Assert.All(plan, op => Assert.Equal(OperationKind.Create, op.Kind));
        Assert.All(plan, op => Assert.Equal(Stage.Routes, op.Stage));
        var lan = Assert.IsType<RouteOperation>(plan[1]);
        Assert.Equal(Eth0, lan.OutputIndex);
        Assert.Null(lan.MissingDevice);
        Assert.Equal("missing", lan.Reason);
    }

    [Fact]
    public void Routes_that_match_need_nothing()
    {
        var plan = Source(Default, Lan, V6).Diff(Observe(
            Kernel(Default, Eth0),
            Kernel(Lan, Eth0),
            Kernel(V6, Eth0)));
        Assert.True(plan.IsEmpty, string.Join("; ", plan));
    }

    [Fact]
    public void A_missing_device_is_a_create_that_names_it()
    {
        var want = Lan with { Device = "eth9" };
        var op = Assert.IsType<RouteOperation>(Assert.Single(Source(want).Diff(Observe())));
        Assert.Equal(OperationKind.Create, op.Kind);
        Assert.Equal("eth9", op.MissingDevice);
        Assert.Null(op.OutputIndex);
        Assert.Contains("link eth9 is missing", op.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Drift_in_an_owned_route_is_an_update_that_lists_the_differences()
    {
        var want = Default with { Device = "eth0", PreferredSource = IPAddress.Parse("10.0.0.5") };
        var have = Kernel(want, Eth1) with { Gateway = IPAddress.Parse("10.0.0.9"), PreferredSource = null };
        var op = Assert.Single(Source(want).Diff(Observe(have)));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Equal(DefaultKey, op.Target);
        Assert.Equal("via 10.0.0.9, want via 10.0.0.1, dev eth1, want dev eth0, no src, want src 10.0.0.5", op.Reason);
    }

    [Fact]
    public void Scope_onlink_and_type_drift_are_seen()
    {
        var want = new DesiredRoute { Destination = IPPrefix.Parse("10.8.0.0/24"), Gateway = IPAddress.Parse("192.168.1.1"), Device = "eth0", OnLink = true };
        var have = Kernel(want, Eth0) with { OnLink = false, Scope = RouteScope.Link, Type = 6 };
        var op = Assert.Single(Source(want).Diff(Observe(have)));
        Assert.Equal("type 6, want unicast, scope link, want scope global, not onlink, want onlink", op.Reason);
    }

    [Fact]
    public void Without_a_desired_device_the_device_is_not_compared()
    {
        var plan = Source(Default).Diff(Observe(Kernel(Default, Eth1)));
        Assert.True(plan.IsEmpty, string.Join("; ", plan));
    }

    [Fact]
    public void A_route_we_recorded_whose_protocol_was_rewritten_is_drift_not_a_conflict()
    {
        var have = Kernel(Default, Eth0) with { Gateway = IPAddress.Parse("10.0.0.9"), Protocol = Route.ProtocolBoot };
        var op = Assert.IsType<RouteOperation>(Assert.Single(Source(Default).Diff(Observe([have], DefaultKey))));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.False(op.Conflict);
        Assert.Equal("via 10.0.0.9, want via 10.0.0.1, protocol 3, want 174", op.Reason);
    }

    [Fact]
    public void A_foreign_route_at_our_key_is_a_conflict_under_report()
    {
        var have = Kernel(Default, Eth0) with { Gateway = IPAddress.Parse("10.0.0.9"), Protocol = Route.ProtocolBoot };
        var op = Assert.IsType<RouteOperation>(Assert.Single(Source(Default).Diff(Observe(have))));
        Assert.True(op.Conflict);
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Contains("not ours", op.Reason, StringComparison.Ordinal);
        Assert.Contains("protocol 3", op.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_foreign_route_that_matches_but_for_the_protocol_is_still_a_conflict()
    {
        var op = Assert.IsType<RouteOperation>(Assert.Single(Source(Lan).Diff(Observe(Kernel(Lan, Eth0) with { Protocol = 2 /* RTPROT_KERNEL */ }))));
        Assert.True(op.Conflict);
    }

    [Fact]
    public void A_foreign_route_at_our_key_is_replaced_under_adopt()
    {
        var have = Kernel(Default, Eth0) with { Gateway = IPAddress.Parse("10.0.0.9"), Protocol = Route.ProtocolStatic };
        var source = new RouteSource([Default], new RouteSourceOptions { Conflicts = ConflictPolicy.Adopt });
        var op = Assert.IsType<RouteOperation>(Assert.Single(source.Diff(Observe(have))));
        Assert.False(op.Conflict);
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Contains("adopting", op.Reason, StringComparison.Ordinal);
        Assert.Same(Default, op.Route);
    }

    [Fact]
    public async Task Applying_a_conflict_is_terminal()
    {
        var have = Kernel(Default, Eth0) with { Protocol = Route.ProtocolBoot };
        var source = Source(Default);
        var op = Assert.Single(source.Diff(Observe(have)));
        var ex = await Assert.ThrowsAsync<TerminalReconcileException>(() => source.ApplyAsync(op, CancellationToken.None));
        Assert.Contains(DefaultKey, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not taking it over", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Applying_with_a_missing_device_fails_retryably()
    {
        var source = Source(Lan with { Device = "eth9" });
        var op = Assert.Single(source.Diff(Observe()));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => source.ApplyAsync(op, CancellationToken.None));
        Assert.IsNotType<TerminalReconcileException>(ex);
        Assert.Contains("link eth9 missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Owned_routes_no_longer_desired_are_deleted_by_protocol_or_by_record()
    {
        var byProtocol = Kernel(Lan, Eth0);
        var byRecord = Kernel(V6, Eth0) with { Protocol = Route.ProtocolBoot };
        var plan = Source(Default).Diff(Observe([Kernel(Default, Eth0), byProtocol, byRecord], V6Key));
        Assert.Equal(2, plan.Count);
        Assert.All(plan, op => Assert.Equal(OperationKind.Delete, op.Kind));
        Assert.Equal([LanKey, V6Key], plan.Select(op => op.Target).Order(StringComparer.Ordinal));
        Assert.Same(byRecord, ((RouteOperation)plan.Single(op => op.Target == V6Key)).Existing);
    }

    [Fact]
    public void Foreign_kernel_and_other_table_routes_are_left_alone()
    {
        var connected = new Route { Destination = IPPrefix.Parse("10.0.0.0/24"), OutputIndex = Eth0, Protocol = 2 /* RTPROT_KERNEL */, Scope = RouteScope.Link };
        var foreign = new Route { Destination = IPPrefix.Parse("10.7.0.0/16"), Gateway = IPAddress.Parse("10.0.0.1"), OutputIndex = Eth0, Protocol = Route.ProtocolBoot, Scope = RouteScope.Universe };
        var otherTable = Kernel(Default, Eth0) with { Table = 100, Protocol = Route.ProtocolStatic };
        var otherMetric = Kernel(Default, Eth0) with { Metric = 100, Protocol = Route.ProtocolBoot };
        var plan = Source(Default).Diff(Observe(Kernel(Default, Eth0), connected, foreign, otherTable, otherMetric));
        Assert.True(plan.IsEmpty, string.Join("; ", plan));
    }

    [Fact]
    public void A_recorded_route_that_is_gone_and_not_desired_is_forgotten()
    {
        var op = Assert.IsType<RouteOperation>(Assert.Single(Source().Diff(Observe([], LanKey))));
        Assert.Equal(OperationKind.Delete, op.Kind);
        Assert.Null(op.Existing);
        Assert.Equal(LanKey, op.Target);
    }

    [Fact]
    public async Task Applying_a_forget_removes_the_record_entry_and_touches_nothing_else()
    {
        var record = AppliedRecord.InMemory();
        record.Set(LanKey, new AppliedEntry(Lan.ToString()));
        var source = new RouteSource([], new RouteSourceOptions { Record = record });
        var op = Assert.Single(source.Diff(new RouteObservation(Links, [], record.Snapshot())));
        await source.ApplyAsync(op, CancellationToken.None); // no socket: a forget needs none
        Assert.Equal(0, record.Count);
        Assert.True(source.Diff(new RouteObservation(Links, [], record.Snapshot())).IsEmpty);
    }

    [Fact]
    public void Keys_of_other_sources_in_a_shared_record_are_not_routes()
    {
        var plan = Source().Diff(Observe([], "address eth0 10.0.0.1/24"));
        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Deletes_come_before_creates_and_updates_keep_the_desired_order()
    {
        var stale = Kernel(new DesiredRoute { Destination = IPPrefix.Parse("10.6.0.0/16"), Device = "eth1" }, Eth1);
        var drifted = Kernel(Lan, Eth1);
        var plan = Source(Default, Lan).Diff(Observe(stale, drifted));
        Assert.Equal(
            [(OperationKind.Delete, "route 254 10.6.0.0/16 metric 0"), (OperationKind.Create, DefaultKey), (OperationKind.Update, LanKey)],
            plan.Select(op => (op.Kind, op.Target)));
    }

    [Fact]
    public void Another_protocol_number_marks_other_routes()
    {
        var source = new RouteSource([Default], new RouteSourceOptions { Protocol = 200 });
        var plan = source.Diff(Observe(Kernel(Default, Eth0)));
        Assert.True(Assert.IsType<RouteOperation>(Assert.Single(plan)).Conflict);
        Assert.True(source.Diff(Observe(Kernel(Default, Eth0) with { Protocol = 200 })).IsEmpty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(42)]
    [InlineData(186)]
    [InlineData(192)]
    public void Protocols_the_kernel_or_iproute2_name_are_refused(byte protocol)
    {
        var ex = Assert.Throws<ArgumentException>(() => new RouteSource([Default], new RouteSourceOptions { Protocol = protocol }));
        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_protocol_is_free() => Assert.Equal(Ours, new RouteSource([Default]).Protocol);

    [Fact]
    public void A_route_without_gateway_or_device_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Source(Default, new DesiredRoute { Destination = IPPrefix.Parse("10.5.0.0/16") }));
        Assert.Contains("route #2 (10.5.0.0/16 table 254)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("needs a gateway or a device", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Family_mismatches_are_refused()
    {
        Assert.Contains("gateway fd00::1", Assert.Throws<ArgumentException>(() => Source(Lan with { Gateway = IPAddress.Parse("fd00::1") })).Message, StringComparison.Ordinal);
        Assert.Contains("preferred source", Assert.Throws<ArgumentException>(() => Source(Lan with { PreferredSource = IPAddress.Parse("fd00::1") })).Message, StringComparison.Ordinal);
        Assert.Contains("needs its family", Assert.Throws<ArgumentException>(() => Source(new DesiredRoute { Device = "eth0" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicates_by_identity_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Source(
            new DesiredRoute { Gateway = IPAddress.Parse("fd00::1") },
            new DesiredRoute { Destination = IPPrefix.Parse("::/0"), Device = "eth0", Metric = 1024 }));
        Assert.Contains("desired twice", ex.Message, StringComparison.Ordinal);
        Assert.Contains("route 254 ::/0 metric 1024", ex.Message, StringComparison.Ordinal);

        // Another table or metric is another route.
        Source(Default, Default with { Table = 100 }, Default with { Metric = 10 });
    }

    [Fact]
    public void Other_bad_entries_are_refused_naming_the_field()
    {
        Assert.Equal("Destination", Assert.Throws<ArgumentException>(() => Source(Lan with { Destination = IPPrefix.Parse("10.9.1.0/16") })).ParamName);
        Assert.Equal("OnLink", Assert.Throws<ArgumentException>(() => Source(Default with { OnLink = true })).ParamName);
        Assert.Equal("Table", Assert.Throws<ArgumentException>(() => Source(Default with { Table = 0 })).ParamName);
        Assert.Equal("Scope", Assert.Throws<ArgumentException>(() => Source(V6 with { Scope = RouteScope.Link })).ParamName);
        Assert.Equal("Device", Assert.Throws<ArgumentException>(() => Source(Lan with { Device = "a/b" })).ParamName);
        Assert.Throws<ArgumentException>(() => Source(Lan, null!));
    }

    private static RouteSource Source(params DesiredRoute[] desired) => new(desired);

    private static RouteObservation Observe(params Route[] routes) => Observe(routes, []);

    private static RouteObservation Observe(Route[] routes, params string[] recorded) =>
        new(Links, routes, recorded.ToDictionary(k => k, _ => new AppliedEntry("x"), StringComparer.Ordinal));

    /// <summary>The desired route as the kernel would report it once we installed it.</summary>
    private static Route Kernel(DesiredRoute want, int index)
    {
        var v6 = want.Family == AddressFamily.InterNetworkV6;
        return new Route
        {
            Family = want.Family,
            Destination = want.Destination is { PrefixLength: > 0 } d ? d : null,
            Gateway = want.Gateway,
            OutputIndex = index,
            PreferredSource = want.PreferredSource,
            Table = want.Table,
            Metric = v6 ? want.Metric is null or 0 ? 1024 : want.Metric : want.Metric is 0 ? null : want.Metric,
            Protocol = Ours,
            Scope = v6 || want.Gateway is not null ? RouteScope.Universe : RouteScope.Link,
            OnLink = want.OnLink,
        };
    }
}
