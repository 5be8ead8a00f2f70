using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests;

/// <summary>Namespaces created together on mount point files made up front (one inode, a name each).</summary>
public sealed class NamespaceBatchTests : SandboxTest
{
    [Fact]
    public async Task Namespaces_of_a_batch_are_distinct_and_ip_uses_and_deletes_them_as_any_other()
    {
        string[] names = [Box.Name("b1"), Box.Name("b2"), Box.Name("b3")];
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
        }

        using var batch = NamespaceBatch.Prepare(names);

        // Before any mount: one inode with three names, each an empty file of mode 0 as ip netns add makes it.
        var files = await Task.WhenAll(names.Select(n => Ip.ExecAsync("stat", "-c", "%i %h %a %s", NetworkNamespace.RunDirectory + "/" + n)));
        Assert.All(files, f => Assert.Equal(0, f.Code));
        Assert.Single(files.Select(f => f.Stdout.Trim()).Distinct());
        Assert.Equal("3 0 0", files[0].Stdout.Trim().Split(' ', 2)[1]);
        Assert.Equal(3, batch.Pending);

        using var first = Box.Own(batch.Create(names[0]));
        var (second, handle) = NetlinkHandle.CreateNamespace(names[1], batch);
        Box.Own(second);
        Box.Own(handle);
        using var third = Box.Own(batch.Create(names[2]));
        Assert.Equal(0, batch.Pending);

        // Three namespaces, each the one ip finds at its name.
        NetworkNamespace[] made = [first, second, third];
        Assert.Equal(3, made.Select(n => n.Inode).Distinct().Count());
        for (var i = 0; i < names.Length; i++)
        {
            Assert.Equal(made[i].Inode, await Ip.InodeInsideAsync(names[i]));
        }

        var listed = await Ip.NetnsNamesAsync();
        Assert.All(names, n => Assert.Contains(n, listed));

        // The handle opened during the creation is bound to that namespace: what ip makes there, it sees.
        var bridge = Box.Name("br");
        await Ip.RunAsync("-n", names[1], "link", "add", bridge, "type", "bridge");
        Assert.Equal("bridge", (await handle.GetLinkAsync(bridge)).Kind);
        Assert.DoesNotContain(bridge, await Ip.LinkNamesAsync(names[0]));
        Assert.DoesNotContain(bridge, await Ip.LinkNamesAsync(names[2]));

        // ip netns del of one name leaves the other two working.
        await Ip.RunAsync("netns", "del", names[0]);
        Assert.False(NetworkNamespace.Exists(names[0]));
        Assert.Equal(third.Inode, await Ip.InodeInsideAsync(names[2]));
        Assert.Contains(bridge, await Ip.LinkNamesAsync(names[1]));
    }

    [Fact]
    public async Task A_taken_name_fails_the_whole_batch_with_EEXIST_and_leaves_nothing_of_it()
    {
        var taken = await Box.CreateNamespaceWithIpAsync("t");
        var before = await Ip.InodeInsideAsync(taken);
        string[] names = [Box.Name("t1"), taken, Box.Name("t3")];
        Box.TrackNamespace(names[0]);
        Box.TrackNamespace(names[2]);

        var ex = Assert.Throws<NetlinkException>(() => NamespaceBatch.Prepare(names));

        Assert.Equal(Errno.EEXIST, ex.Errno);
        Assert.Contains(taken, ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(NetworkNamespace.RunDirectory + "/" + names[0]));
        Assert.False(File.Exists(NetworkNamespace.RunDirectory + "/" + names[2]));
        Assert.Equal(before, await Ip.InodeInsideAsync(taken));
    }

    [Fact]
    public async Task Names_never_created_are_removed_when_the_batch_is_disposed()
    {
        string[] names = [Box.Name("d1"), Box.Name("d2")];
        Box.TrackNamespace(names[0]);
        Box.TrackNamespace(names[1]);

        NetworkNamespace created;
        using (var batch = NamespaceBatch.Prepare(names))
        {
            created = Box.Own(batch.Create(names[0]));
            Assert.Throws<ArgumentException>(() => batch.Create(names[0])); // taken already
            Assert.Throws<ArgumentException>(() => batch.Create(Box.Name("d3"))); // never prepared
            Assert.False(File.Exists(NetworkNamespace.RunDirectory + "/" + Box.Name("d3")));
        }

        Assert.False(File.Exists(NetworkNamespace.RunDirectory + "/" + names[1]));
        Assert.Equal(created.Inode, await Ip.InodeInsideAsync(names[0]));
        Assert.Equal([names[0]], (await Ip.NetnsNamesAsync()).Where(n => names.Contains(n)));
    }

    [Fact]
    public async Task Namespaces_created_together_each_get_their_mark_and_a_handle_bound_inside()
    {
        var names = Enumerable.Range(0, 7).Select(i => Box.Name("e" + i)).ToArray();
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
        }

        // All but the last on the batch's files; the last on a file of its own, made by its creation.
        using var batch = NamespaceBatch.Prepare(names[..^1]);
        var made = NetlinkHandle.CreateNamespacesBorrowing([.. names.Select((n, i) => (n, i < names.Length - 1 ? batch : null))], "aether-test:together");
        foreach (var (result, error) in made)
        {
            Assert.Null(error);
            Box.Own(result!.Value.Namespace);
            Box.Own(result.Value.Handle);
        }

        Assert.Equal(0, batch.Pending);
        Assert.Equal(names.Length, made.Select(m => m.Made!.Value.Namespace.Inode).Distinct().Count());
        for (var i = 0; i < names.Length; i++)
        {
            var (ns, handle) = made[i].Made!.Value;
            Assert.Equal(ns.Inode, await Ip.InodeInsideAsync(names[i]));
            Assert.Equal("aether-test:together", Ip.Str(await Ip.RequireLinkAsync(names[i], "lo"), "ifalias"));

            // The handle is inside its own namespace: a bridge ip makes there is the one it sees, and no other.
            var bridge = Box.Name("br" + i);
            await Ip.RunAsync("-n", names[i], "link", "add", bridge, "type", "bridge");
            Assert.Equal("bridge", (await handle.GetLinkAsync(bridge)).Kind);
            Assert.Null(await made[(i + 1) % names.Length].Made!.Value.Handle.FindLinkAsync(bridge));
        }
    }

    [Fact]
    public async Task A_failed_creation_stops_its_thread_share_and_the_others_are_whole_or_not_started()
    {
        // The first name's file is taken (by a namespace ip made): its creation fails with EEXIST, and the names
        // after it on the same creating thread (every other one, from the first) are not started.
        var taken = await Box.CreateNamespaceWithIpAsync("x");
        var before = await Ip.InodeInsideAsync(taken);
        var names = Enumerable.Range(1, 8).Select(i => Box.Name("x" + i)).ToArray();
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
        }

        var made = NetlinkHandle.CreateNamespacesBorrowing([(taken, null), .. names.Select(n => (n, (NamespaceBatch?)null))], mark: null);
        foreach (var (result, _) in made)
        {
            if (result is var (ns, handle))
            {
                Box.Own(ns);
                Box.Own(handle);
            }
        }

        Assert.Equal(Errno.EEXIST, Assert.IsType<NetlinkException>(made[0].Error).Errno);
        Assert.Null(made[0].Made);
        Assert.Equal(before, await Ip.InodeInsideAsync(taken));
        var shares = Math.Min(made.Length, Environment.ProcessorCount);
        var listed = await Ip.NetnsNamesAsync();
        for (var i = 1; i < made.Length; i++)
        {
            Assert.Null(made[i].Error);
            if (i % shares == 0)
            {
                Assert.Null(made[i].Made); // after the failure on its thread
            }

            // Whole (its namespace mounted on its name) or not started (no file at all).
            var name = names[i - 1];
            Assert.Equal(made[i].Made is not null, listed.Contains(name));
            Assert.Equal(made[i].Made is not null, File.Exists(NetworkNamespace.RunDirectory + "/" + name));
        }
    }

    [Fact]
    public void Invalid_or_repeated_names_are_rejected_before_any_file_is_made()
    {
        var good = Box.Name("v1");
        Box.TrackNamespace(good);
        Assert.Throws<ArgumentException>(() => NamespaceBatch.Prepare([good, "a/b"]));
        Assert.Throws<ArgumentException>(() => NamespaceBatch.Prepare([good, good]));
        Assert.False(File.Exists(NetworkNamespace.RunDirectory + "/" + good));
    }
}
