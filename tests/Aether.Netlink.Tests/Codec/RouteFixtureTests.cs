using System.Net;
using System.Net.Sockets;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// RTM_NEWROUTE request and dump replies. Captured on kernel 6.18.44-fc-v669, iproute2-6.1.0, as root, in namespace
/// ut8148 where va (ifindex 3, up, peer vb up) holds 10.1.0.1/24:
/// <code>
/// strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3 ip -n ut8148 route add 10.9.0.0/16 via 10.1.0.2
/// strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3 ip -n ut8148 -4 route show
/// </code>
/// </summary>
public class RouteFixtureTests
{
    private const uint Sequence = 1795317281;

    /// <summary>The add request (sendmsg), verbatim.</summary>
    internal const string AddRequestCaptured =
        "2c000000 1800 0506 215e026b 00000000" + // len 44, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE
        "02 10 00 00 fe 03 00 01 00000000" + //      rtmsg: AF_INET, dst /16, main table, RTPROT_BOOT, universe, unicast
        "0800 0100 0a090000" + //                    RTA_DST 10.9.0.0
        "0800 0500 0a010002"; //                     RTA_GATEWAY 10.1.0.2

    /// <summary>
    /// What Aether sends: the captured request plus RTA_TABLE 254 right after the rtmsg (Aether always sends the 32-bit
    /// table so ids above 255 work; iproute2 sends it only for those). nlmsg_len grows from 44 to 52.
    /// </summary>
    internal const string AddRequestAether =
        "34000000 1800 0506 215e026b 00000000" +
        "02 10 00 00 fe 03 00 01 00000000" +
        "0800 0f00 fe000000" + //                    RTA_TABLE 254 (added)
        "0800 0100 0a090000" +
        "0800 0500 0a010002";

    /// <summary>
    /// The dump request iproute2 sent, with one byte patched: iproute2 leaves rtm_table 0 and filters with RTA_TABLE
    /// only; Aether also sets rtm_table to the table when it fits a byte (here 0xfe, offset 20).
    /// </summary>
    internal const string DumpRequestPatched =
        "24000000 1a00 0103 215e026b 00000000" + // len 36, RTM_GETROUTE, REQUEST|DUMP
        "02 00 00 00 fe 00 00 00 00000000" + //      rtmsg: AF_INET, rtm_table (captured: 00)
        "0800 0f00 fe000000"; //                     RTA_TABLE 254

    /// <summary>One recvmsg of the dump, verbatim: two RTM_NEWROUTE replies (flags MULTI|DUMP_FILTERED).</summary>
    internal const string DumpReplies =
        "3c000000 1800 2200 215e026b e9090000" +
        "02 18 00 00 fe 02 fd 01 00000000" + //      /24, main, RTPROT_KERNEL, RT_SCOPE_LINK, unicast
        "0800 0f00 fe000000 0800 0100 0a010000" + // RTA_TABLE 254, RTA_DST 10.1.0.0
        "0800 0700 0a010001 0800 0400 03000000" + // RTA_PREFSRC 10.1.0.1, RTA_OIF 3
        "3c000000 1800 2200 215e026b e9090000" +
        "02 10 00 00 fe 03 00 01 00000000" + //      /16, main, RTPROT_BOOT, universe, unicast
        "0800 0f00 fe000000 0800 0100 0a090000" + // RTA_TABLE 254, RTA_DST 10.9.0.0
        "0800 0500 0a010002 0800 0400 03000000"; //  RTA_GATEWAY 10.1.0.2, RTA_OIF 3

    private static readonly Route Wanted = new()
    {
        Destination = IPPrefix.Parse("10.9.0.0/16"),
        Gateway = IPAddress.Parse("10.1.0.2"),
        Scope = Scope.Universe,
    };

    [Fact]
    public void Write_emits_the_captured_request_plus_RTA_TABLE()
    {
        var bytes = Wire.Emit((ref NetlinkWriter w) =>
            Route.Write(ref w, RtmType.NewRoute, NlmsgFlags.Create | NlmsgFlags.Excl, Wanted, Sequence, 0));

        Assert.Equal(Hex.Format(Hex.Parse(AddRequestAether)), Hex.Format(bytes));
    }

    [Fact]
    public void Write_without_a_scope_picks_universe_for_a_gateway_route()
    {
        var bytes = Wire.Emit((ref NetlinkWriter w) =>
            Route.Write(ref w, RtmType.NewRoute, NlmsgFlags.Create | NlmsgFlags.Excl, Wanted with { Scope = null }, Sequence, 0));

        Assert.Equal(Hex.Format(Hex.Parse(AddRequestAether)), Hex.Format(bytes));
    }

    [Theory]
    [InlineData(AddRequestCaptured)]
    [InlineData(AddRequestAether)]
    public void Add_request_parses_back_to_the_route(string hex)
    {
        Assert.True(Route.TryParse(Wire.Single(Hex.Parse(hex)), out var route));

        Assert.Equal(Wanted, route);
    }

    [Fact]
    public void WriteDump_emits_the_captured_dump_request_with_rtm_table_set()
    {
        var filter = new RouteFilter { Family = AddressFamily.InterNetwork, Table = Route.MainTable };

        var bytes = Wire.Emit((ref NetlinkWriter w) => Route.WriteDump(ref w, filter, Sequence, 0));

        Assert.Equal(Hex.Format(Hex.Parse(DumpRequestPatched)), Hex.Format(bytes));
    }

    [Fact]
    public void Dump_replies_parse()
    {
        var parsed = new List<Route>();
        foreach (var message in new NetlinkMessageEnumerator(Hex.Parse(DumpReplies)))
        {
            Assert.True(Route.TryParse(message, out var route));
            parsed.Add(route);
        }

        Assert.Equal(
            [
                new Route
                {
                    Destination = IPPrefix.Parse("10.1.0.0/24"),
                    OutputIndex = 3,
                    PreferredSource = IPAddress.Parse("10.1.0.1"),
                    Protocol = 2,
                    Scope = Scope.Link,
                },
                Wanted with { OutputIndex = 3 },
            ],
            parsed);
    }
}
