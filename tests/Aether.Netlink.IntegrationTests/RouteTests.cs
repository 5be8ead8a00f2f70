using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class RouteTests : NamespaceTest
{
    private const byte Proto = 0x99;

    protected override async Task SetUpAsync()
    {
        await base.SetUpAsync();
        await Handle.AddAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("10.50.0.1/24")));
        await Handle.AddAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("fd00:50::1/64")));
    }

    [Fact]
    public async Task IPv4_gateway_route_with_table_metric_and_protocol_add_replace_delete()
    {
        var route = new Route
        {
            Destination = IPPrefix.Parse("10.60.0.0/24"),
            Gateway = IPAddress.Parse("10.50.0.2"),
            Table = 100,
            Metric = 50,
            Protocol = Proto,
        };
        await Handle.AddRouteAsync(route);

        var ip = Assert.Single(await IpRoutesAsync("-4", "table", "100"));
        Assert.Equal("10.60.0.0/24", Ip.Str(ip, "dst"));
        Assert.Equal("10.50.0.2", Ip.Str(ip, "gateway"));
        Assert.Equal(A, Ip.Str(ip, "dev"));
        Assert.Equal(50, Ip.Int(ip, "metric"));
        Assert.Equal("153", Ip.Str(ip, "protocol"));
        Assert.Equal("global", Ip.Str(ip, "scope"));
        Assert.Equal("unicast", Ip.Str(ip, "type"));
        Assert.Empty(await IpRoutesAsync("-4", "table", "main", "10.60.0.0/24"));

        var mine = Assert.Single(await Handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetwork, Table = 100 }));
        Assert.Equal(IPPrefix.Parse("10.60.0.0/24"), mine.Destination);
        Assert.Equal(IPAddress.Parse("10.50.0.2"), mine.Gateway);
        Assert.Equal(AIndex, mine.OutputIndex);
        Assert.Equal(100u, mine.Table);
        Assert.Equal(50u, mine.Metric);
        Assert.Equal(Proto, mine.Protocol);
        Assert.Equal(Scope.Universe, mine.Scope);
        Assert.Equal(Route.TypeUnicast, mine.Type);
        Assert.False(mine.OnLink);

        var dup = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddRouteAsync(route));
        Assert.Equal(Errno.EEXIST, dup.Errno);

        await Handle.ReplaceRouteAsync(route with { Gateway = IPAddress.Parse("10.50.0.3") });
        ip = Assert.Single(await IpRoutesAsync("-4", "table", "100"));
        Assert.Equal("10.50.0.3", Ip.Str(ip, "gateway"));
        Assert.Equal(50, Ip.Int(ip, "metric"));

        // Another metric is another route.
        await Handle.AddRouteAsync(route with { Metric = 60 });
        Assert.Equal(2, (await IpRoutesAsync("-4", "table", "100")).Length);

        await Handle.DeleteRouteAsync(route with { Gateway = IPAddress.Parse("10.50.0.3") });
        ip = Assert.Single(await IpRoutesAsync("-4", "table", "100"));
        Assert.Equal(60, Ip.Int(ip, "metric"));
        await Handle.DeleteRouteAsync(route with { Metric = 60 });
        Assert.Empty(await IpRoutesAsync("-4", "table", "100"));

        var gone = await Assert.ThrowsAsync<NetlinkException>(() => Handle.DeleteRouteAsync(route));
        Assert.Equal(Errno.ESRCH, gone.Errno);
        Assert.Equal("ESRCH", gone.ErrnoName);
    }

    [Fact]
    public async Task IPv6_gateway_route_with_table_metric_and_protocol_add_replace_delete()
    {
        var route = new Route
        {
            Family = AddressFamily.InterNetworkV6,
            Destination = IPPrefix.Parse("fd00:60::/64"),
            Gateway = IPAddress.Parse("fd00:50::2"),
            OutputIndex = AIndex,
            Table = 100,
            Metric = 10,
            Protocol = Proto,
        };
        await Handle.AddRouteAsync(route);

        var ip = Assert.Single(await IpRoutesAsync("-6", "table", "100"));
        Assert.Equal("fd00:60::/64", Ip.Str(ip, "dst"));
        Assert.Equal("fd00:50::2", Ip.Str(ip, "gateway"));
        Assert.Equal(A, Ip.Str(ip, "dev"));
        Assert.Equal(10, Ip.Int(ip, "metric"));
        Assert.Equal("153", Ip.Str(ip, "protocol"));

        var mine = Assert.Single(await Handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetworkV6, Table = 100 }));
        Assert.Equal(AddressFamily.InterNetworkV6, mine.Family);
        Assert.Equal(IPPrefix.Parse("fd00:60::/64"), mine.Destination);
        Assert.Equal(IPAddress.Parse("fd00:50::2"), mine.Gateway);
        Assert.Equal(10u, mine.Metric);
        Assert.Equal(Proto, mine.Protocol);
        Assert.Equal(100u, mine.Table);

        var dup = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddRouteAsync(route));
        Assert.Equal(Errno.EEXIST, dup.Errno);

        await Handle.ReplaceRouteAsync(route with { Gateway = IPAddress.Parse("fd00:50::3") });
        ip = Assert.Single(await IpRoutesAsync("-6", "table", "100"));
        Assert.Equal("fd00:50::3", Ip.Str(ip, "gateway"));

        await Handle.DeleteRouteAsync(route with { Gateway = IPAddress.Parse("fd00:50::3") });
        Assert.Empty(await IpRoutesAsync("-6", "table", "100"));
        var gone = await Assert.ThrowsAsync<NetlinkException>(() => Handle.DeleteRouteAsync(route));
        Assert.Equal(Errno.ESRCH, gone.Errno);
    }

    [Fact]
    public async Task On_link_gateway_outside_every_connected_prefix()
    {
        var route = new Route
        {
            Destination = IPPrefix.Parse("10.70.0.0/24"),
            Gateway = IPAddress.Parse("192.168.99.1"),
            OutputIndex = AIndex,
            Table = 100,
        };

        // Without onlink the kernel refuses the unreachable gateway; with it, it accepts.
        var refused = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddRouteAsync(route));
        Assert.Empty(await IpRoutesAsync("-4", "table", "100"));
        Assert.NotEqual(0, refused.Errno);

        await Handle.AddRouteAsync(route with { OnLink = true });
        var ip = Assert.Single(await IpRoutesAsync("-4", "table", "100"));
        Assert.Contains("onlink", Ip.Flags(ip));
        Assert.Equal("192.168.99.1", Ip.Str(ip, "gateway"));
        var mine = Assert.Single(await Handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetwork, Table = 100 }));
        Assert.True(mine.OnLink);
    }

    [Fact]
    public async Task Device_routes_take_link_scope_by_default_and_an_explicit_scope_when_asked()
    {
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.80.0.0/24"), OutputIndex = AIndex, Table = 100 });
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.81.0.0/24"), OutputIndex = AIndex, Table = 100, Scope = Scope.Host });

        var ip = (await IpRoutesAsync("-4", "table", "100")).ToDictionary(r => Ip.Str(r, "dst")!, StringComparer.Ordinal);
        Assert.Equal("link", Ip.Str(ip["10.80.0.0/24"], "scope"));
        Assert.Equal("host", Ip.Str(ip["10.81.0.0/24"], "scope"));
        Assert.Null(Ip.Str(ip["10.80.0.0/24"], "gateway"));

        var mine = (await Handle.ListRoutesAsync(new RouteFilter { Table = 100 })).ToDictionary(r => r.Destination!.Value.ToString(), StringComparer.Ordinal);
        Assert.Equal(Scope.Link, mine["10.80.0.0/24"].Scope);
        Assert.Equal(Scope.Host, mine["10.81.0.0/24"].Scope);
        Assert.Null(mine["10.80.0.0/24"].Gateway);
    }

    [Fact]
    public async Task Default_routes_in_a_table()
    {
        await Handle.AddRouteAsync(new Route { Gateway = IPAddress.Parse("10.50.0.2"), Table = 100, Protocol = Proto });
        await Handle.AddRouteAsync(new Route { Family = AddressFamily.InterNetworkV6, Gateway = IPAddress.Parse("fd00:50::2"), OutputIndex = AIndex, Table = 100, Protocol = Proto });

        var v4 = Assert.Single(await IpRoutesAsync("-4", "table", "100"));
        Assert.Equal("default", Ip.Str(v4, "dst"));
        Assert.Equal("10.50.0.2", Ip.Str(v4, "gateway"));
        var v6 = Assert.Single(await IpRoutesAsync("-6", "table", "100"));
        Assert.Equal("default", Ip.Str(v6, "dst"));
        Assert.Equal("fd00:50::2", Ip.Str(v6, "gateway"));

        var mine = await Handle.ListRoutesAsync(new RouteFilter { Table = 100 });
        Assert.Equal(2, mine.Count);
        Assert.All(mine, r => Assert.True(r.IsDefault));
        Assert.All(mine, r => Assert.Null(r.Destination));
        Assert.Equal(
            [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6],
            mine.Select(r => r.Family).Order());

        await Handle.DeleteRouteAsync(new Route { Gateway = IPAddress.Parse("10.50.0.2"), Table = 100 });
        Assert.Empty(await IpRoutesAsync("-4", "table", "100"));
        Assert.Single(await IpRoutesAsync("-6", "table", "100"));
    }

    [Fact]
    public async Task Table_filter_returns_exactly_what_ip_shows_for_that_table()
    {
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.61.0.0/24"), Gateway = IPAddress.Parse("10.50.0.2"), Table = 100 });
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.62.0.0/24"), OutputIndex = BIndex, Table = 100, Metric = 5 });
        await Handle.AddRouteAsync(new Route { Family = AddressFamily.InterNetworkV6, Destination = IPPrefix.Parse("fd00:61::/64"), OutputIndex = AIndex, Table = 100 });
        // Decoys in other tables.
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.63.0.0/24"), Gateway = IPAddress.Parse("10.50.0.2") });
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.64.0.0/24"), Gateway = IPAddress.Parse("10.50.0.2"), Table = 101 });

        var mine = await Handle.ListRoutesAsync(new RouteFilter { Table = 100 });
        Assert.All(mine, r => Assert.Equal(100u, r.Table));
        var expected = (await IpRoutesAsync("-4", "table", "100")).Concat(await IpRoutesAsync("-6", "table", "100")).Select(IpKey).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, expected.Length);
        Assert.Equal(expected, mine.Select(AetherKey).Order(StringComparer.Ordinal));

        var all = await Handle.ListRoutesAsync();
        Assert.Contains(all, r => r.Table == Route.MainTable && r.Destination?.ToString() == "10.63.0.0/24");
        Assert.Contains(all, r => r.Table == 101);
        Assert.True(all.Count > mine.Count);
    }

    [Fact]
    public async Task Output_device_filter_returns_only_routes_through_that_device()
    {
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.90.0.0/24"), OutputIndex = BIndex });
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.91.0.0/24"), OutputIndex = BIndex, Table = 100 });
        await Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.92.0.0/24"), OutputIndex = AIndex });

        var onB = await Handle.ListRoutesAsync(new RouteFilter { OutputIndex = BIndex });
        Assert.All(onB, r => Assert.Equal(BIndex, r.OutputIndex));
        Assert.Contains(onB, r => r.Destination?.ToString() == "10.90.0.0/24");
        Assert.Contains(onB, r => r.Destination?.ToString() == "10.91.0.0/24");

        var mainOnB = await Handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetwork, Table = Route.MainTable, OutputIndex = BIndex });
        var expected = (await IpRoutesAsync("-4", "table", "main", "dev", B)).Select(r => IpKey(r, B)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, mainOnB.Select(AetherKey).Order(StringComparer.Ordinal));
        Assert.Single(mainOnB);

        var mainOnA = await Handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetwork, Table = Route.MainTable, OutputIndex = AIndex });
        var expectedA = (await IpRoutesAsync("-4", "table", "main", "dev", A)).Select(r => IpKey(r, A)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedA, mainOnA.Select(AetherKey).Order(StringComparer.Ordinal));
        Assert.Equal(2, expectedA.Length); // 10.50.0.0/24 (kernel) and 10.92.0.0/24
    }

    [Fact]
    public async Task Routes_added_by_ip_are_read_by_Aether()
    {
        await Ip.RunAsync("-n", Ns, "route", "add", "10.65.0.0/16", "via", "10.50.0.9", "table", "100", "metric", "77", "proto", "static");
        await Ip.RunAsync("-n", Ns, "-6", "route", "add", "fd00:65::/48", "dev", B, "table", "100");

        var mine = (await Handle.ListRoutesAsync(new RouteFilter { Table = 100 })).ToDictionary(r => r.Destination!.Value.ToString(), StringComparer.Ordinal);
        var v4 = mine["10.65.0.0/16"];
        Assert.Equal(IPAddress.Parse("10.50.0.9"), v4.Gateway);
        Assert.Equal(77u, v4.Metric);
        Assert.Equal(Route.ProtocolStatic, v4.Protocol);
        Assert.Equal(AIndex, v4.OutputIndex);
        var v6 = mine["fd00:65::/48"];
        Assert.Equal(BIndex, v6.OutputIndex);
        Assert.Null(v6.Gateway);
        Assert.Equal(2, mine.Count);
    }

    private Task<JsonElement[]> IpRoutesAsync(string family, params string[] selector) =>
        Ip.JsonAsync(Ns, ["-d", family, "route", "show", .. selector]);

    private string IpKey(JsonElement r) => IpKey(r, null);

    // `ip route show dev X` leaves "dev" out of its output: the filter names it.
    private string IpKey(JsonElement r, string? impliedDev)
    {
        var dst = Ip.Str(r, "dst")!;
        var gateway = Ip.Str(r, "gateway");
        var v6 = dst.Contains(':', StringComparison.Ordinal) || gateway?.Contains(':', StringComparison.Ordinal) == true;
        if (dst != "default" && !dst.Contains('/', StringComparison.Ordinal))
        {
            dst += v6 ? "/128" : "/32";
        }
        else if (dst == "default")
        {
            dst = v6 ? "::/0" : "0.0.0.0/0";
        }

        var devName = Ip.Str(r, "dev") ?? impliedDev;
        var dev = devName == A ? AIndex : devName == B ? BIndex : -1;
        return $"{dst} via {gateway ?? "-"} dev {dev} metric {Ip.Int(r, "metric") ?? (v6 ? 1024 : 0)}";
    }

    private static string AetherKey(Route r)
    {
        var dst = r.Destination?.ToString() ?? (r.Family == AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0");
        return $"{dst} via {r.Gateway?.ToString() ?? "-"} dev {r.OutputIndex ?? -1} metric {r.Metric ?? 0}";
    }
}
