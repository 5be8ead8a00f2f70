using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// The RTM_NEWLINK request that creates a veth pair. Captured on kernel 6.18.44-fc-v669 (uname -r), iproute2-6.1.0
/// (ip -V), as root in a private namespace:
/// <code>
/// ip netns add ut8148
/// strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3 ip -n ut8148 link add va type veth peer name vb
/// </code>
/// (the brief's <c>ip link add a ...</c> is not usable: iproute2 reads "a" as the "address" keyword, so the names are va/vb).
/// </summary>
public class VethCreateFixtureTests
{
    private const uint CapturedSequence = 1795317257;

    /// <summary>The sendmsg payload, verbatim.</summary>
    internal const string Captured =
        "54000000 1000 0506 095e026b 00000000" + // nlmsghdr: len 84, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq, pid 0
        "00 00 0000 00000000 00000000 00000000" + // ifinfomsg: all zero
        "0700 0300 76610000" + //                    IFLA_IFNAME "va"
        "2c00 1200" + //                             IFLA_LINKINFO (44 bytes, no NLA_F_NESTED)
        "  0800 0100 76657468" + //                    IFLA_INFO_KIND "veth" (iproute2 sends no NUL)
        "  2000 0200" + //                             IFLA_INFO_DATA
        "    1c00 0100" + //                             VETH_INFO_PEER
        "      00 00 0000 00000000 00000000 00000000" + // peer ifinfomsg
        "      0700 0300 76620000"; //                     IFLA_IFNAME "vb"

    /// <summary>
    /// What Aether sends for the same spec: the captured bytes with one legitimate difference. Aether writes
    /// IFLA_INFO_KIND NUL-terminated ("veth\0", nla_len 9, padded to 12) as the kernel itself reports it, where
    /// iproute2 omits the NUL (nla_len 8). So IFLA_INFO_KIND grows by 4, IFLA_LINKINFO from 0x2c to 0x30 and nlmsg_len
    /// from 0x54 to 0x58. Sequence and port id are the captured ones, passed to the writer.
    /// </summary>
    internal const string Expected =
        "58000000 1000 0506 095e026b 00000000" +
        "00 00 0000 00000000 00000000 00000000" +
        "0700 0300 76610000" +
        "3000 1200" +
        "  0900 0100 76657468 00000000" +
        "  2000 0200" +
        "    1c00 0100" +
        "      00 00 0000 00000000 00000000 00000000" +
        "      0700 0300 76620000";

    private static readonly LinkSpec Spec = new("va", new Veth("vb"));

    [Fact]
    public void WriteCreate_emits_the_captured_request_with_a_NUL_terminated_kind()
    {
        var bytes = Wire.Emit((ref NetlinkWriter w) => Link.WriteCreate(ref w, Spec, CapturedSequence, 0));

        Assert.Equal(Hex.Format(Hex.Parse(Expected)), Hex.Format(bytes));
    }

    [Theory]
    [InlineData(Captured)]
    [InlineData(Expected)]
    public void Request_parses_back_to_the_spec(string hex)
    {
        var message = Wire.Single(Hex.Parse(hex));

        Assert.Equal(RtmType.NewLink, message.Header.Type);
        Assert.Equal(NlmsgFlags.Request | NlmsgFlags.Ack | NlmsgFlags.Excl | NlmsgFlags.Create, message.Header.Flags);
        Assert.Equal(CapturedSequence, message.Header.Sequence);
        Assert.True(Link.TryParse(message, out var link));
        Assert.Equal("va", link.Name);
        Assert.Equal(0, link.Index);
        Assert.Equal("veth", link.Kind);
        Assert.Equal(Spec.Kind, link.KindData);
    }
}
