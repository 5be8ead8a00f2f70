using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class BatchTests : SandboxTest
{
    [Fact]
    public async Task Three_hundred_requests_create_and_raise_150_bridges()
    {
        using var ns = Box.CreateNamespace("b");
        var h = Box.OpenAt(ns);
        var names = Enumerable.Range(0, 150).Select(i => Box.Name($"b{i}")).ToArray();

        using var batch = h.CreateBatch();
        foreach (var name in names)
        {
            batch.CreateLink(new LinkSpec(name, new Bridge()));
            batch.SetLink(name, new LinkChange { Up = true });
        }

        Assert.Equal(300, batch.Count);
        var result = await batch.ExecuteAsync();

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.OfType<NetlinkException>().Take(5).Select(e => e.Message)));
        Assert.Equal(0, result.FailedCount);
        Assert.Equal(300, result.Errors.Count);
        Assert.All(result.Errors, Assert.Null);
        Assert.Equal(0, batch.Count);

        var links = await Ip.JsonAsync(ns.Name, "link", "show", "type", "bridge");
        Assert.Equal(names.Order(StringComparer.Ordinal), links.Select(l => Ip.Str(l, "ifname")!).Order(StringComparer.Ordinal));
        Assert.All(links, l => Assert.Contains("UP", Ip.Flags(l)));
    }

    [Fact]
    public async Task One_failing_request_in_the_middle_fails_alone()
    {
        using var ns = Box.CreateNamespace("f");
        var h = Box.OpenAt(ns);
        var names = Enumerable.Range(0, 11).Select(i => Box.Name($"f{i}")).ToArray();
        await Ip.RunAsync("-n", ns.Name!, "link", "add", names[5], "type", "bridge");

        using var batch = h.CreateBatch();
        foreach (var name in names)
        {
            batch.CreateLink(new LinkSpec(name, new Bridge()));
        }

        var result = await batch.ExecuteAsync();

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.FailedCount);
        for (var i = 0; i < names.Length; i++)
        {
            if (i == 5)
            {
                var ex = Assert.IsType<NetlinkException>(result.Errors[i]);
                Assert.Equal(Errno.EEXIST, ex.Errno);
                Assert.Equal(names[5], ex.Target);
                Assert.Equal("create bridge", ex.Operation);
            }
            else
            {
                Assert.Null(result.Errors[i]);
            }
        }

        var thrown = Assert.Throws<NetlinkException>(result.ThrowIfFailed);
        Assert.Same(result.Errors[5], thrown);

        var links = await Ip.JsonAsync(ns.Name, "-d", "link", "show", "type", "bridge");
        Assert.Equal(names.Order(StringComparer.Ordinal), links.Select(l => Ip.Str(l, "ifname")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_batch_spanning_several_sends_reports_failures_at_their_own_index()
    {
        using var ns = Box.CreateNamespace("s");
        var h = Box.OpenAt(ns);
        var names = Enumerable.Range(0, 200).Select(i => Box.Name($"s{i}")).ToArray();

        using var batch = h.CreateBatch();
        foreach (var name in names)
        {
            batch.CreateLink(new LinkSpec(name, new Bridge()));
        }

        // Deleting links that never existed fails; they sit after the 128-message boundary of one send.
        var missing = new[] { Box.Name("nx1"), Box.Name("nx2") };
        batch.DeleteLink(missing[0]);
        batch.DeleteLink(names[0]);
        batch.DeleteLink(missing[1]);

        var result = await batch.ExecuteAsync();

        Assert.Equal(2, result.FailedCount);
        Assert.Equal(Errno.ENODEV, result.Errors[200]!.Errno);
        Assert.Equal(missing[0], result.Errors[200]!.Target);
        Assert.Null(result.Errors[201]);
        Assert.Equal(Errno.ENODEV, result.Errors[202]!.Errno);
        Assert.Equal(missing[1], result.Errors[202]!.Target);
        Assert.Equal(2, result.Errors.Count(e => e is not null));
        var aggregate = Assert.Throws<AggregateException>(result.ThrowIfFailed);
        Assert.Equal(2, aggregate.InnerExceptions.Count);

        var present = await Ip.LinkNamesAsync(ns.Name);
        Assert.DoesNotContain(names[0], present);
        Assert.All(names.Skip(1), n => Assert.Contains(n, present));
    }

    [Fact]
    public void Batch_refuses_what_the_kernel_would_silently_ignore_or_misread()
    {
        using var ns = Box.CreateNamespace("r");
        var h = Box.OpenAt(ns);
        using var batch = h.CreateBatch();

        Assert.Throws<ArgumentException>(() => batch.CreateLink(new LinkSpec(Box.Name("x"), new Bridge()) { Alias = "a" }));
        Assert.Throws<ArgumentException>(() => batch.SetLink(Box.Name("x"), new LinkChange { Name = Box.Name("y") }));
        Assert.Equal(0, batch.Count);
    }
}
