using System.Net;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// RTM_NEWADDR request and dump replies. Captured on kernel 6.18.44-fc-v669, iproute2-6.1.0, as root, in namespace
/// ut8148 holding the veth pair va (ifindex 3) / vb, all up:
/// <code>
/// strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3 ip -n ut8148 addr add 10.1.0.1/24 dev va
/// strace -f -e trace=sendmsg,sendto,recvmsg,recvfrom -xx -s 8 -e write=3 -e read=3 ip -n ut8148 -4 addr show
/// </code>
/// </summary>
public class AddressFixtureTests
{
    /// <summary>The add request (sendmsg), verbatim. Aether writes exactly these bytes.</summary>
    internal const string AddRequest =
        "28000000 1400 0506 205e026b 00000000" + // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 1795317280
        "02 18 00 00 03000000" + //                  ifaddrmsg: AF_INET, /24, flags 0, scope 0, ifindex 3
        "0800 0200 0a010001" + //                    IFA_LOCAL 10.1.0.1
        "0800 0100 0a010001"; //                     IFA_ADDRESS 10.1.0.1

    /// <summary>The dump request iproute2 sent (sendto), verbatim; Aether's <c>Address.WriteDump</c> matches it.</summary>
    internal const string DumpRequest =
        "18000000 1600 0103 225e026b 00000000" + // len 24, RTM_GETADDR, REQUEST|DUMP, seq 1795317282
        "02 00 00 00 00000000"; //                   ifaddrmsg: AF_INET

    /// <summary>One recvmsg of the dump, verbatim: two RTM_NEWADDR replies back to back (lo, then va).</summary>
    internal const string DumpReplies =
        "4c000000 1400 0200 225e026b e1090000" + // len 76, RTM_NEWADDR, MULTI, pid 2529
        "02 08 80 fe 01000000" + //                  AF_INET, /8, IFA_F_PERMANENT, RT_SCOPE_HOST, ifindex 1
        "0800 0100 7f000001 0800 0200 7f000001" + // IFA_ADDRESS, IFA_LOCAL 127.0.0.1
        "0700 0300 6c6f0000" + //                    IFA_LABEL "lo"
        "0800 0800 80000000" + //                    IFA_FLAGS 0x80
        "1400 0600 ffffffff ffffffff bd850100 bd850100" + // IFA_CACHEINFO
        "4c000000 1400 0200 225e026b e1090000" +
        "02 18 80 00 03000000" + //                  AF_INET, /24, IFA_F_PERMANENT, universe, ifindex 3
        "0800 0100 0a010001 0800 0200 0a010001" + // 10.1.0.1
        "0700 0300 76610000" + //                    IFA_LABEL "va"
        "0800 0800 80000000" +
        "1400 0600 ffffffff ffffffff 888a0100 888a0100";

    private static readonly AddressSpec Spec = new(3, IPPrefix.Parse("10.1.0.1/24"));

    [Fact]
    public void Write_emits_the_captured_add_request()
    {
        var bytes = Wire.Emit((ref NetlinkWriter w) =>
            Address.Write(ref w, RtmType.NewAddr, NlmsgFlags.Create | NlmsgFlags.Excl, Spec, 1795317280, 0));

        Assert.Equal(Hex.Format(Hex.Parse(AddRequest)), Hex.Format(bytes));
    }

    [Fact]
    public void Add_request_parses_back_to_the_spec()
    {
        Assert.True(Address.TryParse(Wire.Single(Hex.Parse(AddRequest)), out var address));

        Assert.Equal(new Address { Index = Spec.Index, Prefix = Spec.Prefix }, address);
    }

    [Fact]
    public void WriteDump_emits_the_captured_dump_request()
    {
        var bytes = Wire.Emit((ref NetlinkWriter w) => Address.WriteDump(ref w, AddressFamilies.Inet, 0, 1795317282, 0));

        Assert.Equal(Hex.Format(Hex.Parse(DumpRequest)), Hex.Format(bytes));
    }

    [Fact]
    public void Dump_replies_parse()
    {
        var parsed = new List<Address>();
        foreach (var message in new NetlinkMessageEnumerator(Hex.Parse(DumpReplies)))
        {
            Assert.Equal(RtmType.NewAddr, message.Header.Type);
            Assert.True(Address.TryParse(message, out var address));
            parsed.Add(address);
        }

        Assert.Equal(
            [
                new Address { Index = 1, Prefix = new IPPrefix(IPAddress.Loopback, 8), Label = "lo", Scope = Scope.Host, Flags = 0x80 },
                new Address { Index = 3, Prefix = IPPrefix.Parse("10.1.0.1/24"), Label = "va", Scope = Scope.Universe, Flags = 0x80 },
            ],
            parsed);
    }
}
