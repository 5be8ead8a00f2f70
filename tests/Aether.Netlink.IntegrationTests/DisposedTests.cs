using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class DisposedTests : SandboxTest
{
    [Fact]
    public async Task A_closed_handle_throws_ObjectDisposedException()
    {
        using var ns = Box.CreateNamespace("d");
        var h = NetlinkHandle.OpenAt(ns);
        Assert.NotEmpty(await h.ListLinksAsync());
        h.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.ListLinksAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.GetLinkAsync("lo"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.CreateLinkAsync(new LinkSpec(Box.Name("x"), new Bridge())));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.ListRoutesAsync());
        Assert.Throws<ObjectDisposedException>(() => h.CreateBatch());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(ns.Name));
    }

    [Fact]
    public async Task A_batch_whose_handle_was_closed_throws_ObjectDisposedException()
    {
        using var ns = Box.CreateNamespace("e");
        var h = NetlinkHandle.OpenAt(ns);
        using var batch = h.CreateBatch();
        batch.CreateLink(new LinkSpec(Box.Name("x"), new Bridge()));
        h.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => batch.ExecuteAsync());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(ns.Name));
    }

    [Fact]
    public void A_closed_namespace_cannot_be_opened_at()
    {
        var ns = Box.CreateNamespace("c");
        ns.Dispose();

        Assert.Throws<ObjectDisposedException>(() => NetlinkHandle.OpenAt(ns));
        Assert.Throws<ObjectDisposedException>(() => ns.Duplicate());
        Assert.Throws<ObjectDisposedException>(() => ns.RunInside(() => 1));
    }

    [Fact]
    public async Task The_handle_keeps_its_own_namespace_reference()
    {
        // Closing the caller's namespace handle does not break a handle opened at it.
        var ns = Box.CreateNamespace("k");
        var h = Box.OpenAt(ns);
        ns.Dispose();

        await h.CreateLinkAsync(new LinkSpec(Box.Name("br"), new Bridge()));
        Assert.Contains(Box.Name("br"), await Ip.LinkNamesAsync(Box.Name("k")));
        Assert.NotNull(h.Namespace);
        Assert.False(h.Namespace!.IsClosed);
    }
}
