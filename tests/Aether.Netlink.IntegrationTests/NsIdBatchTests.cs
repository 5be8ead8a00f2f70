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

    [Theory]
    [InlineData(3)]
    [InlineData(200)]
    public async Task A_refused_get_inside_a_batch_is_thrown_with_its_errno_and_the_socket_stays_in_step(int refusedAt)
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        await Ip.RunAsync("-n", a.Name!, "netns", "set", b.Name!, "9");
        var h = Box.OpenAt(a);
        using var notANamespace = System.IO.File.OpenHandle("/proc/self/stat");
        var notFd = (int)notANamespace.DangerousGetHandle();

        // 256 gets (two sends), one of them for a descriptor that is not a namespace: the kernel refuses that one,
        // and the replies after it arrive in the same reads as the refusal.
        var fds = Enumerable.Range(0, 256).Select(i => i == refusedAt ? notFd : b.Fd).ToArray();
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => h.Socket.RequestManyAsync(fds, static (ref w, fd, seq, pid) => RtnlRequests.GetNsId(ref w, fd, seq, pid), RtnlRequests.ParseNsId, "get nsid", static fd => "fd " + fd, CancellationToken.None));
        Assert.Equal(Errno.EINVAL, ex.Errno);
        Assert.Contains("fd " + notFd, ex.Message, StringComparison.Ordinal);

        // Every reply owed was read: the next requests get their own answers at once.
        Assert.Equal(9, await h.GetNsIdAsync(b));
        Assert.Equal(new[] { 9, 9, 9 }, await h.GetNsIdsAsync([b, b, b]));
    }
}
