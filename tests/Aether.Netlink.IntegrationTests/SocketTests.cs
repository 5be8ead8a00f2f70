using Aether.Netlink.IntegrationTests.Infrastructure;

namespace Aether.Netlink.IntegrationTests;

public sealed class SocketTests : SandboxTest
{
    [Theory]
    [InlineData(NetlinkProtocol.Route)]
    [InlineData(NetlinkProtocol.Generic)]
    [InlineData(NetlinkProtocol.Netfilter)]
    public void Every_protocol_opens_inside_a_namespace_with_its_own_port(NetlinkProtocol protocol)
    {
        using var ns = Box.CreateNamespace("p");
        using var a = NetlinkSocket.Open(protocol, ns);
        using var b = NetlinkSocket.Open(protocol, ns, new NetlinkSocketOptions { ExtendedAck = false, CappedAck = false, StrictChecking = false, ReceiveBufferSize = 1 << 20 });
        Assert.Equal(protocol, a.Protocol);
        Assert.NotEqual(0u, a.PortId);
        Assert.NotEqual(a.PortId, b.PortId);
        Assert.False(a.IsClosed);
        a.Dispose();
        Assert.True(a.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => a.Send(new byte[16]));
    }
}
