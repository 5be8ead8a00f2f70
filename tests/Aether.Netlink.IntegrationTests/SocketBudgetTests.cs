using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>Reclaimable request sockets: past the budget's limit the idle ones are closed and opened again, in their
/// own namespace, by their next request.</summary>
public sealed class SocketBudgetTests : SandboxTest
{
    private const int Namespaces = 8;

    private readonly List<NetworkNamespace> _spaces = [];
    private readonly List<string> _bridges = [];

    protected override async Task SetUpAsync()
    {
        for (var i = 0; i < Namespaces; i++)
        {
            var ns = Box.CreateNamespace("s" + i);
            _spaces.Add(ns);
            var bridge = Box.Name("br" + i);
            _bridges.Add(bridge);
            using var handle = NetlinkHandle.OpenAt(ns);
            await handle.CreateLinkAsync(new LinkSpec(bridge, new Bridge()));
        }
    }

    [Fact]
    public async Task Past_the_limit_idle_sockets_are_closed_and_reopened_in_their_own_namespace()
    {
        var budget = new SocketBudget(3);
        var handles = _spaces.Select(ns => NetlinkHandle.OpenBorrowing(ns, budget: budget)).ToList();
        try
        {
            Assert.True(budget.OpenCount <= 3, $"{budget.OpenCount} open after opening");
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < Namespaces; i++)
                {
                    var names = (await handles[i].ListLinksAsync()).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
                    Assert.Contains(_bridges[i], names); // its own namespace, after every reopening
                    Assert.DoesNotContain(_bridges[(i + 1) % Namespaces], names);
                    Assert.True(budget.OpenCount <= 3, $"{budget.OpenCount} open in round {round}");
                }
            }

            Assert.Equal(Namespaces - 3, handles.Count(h => h.Socket.IsReleased));
            Assert.True(budget.Reopened >= Namespaces - 3, $"reopened {budget.Reopened}"); // at least those closed at the start
            Assert.True(budget.Released >= budget.Reopened, $"released {budget.Released}, reopened {budget.Reopened}");
        }
        finally
        {
            handles.ForEach(h => h.Dispose());
        }

        Assert.Equal(0, budget.OpenCount);
    }

    [Fact]
    public async Task Concurrent_requests_never_lose_a_socket_in_use()
    {
        var budget = new SocketBudget(2);
        var handles = _spaces.Select(ns => NetlinkHandle.OpenBorrowing(ns, budget: budget)).ToList();
        try
        {
            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var k = 0; k < 40; k++)
                {
                    var i = (w + k) % Namespaces;
                    var found = await handles[i].FindLinkAsync(_bridges[i]);
                    Assert.NotNull(found);
                }
            })).ToList();
            await Task.WhenAll(workers);

            await handles[0].FindLinkAsync(_bridges[0]); // quiet now: the one use releases what is over
            Assert.True(budget.OpenCount <= 2, $"{budget.OpenCount} open");
            Assert.True(budget.Reopened > 0);
        }
        finally
        {
            handles.ForEach(h => h.Dispose());
        }
    }

    /// <summary>Sockets opened together, by the namespace threads entering their share of the namespaces one after the
    /// other, are each bound to their own namespace; one that cannot be entered (here a mount namespace, refused by
    /// <c>setns</c>) gets its error in its slot, and the namespaces after it on the same thread are still entered.</summary>
    [Fact]
    public async Task Handles_opened_together_are_each_in_their_own_namespace()
    {
        using var wrong = NetworkNamespace.OpenPath("/proc/self/ns/mnt");
        var opened = NetlinkHandle.OpenManyBorrowing([wrong, .. _spaces]);
        try
        {
            var error = Assert.IsType<NetlinkException>(opened[0].Error);
            Assert.Equal(Errno.EINVAL, error.Errno);
            Assert.Null(opened[0].Handle);
            for (var i = 0; i < Namespaces; i++)
            {
                var (handle, failure) = opened[i + 1];
                Assert.Null(failure);
                var names = (await handle!.ListLinksAsync()).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
                Assert.Contains(_bridges[i], names);
                Assert.DoesNotContain(_bridges[(i + 1) % Namespaces], names);
            }
        }
        finally
        {
            foreach (var (handle, _) in opened)
            {
                handle?.Dispose();
            }
        }
    }
}
