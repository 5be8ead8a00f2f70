using Aether.Netlink.Protocol;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// The replies to <c>ip -n ut8148 link add va type veth peer name vb</c>, same capture as
/// <see cref="VethCreateFixtureTests"/> (kernel 6.18.44-fc-v669, iproute2-6.1.0, strace -e read=3 on recvmsg).
/// </summary>
public class VethCreateReplyFixtureTests
{
    /// <summary>The acknowledgement: NLMSG_ERROR, error 0, NLM_F_CAPPED (only the request's header is echoed).</summary>
    internal const string Ack =
        "24000000 0200 0001 095e026b 67090000" + // nlmsghdr: len 36, NLMSG_ERROR, CAPPED, seq 1795317257, pid 2407
        "00000000" + //                             error 0
        "54000000 1000 0506 095e026b 00000000"; //  the request's nlmsghdr

    /// <summary>
    /// iproute2 first probes with an empty RTM_NEWLINK (seq 0); the kernel answers ENODEV, echoing the whole request
    /// (not capped) and carrying no extended-ack TLVs.
    /// </summary>
    internal const string ProbeError =
        "34000000 0200 0000 00000000 67090000" + // nlmsghdr: len 52, NLMSG_ERROR, no flags, seq 0, pid 2407
        "edffffff" + //                             error -19 (ENODEV)
        "20000000 1000 0500 00000000 00000000" + // echoed request header
        "00000000 00000000 00000000 00000000"; //   echoed ifinfomsg

    [Fact]
    public void Ack_parses_as_success_for_the_request_sequence()
    {
        var message = Wire.Single(Hex.Parse(Ack));

        Assert.Equal(NlmsgType.Error, message.Header.Type);
        Assert.Equal(2407u, message.Header.PortId);
        Assert.Equal(new NetlinkError(0, 1795317257, null, null), NetlinkError.Parse(message));
    }

    [Fact]
    public void Uncapped_error_without_tlvs_parses_errno_only()
    {
        var message = Wire.Single(Hex.Parse(ProbeError));

        Assert.Equal(new NetlinkError(Errno.ENODEV, 0, null, null), NetlinkError.Parse(message));
    }
}
