using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Codec;

/// <summary>
/// RTM_NEWLINK replies from an RTM_GETLINK dump (<c>ip -n ut8148 link show</c> after creating va/vb and setting lo, va
/// and vb up; kernel 6.18.44-fc-v669, iproute2-6.1.0). The messages are 1.4 KiB each, so they live in
/// <c>Fixtures/link_reply_*.hex</c>, whose header says exactly how they were captured. Replies have no emitter in the
/// library (only requests are written), so these are asserted in the parse direction.
/// </summary>
public class LinkDumpFixtureTests
{
    /// <summary>The NLMSG_DONE that ended the same dump (seq 1795317269, NLM_F_MULTI, error 0).</summary>
    internal const string Done = "14000000 0300 0200 155e026b b3090000 00000000";

    [Fact]
    public void Loopback_reply_parses()
    {
        var message = Wire.Single(Hex.Load("link_reply_lo.hex"));
        Assert.Equal(RtmType.NewLink, message.Header.Type);
        Assert.Equal(NlmsgFlags.Multi, message.Header.Flags);

        Assert.True(Link.TryParse(message, out var lo));

        Assert.Equal(1, lo.Index);
        Assert.Equal("lo", lo.Name);
        Assert.Equal(65536, lo.Mtu);
        Assert.Equal(0x10049u, lo.Flags); // UP|LOOPBACK|RUNNING|LOWER_UP
        Assert.True(lo.IsUp);
        Assert.True(lo.IsLowerUp);
        Assert.Equal((ushort)772, lo.HardwareType); // ARPHRD_LOOPBACK
        Assert.Null(lo.Kind);
        Assert.Null(lo.LinkIndex);
        Assert.Null(lo.LinkNetNsId);
        Assert.Null(lo.MasterIndex);
        Assert.Equal(OperState.Unknown, lo.OperState);
        Assert.Equal("00:00:00:00:00:00", lo.MacAddress);
        Assert.True(lo.Carrier);
    }

    [Fact]
    public void Veth_reply_parses()
    {
        var message = Wire.Single(Hex.Load("link_reply_va.hex"));

        Assert.True(Link.TryParse(message, out var va));

        Assert.Equal(3, va.Index);
        Assert.Equal("va", va.Name);
        Assert.Equal(1500, va.Mtu);
        Assert.Equal(0x11043u, va.Flags); // UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
        Assert.Equal((ushort)1, va.HardwareType); // ARPHRD_ETHER
        Assert.Equal("veth", va.Kind);
        Assert.Equal(new Veth(), va.KindData); // the kernel does not report the peer's name
        Assert.Equal(2, va.LinkIndex); // vb
        Assert.Null(va.LinkNetNsId); // the peer is in the same namespace
        Assert.Equal(OperState.Up, va.OperState);
        Assert.Equal("f6:1e:5a:15:48:39", va.MacAddress);
        Assert.True(va.Carrier);
        Assert.Null(va.PortKind);
        Assert.Empty(va.AltNames);
    }

    [Fact]
    public void Veth_reply_keeps_undecoded_attributes_raw()
    {
        var message = Wire.Single(Hex.Load("link_reply_va.hex"));

        Assert.True(Link.TryParse(message, out var va));

        // IFLA_TXQLEN (13) = 1000 is not decoded; it must survive as raw bytes.
        var txqlen = Assert.Single(va.Unknown, a => a.Type == Ifla.TxQueueLength);
        Assert.Equal(new byte[] { 0xe8, 0x03, 0x00, 0x00 }, txqlen.Value);
    }

    [Fact]
    public void Done_parses_as_end_of_dump_without_error()
    {
        var message = Wire.Single(Hex.Parse(Done));

        Assert.Equal(NlmsgType.Done, message.Header.Type);
        Assert.Equal(new NetlinkError(0, 1795317269, null, null), NetlinkError.ParseDone(message));
    }
}
