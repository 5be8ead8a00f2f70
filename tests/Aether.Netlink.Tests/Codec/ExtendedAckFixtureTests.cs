using Aether.Netlink.Protocol;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// NLMSG_ERROR replies carrying NLMSGERR_ATTR_MSG (NLM_F_ACK_TLVS set, whole request echoed since iproute2 does not set
/// NETLINK_CAP_ACK). Captured on kernel 6.18.44-fc-v669, iproute2-6.1.0, as root, in namespace ut8148 (va ifindex 3 with
/// 10.1.0.1/24), with <c>strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3</c> around:
/// <list type="bullet">
/// <item><c>ip -n ut8148 route add 10.8.0.0/16 via 192.168.77.1</c> (gateway not reachable; ip printed
/// "Error: Nexthop has invalid gateway.")</item>
/// <item><c>ip -n ut8148 link add vc type nosuchkind</c> (ip printed "Error: Unknown device type.")</item>
/// </list>
/// </summary>
public class ExtendedAckFixtureTests
{
    internal const string UnreachableGateway =
        "60000000 0200 0002 215e026b ed090000" + //  len 96, NLMSG_ERROR, ACK_TLVS, seq 1795317281, pid 2541
        "9bffffff" + //                               error -101 (ENETUNREACH)
        "2c000000 1800 0506 215e026b 00000000" + //  echoed RTM_NEWROUTE request ...
        "02 10 00 00 fe 03 00 01 00000000" +
        "0800 0100 0a080000 0800 0500 c0a84d01" + // ... RTA_DST 10.8.0.0, RTA_GATEWAY 192.168.77.1
        "2000 0100 4e657874686f702068617320696e76616c6964206761746577617900"; // NLMSGERR_ATTR_MSG

    internal const string UnknownKind =
        "68000000 0200 0002 215e026b f1090000" + //  len 104, NLMSG_ERROR, ACK_TLVS, seq 1795317281, pid 2545
        "a1ffffff" + //                               error -95 (EOPNOTSUPP)
        "3c000000 1000 0506 215e026b 00000000" + //  echoed RTM_NEWLINK request ...
        "00000000 00000000 00000000 00000000" +
        "0700 0300 76630000" + //                     IFLA_IFNAME "vc"
        "1400 1200 0e00 0100 6e6f737563686b696e640000" + // IFLA_LINKINFO { IFLA_INFO_KIND "nosuchkind" }
        "1800 0100 556e6b6e6f776e20646576696365207479706500"; // NLMSGERR_ATTR_MSG

    [Theory]
    [InlineData(UnreachableGateway, 101, "Nexthop has invalid gateway")]
    [InlineData(UnknownKind, 95, "Unknown device type")]
    public void Error_with_extended_ack_parses_errno_and_kernel_text(string hex, int errno, string text)
    {
        var message = Wire.Single(Hex.Parse(hex));

        Assert.Equal(NlmsgType.Error, message.Header.Type);
        Assert.Equal(new NetlinkError(errno, 1795317281, text, null), NetlinkError.Parse(message));
    }

    [Fact]
    public void Error_becomes_an_exception_naming_operation_target_errno_and_kernel_text()
    {
        var error = NetlinkError.Parse(Wire.Single(Hex.Parse(UnreachableGateway)));

        var exception = error.ToException("add route", "10.8.0.0/16");

        Assert.Equal("add route 10.8.0.0/16: ENETUNREACH (Network is unreachable): Nexthop has invalid gateway", exception.Message);
        Assert.Equal(101, exception.Errno);
        Assert.Equal("Nexthop has invalid gateway", exception.KernelMessage);
    }
}
