using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class WriterAllocationTests
{
    [Fact]
    public void Building_a_veth_create_allocates_nothing_once_warm()
    {
        var spec = new LinkSpec("veth-host", new Veth("veth-ns") { PeerMtu = 1500, PeerMacAddress = "02:00:00:00:00:02" }) { Mtu = 1500, Alias = "aether:ctl", Up = true, MacAddress = "02:00:00:00:00:01" };
        var writer = new NetlinkWriter(512);
        try
        {
            Build(ref writer, spec, 1000); // warm-up: JIT, tiering, statics
            var before = GC.GetAllocatedBytesForCurrentThread();
            Build(ref writer, spec, 1000);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.True(writer.Length > 64, "the loop built nothing");
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void Build(ref NetlinkWriter writer, LinkSpec spec, int count)
    {
        for (var i = 0; i < count; i++)
        {
            writer.Reset();
            Link.WriteCreate(ref writer, spec, (uint)i, 0);
        }
    }
}
