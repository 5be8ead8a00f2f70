using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class RouteValidationTests
{
    private static readonly Route Valid = new() { Destination = IPPrefix.Parse("10.9.0.0/16"), Gateway = IPAddress.Parse("10.1.0.2") };

    [Fact]
    public void Valid_routes_pass()
    {
        Valid.Validate();
        new Route { OutputIndex = 3 }.Validate();
        new Route { Family = AddressFamily.InterNetworkV6, Gateway = IPAddress.Parse("fe80::1"), OutputIndex = 3, OnLink = true, Table = 1000 }.Validate();
    }

    [Fact]
    public void Family_neither_v4_nor_v6() => Rejects.With(() => (Valid with { Family = AddressFamily.Unix }).Validate(), "Family", "Unix");

    [Fact]
    public void Destination_of_another_family() =>
        Rejects.With(() => (Valid with { Destination = IPPrefix.Parse("2001:db8::/32") }).Validate(), "Destination", "2001:db8::/32");

    [Fact]
    public void Gateway_of_another_family() =>
        Rejects.With(() => (Valid with { Gateway = IPAddress.Parse("fe80::1") }).Validate(), "Gateway", "fe80::1");

    [Fact]
    public void Neither_gateway_nor_device() => Rejects.With(() => (Valid with { Gateway = null }).Validate(), "Gateway", "10.9.0.0/16");

    [Fact]
    public void Non_positive_output_device() => Rejects.With(() => (Valid with { OutputIndex = -5 }).Validate(), "OutputIndex", "-5");

    [Fact]
    public void On_link_without_gateway() => Rejects.With(() => new Route { OutputIndex = 2, OnLink = true }.Validate(), "OnLink", "gateway");

    [Fact]
    public void Table_zero() => Rejects.With(() => (Valid with { Table = 0 }).Validate(), "Table", "table 0");
}
