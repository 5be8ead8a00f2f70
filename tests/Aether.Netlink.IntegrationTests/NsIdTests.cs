using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class NsIdTests : SandboxTest
{
    [Fact]
    public async Task Set_then_get_matches_ip_netns_list_id()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        var h = Box.OpenAt(a);

        Assert.Equal(NsId.NotAssigned, await h.GetNsIdAsync(b));
        Assert.Empty(await Ip.JsonAsync(a.Name, "netns", "list-id"));

        await h.SetNsIdAsync(b, 42);

        Assert.Equal(42, await h.GetNsIdAsync(b));
        var entry = Assert.Single(await Ip.JsonAsync(a.Name, "netns", "list-id"));
        Assert.Equal(42, Ip.Int(entry, "nsid"));
        Assert.Equal(b.Name, Ip.Str(entry, "name"));

        // The id is per namespace: b has none for a, and the host has none for b.
        var hb = Box.OpenAt(b);
        Assert.Equal(NsId.NotAssigned, await hb.GetNsIdAsync(a));

        // A second id for the same namespace is refused.
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => h.SetNsIdAsync(b, 43));
        Assert.Equal(Errno.EEXIST, ex.Errno);
        Assert.Equal(42, await h.GetNsIdAsync(b));
    }

    [Fact]
    public async Task Id_set_by_ip_is_read_by_Aether()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        await Ip.RunAsync("-n", a.Name!, "netns", "set", b.Name!, "17");

        var h = Box.OpenAt(a);
        Assert.Equal(17, await h.GetNsIdAsync(b));
        Assert.Equal(NsId.NotAssigned, await Box.OpenAt(b).GetNsIdAsync(a));
    }
}
