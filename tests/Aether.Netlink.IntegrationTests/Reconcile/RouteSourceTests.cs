using System.Net;
using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>Route sources against the kernel, one pass at a time, checked with <c>ip -j -d route show</c>. Every route
/// lives in the test's own namespace: a veth pair <c>A</c>/<c>B</c>, 10.50.0.1/24 and fd00:50::1/64 on <c>A</c>.</summary>
public sealed class RouteSourceTests : RouteSourceTest
{
    [Fact]
    public async Task A_pass_adds_the_routes_with_our_protocol_then_the_next_finds_nothing_to_do()
    {
        var source = Source(Desired());
        Assert.Equal("routes in " + Ns, source.Name);
        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal(3, first.Applied.Count);
        Assert.All(first.Applied, op => Assert.Equal(OperationKind.Create, op.Kind));

        var gw = await RequireRouteAsync("-4", "default");
        Assert.Equal("10.50.0.2", Ip.Str(gw, "gateway"));
        Assert.Equal(A, Ip.Str(gw, "dev"));
        Assert.Equal(Proto, Ip.Str(gw, "protocol"));
        var lan = await RequireRouteAsync("-4", "10.60.0.0/24");
        Assert.Equal(B, Ip.Str(lan, "dev"));
        Assert.Null(Ip.Str(lan, "gateway"));
        Assert.Equal("link", Ip.Str(lan, "scope"));
        Assert.Equal(Proto, Ip.Str(lan, "protocol"));
        var v6 = await RequireRouteAsync("-6", "fd00:60::/64");
        Assert.Equal("fd00:50::2", Ip.Str(v6, "gateway"));
        Assert.Equal(A, Ip.Str(v6, "dev"));
        Assert.Equal(1024, Ip.Int(v6, "metric"));
        Assert.Equal(Proto, Ip.Str(v6, "protocol"));
        Assert.Equal(3, source.Record.Count);

        var second = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(second.Error);
        Assert.True(second.Plan.IsEmpty, string.Join("; ", second.Plan));
    }

    [Fact]
    public async Task A_route_deleted_with_ip_is_restored()
    {
        var source = Source(Desired());
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        await Ip.RunAsync("-n", Ns, "route", "del", "default");
        await Ip.RunAsync("-n", Ns, "-6", "route", "del", "fd00:60::/64");
        Assert.Null(await RouteAsync("-4", "default"));

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(2, pass.Applied.Count);
        Assert.Equal(Proto, Ip.Str(await RequireRouteAsync("-4", "default"), "protocol"));
        Assert.Equal(Proto, Ip.Str(await RequireRouteAsync("-6", "fd00:60::/64"), "protocol"));
    }

    [Fact]
    public async Task A_route_replaced_with_ip_is_restored_with_our_protocol()
    {
        var source = Source(Desired());
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        await Ip.RunAsync("-n", Ns, "route", "replace", "default", "via", "10.50.0.3");
        var replaced = await RequireRouteAsync("-4", "default");
        Assert.Equal("boot", Ip.Str(replaced, "protocol")); // why the record exists

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        var op = Assert.Single(pass.Applied);
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Contains("via 10.50.0.3, want via 10.50.0.2", op.Reason, StringComparison.Ordinal);
        var gw = await RequireRouteAsync("-4", "default");
        Assert.Equal("10.50.0.2", Ip.Str(gw, "gateway"));
        Assert.Equal(Proto, Ip.Str(gw, "protocol"));
        Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task Foreign_routes_next_to_ours_are_left_alone()
    {
        await Ip.RunAsync("-n", Ns, "route", "add", "10.70.0.0/24", "via", "10.50.0.9");
        await Ip.RunAsync("-n", Ns, "route", "add", "default", "via", "10.50.0.9", "metric", "100");
        await Ip.RunAsync("-n", Ns, "route", "add", "default", "via", "10.50.0.9", "table", "100");
        await Ip.RunAsync("-n", Ns, "-6", "route", "add", "fd00:70::/64", "via", "fd00:50::9", "proto", "static");
        var before = await AllRoutesAsync();

        var source = Source(Desired());
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        var again = await source.RunPassAsync(CancellationToken.None);
        Assert.True(again.Plan.IsEmpty, string.Join("; ", again.Plan));

        var after = await AllRoutesAsync();
        Assert.Subset(after, before); // nothing that was there changed or went
        // What came is our three routes; the kernel may add its own IPv6 routes meanwhile (DAD finishing on a link).
        var added = after.Except(before).Where(r => !r.Contains("\"protocol\":\"kernel\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, added.Count);
        Assert.All(added, r => Assert.Contains($"\"protocol\":\"{Proto}\"", r, StringComparison.Ordinal));
        Assert.Equal("boot", Ip.Str(await RequireRouteAsync("-4", "10.70.0.0/24"), "protocol"));
    }

    [Fact]
    public async Task A_foreign_route_at_a_desired_key_is_a_conflict_and_stays_untouched()
    {
        await Ip.RunAsync("-n", Ns, "route", "add", "default", "via", "10.50.0.9");
        var source = Source(Desired());

        for (var i = 0; i < 2; i++)
        {
            var pass = await source.RunPassAsync(CancellationToken.None);
            var error = Assert.IsType<TerminalReconcileException>(pass.Error);
            Assert.Contains("route 254 0.0.0.0/0 metric 0", error.Message, StringComparison.Ordinal);
            Assert.Contains("not ours", error.Message, StringComparison.Ordinal);
            var gw = await RequireRouteAsync("-4", "default");
            Assert.Equal("10.50.0.9", Ip.Str(gw, "gateway"));
            Assert.Equal("boot", Ip.Str(gw, "protocol"));
        }

        Assert.Equal(0, source.Record.Count);
    }

    [Fact]
    public async Task With_adopt_a_foreign_route_at_a_desired_key_is_replaced()
    {
        await Ip.RunAsync("-n", Ns, "route", "add", "default", "via", "10.50.0.9");
        var source = Source(Desired(), new RouteSourceOptions { Conflicts = ConflictPolicy.Adopt });

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Contains(pass.Applied, op => op.Kind == OperationKind.Update && op.Reason.Contains("adopting", StringComparison.Ordinal));
        var gw = Assert.Single(await RoutesAsync("-4", "default"));
        Assert.Equal("10.50.0.2", Ip.Str(gw, "gateway"));
        Assert.Equal(Proto, Ip.Str(gw, "protocol"));
        Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task Owned_routes_no_longer_desired_are_removed_and_foreign_ones_stay()
    {
        var record = AppliedRecord.InMemory();
        Assert.Null((await Source(Desired(), new RouteSourceOptions { Record = record }).RunPassAsync(CancellationToken.None)).Error);
        await Ip.RunAsync("-n", Ns, "route", "add", "10.70.0.0/24", "via", "10.50.0.9");
        // Ours by the record only: its protocol rewritten by hand.
        await Ip.RunAsync("-n", Ns, "route", "replace", "10.60.0.0/24", "dev", B);
        Assert.Equal("boot", Ip.Str(await RequireRouteAsync("-4", "10.60.0.0/24"), "protocol"));

        var fewer = Source([Desired()[0]], new RouteSourceOptions { Record = record });
        var pass = await fewer.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(2, pass.Applied.Count);
        Assert.All(pass.Applied, op => Assert.Equal(OperationKind.Delete, op.Kind));
        Assert.Null(await RouteAsync("-4", "10.60.0.0/24"));
        Assert.Null(await RouteAsync("-6", "fd00:60::/64"));
        Assert.NotNull(await RouteAsync("-4", "default"));
        Assert.NotNull(await RouteAsync("-4", "10.70.0.0/24"));
        Assert.Equal(1, record.Count);
        Assert.True((await fewer.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task Two_owners_sharing_a_namespace_and_the_protocol_leave_each_others_routes_alone()
    {
        // Two topologies with routes in one namespace (the host, typically): each knows its own by its record.
        var first = AppliedRecord.InMemory();
        var second = AppliedRecord.InMemory();
        var mine = new DesiredRoute { Destination = IPPrefix.Parse("10.61.0.0/24"), Device = B };
        var theirs = new DesiredRoute { Destination = IPPrefix.Parse("10.62.0.0/24"), Device = B };
        Assert.Null((await Source([mine], new RouteSourceOptions { Record = first, OwnsProtocol = false }).RunPassAsync(CancellationToken.None)).Error);
        Assert.Null((await Source([theirs], new RouteSourceOptions { Record = second, OwnsProtocol = false }).RunPassAsync(CancellationToken.None)).Error);
        Assert.Equal(Proto, Ip.Str(await RequireRouteAsync("-4", "10.62.0.0/24"), "protocol"));

        // The first no longer wants its route: it deletes its own and not the second's, which carries the same protocol.
        var emptied = Source([], new RouteSourceOptions { Record = first, OwnsProtocol = false });
        var pass = await emptied.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal("route 254 10.61.0.0/24 metric 0", Assert.Single(pass.Applied).Target);
        Assert.Null(await RouteAsync("-4", "10.61.0.0/24"));
        Assert.NotNull(await RouteAsync("-4", "10.62.0.0/24"));
        Assert.True((await emptied.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);

        // With the default (one owner per namespace) the protocol alone makes a route ours.
        Assert.Contains((await Source([]).RunPassAsync(CancellationToken.None)).Applied, op => op.Target == "route 254 10.62.0.0/24 metric 0");
        Assert.Null(await RouteAsync("-4", "10.62.0.0/24"));
    }

    [Fact]
    public async Task A_route_in_another_table_owned_by_protocol_is_removed_when_no_longer_desired()
    {
        var inTable = new DesiredRoute { Destination = IPPrefix.Parse("10.80.0.0/24"), Gateway = IPAddress.Parse("10.50.0.2"), Table = 100, Metric = 7 };
        Assert.Null((await Source([inTable]).RunPassAsync(CancellationToken.None)).Error);
        var made = Assert.Single(await RoutesAsync("-4", "10.80.0.0/24", "100"));
        Assert.Equal(7, Ip.Int(made, "metric"));

        // A new source, with an empty record: the protocol alone says the route is ours.
        var pass = await Source([]).RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal("route 100 10.80.0.0/24 metric 7", Assert.Single(pass.Applied).Target);
        Assert.Empty(await RoutesAsync("-4", "10.80.0.0/24", "100"));
    }

    [Fact]
    public async Task A_restarted_source_records_the_routes_it_finds_marked_so_later_drift_is_healed()
    {
        Assert.Null((await Source(Desired()).RunPassAsync(CancellationToken.None)).Error);

        var restarted = Source(Desired());
        Assert.True((await restarted.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
        Assert.Equal(3, restarted.Record.Count);
        await Ip.RunAsync("-n", Ns, "route", "replace", "default", "via", "10.50.0.3");

        var pass = await restarted.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(Proto, Ip.Str(await RequireRouteAsync("-4", "default"), "protocol"));
        Assert.Equal("10.50.0.2", Ip.Str(await RequireRouteAsync("-4", "default"), "gateway"));
    }

    [Fact]
    public async Task A_missing_device_fails_retryably_then_converges_when_it_appears()
    {
        var c = Box.Name("c");
        var source = Source([new DesiredRoute { Destination = IPPrefix.Parse("10.90.0.0/24"), Device = c }]);
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.NotNull(pass.Error);
        Assert.IsNotType<TerminalReconcileException>(pass.Error);
        Assert.Contains($"link {c} missing", pass.Error!.Message, StringComparison.Ordinal);

        await Ip.RunAsync("-n", Ns, "link", "add", c, "type", "veth", "peer", "name", Box.Name("d"));
        await Ip.RunAsync("-n", Ns, "link", "set", c, "up");
        pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        var route = await RequireRouteAsync("-4", "10.90.0.0/24");
        Assert.Equal(c, Ip.Str(route, "dev"));
        Assert.Equal(Proto, Ip.Str(route, "protocol"));
    }

    [Fact]
    public async Task An_unreachable_gateway_fails_retryably_then_converges_when_an_address_makes_it_reachable()
    {
        var source = Source(
        [
            new DesiredRoute { Destination = IPPrefix.Parse("10.91.0.0/24"), Gateway = IPAddress.Parse("10.77.0.1") },
            new DesiredRoute { Destination = IPPrefix.Parse("fd00:91::/64"), Gateway = IPAddress.Parse("fd00:77::1") },
        ]);
        var pass = await source.RunPassAsync(CancellationToken.None);
        var error = Assert.IsType<NetlinkException>(pass.Error);
        Assert.Equal("ENETUNREACH", error.ErrnoName);

        await Handle.AddAddressAsync(new AddressSpec(BIndex, IPPrefix.Parse("10.77.0.5/24")));
        pass = await source.RunPassAsync(CancellationToken.None);
        Assert.IsType<NetlinkException>(pass.Error); // the IPv6 gateway is still out of reach
        Assert.Equal(Proto, Ip.Str(await RequireRouteAsync("-4", "10.91.0.0/24"), "protocol"));

        await Handle.AddAddressAsync(new AddressSpec(BIndex, IPPrefix.Parse("fd00:77::5/64")));
        pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(B, Ip.Str(await RequireRouteAsync("-6", "fd00:91::/64"), "dev"));
    }
}

/// <summary>Loops run on timers: apart from the parallel kernel tests, so that deadlines measure the loop.</summary>
[CollectionDefinition(nameof(RouteSourceLoopTests), DisableParallelization = true)]
public sealed class RouteSourceLoopCollection
{
}

[Collection(nameof(RouteSourceLoopTests))]
public sealed class RouteSourceLoopTests : RouteSourceTest
{
    [Fact]
    public async Task A_loop_restores_a_deleted_route_within_seconds()
    {
        using var loop = new ReconcileLoop(Source(Desired()), new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => await RouteAsync("-4", "default") is not null && await RouteAsync("-6", "fd00:60::/64") is not null, loop);
            var passes = loop.Status.Passes;
            await Ip.RunAsync("-n", Ns, "route", "del", "default");
            await Ip.RunAsync("-n", Ns, "route", "replace", "10.60.0.0/24", "dev", A);
            await WaitForAsync(
                async () => await RouteAsync("-4", "default") is { } gw && Ip.Str(gw, "protocol") == Proto
                    && await RouteAsync("-4", "10.60.0.0/24") is { } lan && Ip.Str(lan, "dev") == B && Ip.Str(lan, "protocol") == Proto,
                loop);
            Assert.True(loop.Status.Passes > passes);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }
}

/// <summary>The shared setup: the namespace, its addresses, the desired routes and the oracle's queries.</summary>
public abstract class RouteSourceTest : NamespaceTest
{
    protected const string Proto = "174";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    protected override async Task SetUpAsync()
    {
        await base.SetUpAsync();
        await Handle.AddAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("10.50.0.1/24")));
        await Handle.AddAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("fd00:50::1/64")));
    }

    protected DesiredRoute[] Desired() =>
    [
        new DesiredRoute { Gateway = IPAddress.Parse("10.50.0.2") },
        new DesiredRoute { Destination = IPPrefix.Parse("10.60.0.0/24"), Device = B },
        new DesiredRoute { Destination = IPPrefix.Parse("fd00:60::/64"), Gateway = IPAddress.Parse("fd00:50::2"), Device = A },
    ];

    protected RouteSource Source(DesiredRoute[] desired, RouteSourceOptions? options = null) => new(Handle, desired, options);

    /// <summary><c>ip -j -d FAMILY route show table TABLE</c>, the routes to <paramref name="dst"/>.</summary>
    protected async Task<JsonElement[]> RoutesAsync(string family, string dst, string table = "main") =>
        [.. (await Ip.JsonAsync(Ns, "-d", family, "route", "show", "table", table)).Where(r => Ip.Str(r, "dst") == dst)];

    /// <summary>The one route to <paramref name="dst"/> in the main table at the family's default metric, or null.</summary>
    protected async Task<JsonElement?> RouteAsync(string family, string dst)
    {
        var routes = (await RoutesAsync(family, dst)).Where(r => (Ip.Int(r, "metric") ?? 0) is 0 or 1024).ToArray();
        return routes.Length switch
        {
            0 => null,
            1 => routes[0],
            _ => throw new Xunit.Sdk.XunitException($"ip: {routes.Length} routes to {dst}: {string.Join(", ", routes.Select(r => r.GetRawText()))}"),
        };
    }

    protected async Task<JsonElement> RequireRouteAsync(string family, string dst) =>
        await RouteAsync(family, dst) ?? throw new Xunit.Sdk.XunitException($"ip: no route to {dst} in {Ns}");

    /// <summary>Every route of both families in every table, as the JSON text <c>ip</c> printed for each.</summary>
    protected async Task<HashSet<string>> AllRoutesAsync()
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in new[] { "-4", "-6" })
        {
            foreach (var r in await Ip.JsonAsync(Ns, "-d", family, "route", "show", "table", "all"))
            {
                all.Add(r.GetRawText());
            }
        }

        return all;
    }

    protected static async Task WaitForAsync(Func<Task<bool>> condition, ReconcileLoop? loop = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                var s = loop?.Status;
                Assert.Fail($"condition not met in time; loop: {s?.Passes} passes, running {s?.Running}, {s?.ConsecutiveFailures} failures, last {s?.LastReport?.Outcome}: {s?.LastReport?.Error}; next {s?.NextPass}");
            }

            await Task.Delay(20);
        }
    }
}
