using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class NsIdBatchTests : SandboxTest
{
    [Fact]
    public async Task Ids_asked_in_one_batch_match_ip_netns_list_id_across_several_sends()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        using var c = Box.CreateNamespace("c");
        using var d = Box.CreateNamespace("d");
        await Ip.RunAsync("-n", a.Name!, "netns", "set", b.Name!, "7");
        await Ip.RunAsync("-n", a.Name!, "netns", "set", c.Name!, "300");
        var h = Box.OpenAt(a);

        // 300 asks (more than one send holds), cycling through namespaces with and without an id.
        NetworkNamespace[] cycle = [b, c, d];
        var asked = Enumerable.Range(0, 300).Select(i => cycle[i % 3]).ToArray();
        var ids = await h.GetNsIdsAsync(asked);

        var listed = (await Ip.JsonAsync(a.Name, "netns", "list-id")).ToDictionary(e => Ip.Str(e, "name")!, e => (int)Ip.Int(e, "nsid")!.Value, StringComparer.Ordinal);
        Assert.Equal(2, listed.Count);
        for (var i = 0; i < asked.Length; i++)
        {
            Assert.Equal(listed.TryGetValue(asked[i].Name!, out var id) ? id : NsId.NotAssigned, ids[i]);
        }

        Assert.Equal(7, ids[0]);
        Assert.Equal(300, ids[1]);
        Assert.Equal(NsId.NotAssigned, ids[2]);

        // The socket is still in step after the batch: a single request gets its own answer.
        Assert.Equal(300, await h.GetNsIdAsync(c));
        Assert.Empty(await h.GetNsIdsAsync([]));
    }

    [Fact]
    public async Task A_closed_namespace_is_refused_before_anything_is_sent_and_the_socket_stays_usable()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        await Ip.RunAsync("-n", a.Name!, "netns", "set", b.Name!, "5");
        var h = Box.OpenAt(a);

        // A namespace handle that is closed has no descriptor to send: refused while the batch is written.
        var closed = Box.CreateNamespace("gone");
        closed.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.GetNsIdsAsync([b, closed, b]));

        Assert.Equal(5, await h.GetNsIdAsync(b));
        var twice = await h.GetNsIdsAsync([b, b]);
        Assert.Equal(new[] { 5, 5 }, twice);
    }
}
