using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests;

public sealed class NamespaceTests : SandboxTest
{
    [Fact]
    public async Task Created_by_Aether_is_listed_by_ip_and_usable_with_ip_n()
    {
        using var ns = Box.CreateNamespace("a");
        var name = ns.Name!;

        Assert.Contains(name, await Ip.NetnsNamesAsync());
        Assert.True(NetworkNamespace.Exists(name));
        Assert.Contains(name, NetworkNamespace.List());

        // ip -n works in it: a brand-new namespace holds only lo.
        var links = await Ip.LinkNamesAsync(name);
        Assert.Equal(["lo"], links);

        // It is the namespace Aether holds: same inode as seen from a process inside it.
        Assert.Equal(await Ip.InodeInsideAsync(name), ns.Inode);
        Assert.NotEqual(NetworkNamespace.OpenCurrent().Inode, ns.Inode);

        // Something created there by ip is what a handle bound to it sees.
        var bridge = Box.Name("br");
        await Ip.RunAsync("-n", name, "link", "add", bridge, "type", "bridge");
        var handle = Box.OpenAt(ns);
        var link = await handle.GetLinkAsync(bridge);
        Assert.Equal("bridge", link.Kind);
        Assert.Null(await Ip.LinkAsync(null, bridge));
    }

    [Fact]
    public async Task Created_by_ip_netns_add_is_openable_by_Aether()
    {
        var name = await Box.CreateNamespaceWithIpAsync("b");

        Assert.True(NetworkNamespace.Exists(name));
        Assert.Contains(name, NetworkNamespace.List());
        using var ns = Box.Own(NetworkNamespace.Open(name));
        Assert.Equal(name, ns.Name);
        Assert.Equal(await Ip.InodeInsideAsync(name), ns.Inode);
        using var tried = NetworkNamespace.TryOpen(name);
        Assert.NotNull(tried);
        Assert.Equal(name, tried.Name);
        Assert.Equal(ns.Inode, tried.Inode);

        var bridge = Box.Name("br");
        await Ip.RunAsync("-n", name, "link", "add", bridge, "type", "bridge");
        var handle = Box.OpenAt(ns);
        var names = (await handle.ListLinksAsync()).Select(l => l.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([bridge, "lo"], names);
    }

    [Fact]
    public async Task Delete_removes_namespaces_created_by_either_tool()
    {
        var ours = Box.Name("c");
        Box.TrackNamespace(ours);
        NetworkNamespace.Create(ours).Dispose();
        var theirs = await Box.CreateNamespaceWithIpAsync("d");
        Assert.Contains(ours, await Ip.NetnsNamesAsync());

        NetworkNamespace.Delete(ours);
        NetworkNamespace.Delete(theirs);

        var listed = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(ours, listed);
        Assert.DoesNotContain(theirs, listed);
        Assert.False(NetworkNamespace.Exists(ours));
        Assert.False(NetworkNamespace.Exists(theirs));
        Assert.DoesNotContain(ours, NetworkNamespace.List());
        var ex = Assert.Throws<NetlinkException>(() => NetworkNamespace.Open(ours));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Null(NetworkNamespace.TryOpen(ours)); // no such name: null, not an exception
        Assert.Null(NetworkNamespace.TryOpen(theirs));
    }

    [Fact]
    public async Task Creating_an_existing_name_is_EEXIST_and_leaves_it_intact()
    {
        using var ns = Box.CreateNamespace("e");
        var fromIp = await Box.CreateNamespaceWithIpAsync("f");
        var before = await Ip.InodeInsideAsync(fromIp);

        var ex1 = Assert.Throws<NetlinkException>(() => NetworkNamespace.Create(ns.Name!));
        var ex2 = Assert.Throws<NetlinkException>(() => NetworkNamespace.Create(fromIp));

        Assert.Equal(Errno.EEXIST, ex1.Errno);
        Assert.Equal("EEXIST", ex1.ErrnoName);
        Assert.Equal(Errno.EEXIST, ex2.Errno);
        Assert.Contains(fromIp, ex2.Message, StringComparison.Ordinal);

        // The failed create did not unmount or remove the existing ones.
        Assert.Equal(ns.Inode, await Ip.InodeInsideAsync(ns.Name!));
        Assert.Equal(before, await Ip.InodeInsideAsync(fromIp));
    }

    [Fact]
    public void Deleting_a_missing_name_is_ENOENT()
    {
        var name = Box.Name("gone");
        Box.TrackNamespace(name);
        var ex = Assert.Throws<NetlinkException>(() => NetworkNamespace.Delete(name));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Equal("ENOENT", ex.ErrnoName);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> BadNames() => new() { "", "a/b", "a b", "..", ".", "a\tb", "a\0b", new string('x', 256) };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Bad_names_are_rejected_before_any_syscall(string bad)
    {
        var path = NetworkNamespace.RunDirectory + "/" + bad;
        var existedBefore = bad.Length > 0 && bad != ".." && bad != "." && Directory.Exists(NetworkNamespace.RunDirectory) && File.Exists(path);
        Assert.False(existedBefore, $"'{bad}' already exists under /run/netns; this test cannot run safely");
        try
        {
            Assert.Throws<ArgumentException>(() => NetworkNamespace.Create(bad));
            Assert.Throws<ArgumentException>(() => NetworkNamespace.Open(bad));
            Assert.Throws<ArgumentException>(() => NetworkNamespace.TryOpen(bad));
            Assert.Throws<ArgumentException>(() => NetworkNamespace.Exists(bad));
            Assert.Throws<ArgumentException>(() => NetworkNamespace.Delete(bad));
            Assert.Throws<ArgumentException>(() => NetworkNamespace.ValidateName(bad));
        }
        finally
        {
            // Had Create gone through, it would have made this file: remove what this test made, and fail.
            if (bad.Length > 0 && bad is not ("." or "..") && !bad.Contains('/', StringComparison.Ordinal) && !bad.Contains('\0', StringComparison.Ordinal) && File.Exists(path))
            {
                Box.TrackNamespace(bad);
                Assert.Fail($"a namespace file was created for the invalid name '{bad}'");
            }
        }
    }

    [Fact]
    public void Prefixed_bad_names_are_rejected_too_and_create_nothing()
    {
        foreach (var bad in new[] { Box.Token + " x", Box.Token + "/x", Box.Token + "\nx" })
        {
            Assert.Throws<ArgumentException>(() => NetworkNamespace.Create(bad));
        }

        Assert.DoesNotContain(NetworkNamespace.List(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenPid_of_this_process_is_the_current_namespace()
    {
        using var current = NetworkNamespace.OpenCurrent();
        using var byPid = NetworkNamespace.OpenPid(Environment.ProcessId);
        using var other = Box.CreateNamespace("p");

        Assert.Equal(current.Inode, byPid.Inode);
        var expected = Ip.ParseNsLink(new FileInfo($"/proc/{Environment.ProcessId}/ns/net").LinkTarget!);
        Assert.Equal(expected, current.Inode);
        Assert.NotEqual(current.Inode, other.Inode);

        // The created namespace's inode is the one a process started inside it by ip reports.
        Assert.Equal(await Ip.InodeInsideAsync(other.Name!), other.Inode);
    }
}
