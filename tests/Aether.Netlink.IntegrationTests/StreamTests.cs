using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class StreamTests : NamespaceTest
{
    [Fact]
    public async Task Streamed_links_match_ip_across_many_dump_parts()
    {
        await CreateBridgesAsync(Handle, "s", 300);

        var streamed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var link in Handle.StreamLinksAsync())
        {
            Assert.True(streamed.Add(link.Name), $"{link.Name} streamed twice");
        }

        Assert.Equal(await Ip.LinkNamesAsync(Ns), streamed);
        Assert.True(streamed.Count > 300);
    }

    [Fact]
    public async Task Leaving_a_stream_early_leaves_the_handle_usable()
    {
        await CreateBridgesAsync(Handle, "e", 200);
        await foreach (var link in Handle.StreamLinksAsync())
        {
            Assert.NotEmpty(link.Name);
            break; // the rest of the dump is still in flight
        }

        // Without draining, the kernel would refuse the next dump (EBUSY) or its parts would be read as this one's.
        var names = (await Handle.ListLinksAsync()).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(await Ip.LinkNamesAsync(Ns), names);
        var addresses = new List<Address>();
        await foreach (var a in Handle.StreamAddressesAsync())
        {
            addresses.Add(a);
        }

        Assert.Equal((await Handle.ListAddressesAsync()).Count, addresses.Count);
    }

    [Fact]
    public async Task A_dump_interrupted_by_changes_raises_with_partial_results_when_it_may_not_be_read_again()
    {
        await CreateBridgesAsync(Handle, "d", 600);

        // Another socket in the same namespace keeps registering and removing a link while this one dumps.
        var churn = Box.OpenAt(Namespace);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var churnName = Box.Name("churn");
        var churner = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await churn.CreateLinkAsync(new LinkSpec(churnName, new Bridge()));
                await churn.DeleteLinkAsync(churnName);
            }
        });

        // Read once: by default an interrupted dump is read again, up to twelve times, which churn this gentle never beats.
        var once = Box.Own(NetlinkHandle.OpenAt(Namespace, new NetlinkSocketOptions { DumpAttempts = 1 }));
        DumpInterruptedException<Link>? caught = null;
        try
        {
            for (var attempt = 0; attempt < 500 && caught is null && !stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    await once.ListLinksAsync();
                }
                catch (DumpInterruptedException<Link> ex)
                {
                    caught = ex;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await churner;
        }

        Assert.NotNull(caught);
        Assert.Equal(Errno.EINTR, caught.Errno);
        Assert.Contains("list links", caught.Message, StringComparison.Ordinal);
        Assert.True(caught.PartialResults.Count > 100, $"only {caught.PartialResults.Count} partial results");
    }

    private async Task CreateBridgesAsync(NetlinkHandle handle, string tag, int count)
    {
        using var batch = handle.CreateBatch();
        for (var i = 0; i < count; i++)
        {
            batch.CreateLink(new LinkSpec(Box.Name(tag + i), new Bridge()));
        }

        (await batch.ExecuteAsync()).ThrowIfFailed();
    }
}
