using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests;

/// <summary>
/// <c>/proc/sys/net</c> entries opened inside a namespace. The oracle is procps' <c>sysctl</c> run in the namespace by
/// <c>ip netns exec</c>; the host's values are read before and after and must not move (they are never written).
/// </summary>
public sealed class SysctlTests : SandboxTest
{
    private const string Forward = "net.ipv4.ip_forward";
    private const string PortRange = "net.ipv4.ip_local_port_range";

    private NetworkNamespace _x = null!;
    private NetworkNamespace _y = null!;
    private Dictionary<string, string?> _host = null!;

    private string X => _x.Name!;

    private string Y => _y.Name!;

    protected override async Task SetUpAsync()
    {
        _host = await SysctlOracle.HostSnapshotAsync(Forward, PortRange, "net.ipv4.conf.all.rp_filter");
        _x = Box.CreateNamespace("x");
        _y = Box.CreateNamespace("y");
    }

    private Sysctl Open(NetworkNamespace ns, string key) => Box.Own(Sysctl.Open(ns, key));

    private async Task AssertHostUnchangedAsync() =>
        Assert.Equal(_host, await SysctlOracle.HostSnapshotAsync([.. _host.Keys]));

    /// <summary>Runs <paramref name="work"/> on a new thread and checks the thread is in the host's namespace.</summary>
    private static T OnHostThread<T>(Func<T> work)
    {
        using var host = NetworkNamespace.OpenCurrent();
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                var inode = Ip.ParseNsLink(new FileInfo("/proc/thread-self/ns/net").LinkTarget!);
                Assert.Equal(host.Inode, inode);
                result = work();
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? result : throw new InvalidOperationException("on the host thread: " + error.Message, error);
    }

    /// <summary>
    /// Before anything is written through <paramref name="entry"/>: gives <paramref name="key"/> a value in
    /// <paramref name="ns"/> that the host does not have (with sysctl(8) inside the namespace) and checks the entry
    /// reads it. An entry bound to the wrong namespace fails here, by reading, and never writes the host's value.
    /// </summary>
    private async Task AssertBoundAsync(Sysctl entry, string ns, string key, string value)
    {
        Assert.False(Sysctl.ValuesEqual(value, _host[key]!), $"{value} is the host's value too: it tells nothing apart");
        await SysctlOracle.WriteAsync(ns, key, value);
        Assert.True(Sysctl.ValuesEqual(value, entry.Read()), $"{entry} reads '{entry.Read()}', but {ns} has '{value}'");
    }

    private string NotHost(string key) => _host[key] == "1" ? "0" : "1";

    [Fact]
    public async Task An_entry_opened_inside_a_namespace_acts_on_that_namespace_from_a_host_thread()
    {
        var x = Open(_x, Forward);
        var y = Open(_y, Forward);

        // Reading first: X is given a value the host does not have, and the handle, read on a host thread, sees it.
        var inX = NotHost(Forward);
        await SysctlOracle.WriteAsync(X, Forward, inX);
        Assert.Equal(inX, OnHostThread(x.Read));
        await AssertBoundAsync(y, Y, Forward, inX);
        var other = inX == "1" ? "0" : "1";

        // Written from a thread in the host's namespace: X changes, Y and the host do not.
        OnHostThread(() =>
        {
            x.Write(other);
            return 0;
        });
        Assert.Equal(other, await SysctlOracle.ReadAsync(X, Forward));
        Assert.Equal(inX, await SysctlOracle.ReadAsync(Y, Forward));
        await AssertHostUnchangedAsync();

        // The other way: values set inside each namespace by sysctl(8) are what each handle reads, on a host thread
        // and on a thread-pool thread.
        await SysctlOracle.WriteAsync(X, Forward, inX);
        await SysctlOracle.WriteAsync(Y, Forward, other);
        Assert.Equal((inX, other), OnHostThread(() => (x.Read(), y.Read())));
        Assert.Equal((inX, other), await Task.Run(() => (x.Read(), y.Read())));
        Assert.Equal(Forward, x.DisplayKey);
        Assert.Equal("net/ipv4/ip_forward", x.Key);
        Assert.True(x.CanWrite);
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task A_multi_value_entry_is_written_with_spaces_and_read_as_the_kernel_prints_it()
    {
        var range = Open(_x, "net/ipv4/ip_local_port_range");
        var first = Sysctl.ValuesEqual(_host[PortRange]!, "20001 30001") ? "20002 30002" : "20001 30001";
        await AssertBoundAsync(range, X, PortRange, first);
        range.Write("20000 30000");
        Assert.Equal(["20000", "30000"], SysctlOracle.Fields(await SysctlOracle.ReadAsync(X, PortRange)));
        var read = range.Read();
        Assert.Equal("20000\t30000", read);
        Assert.True(Sysctl.ValuesEqual(read, "20000 30000"));
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task An_interface_entry_with_a_dot_in_its_name_is_reached_by_a_slash_key_and_goes_with_the_interface()
    {
        var dotted = Box.Name(".1");
        await Ip.RunAsync("-n", X, "link", "add", dotted, "type", "veth", "peer", "name", Box.Name("p"));
        var key = $"net/ipv4/conf/{dotted}/rp_filter";
        var entry = Open(_x, key);
        var other = (await SysctlOracle.ReadAsync(X, key)) == "2" ? "1" : "2";
        entry.Write(other);
        Assert.Equal(other, await SysctlOracle.ReadAsync(X, key));
        Assert.Equal(other, entry.Read());
        Assert.Equal(key, entry.DisplayKey);

        // Not in the host (nor in Y): the interface lives in X only.
        using (var host = NetworkNamespace.OpenCurrent())
        {
            Assert.Null(Sysctl.TryOpen(host, key));
        }

        Assert.Null(Sysctl.TryOpen(_y, key));

        await Ip.RunAsync("-n", X, "link", "del", dotted);
        var gone = Assert.Throws<NetlinkException>(entry.Read);
        Assert.Equal(Errno.ENOENT, gone.Errno);
        Assert.Contains(dotted, gone.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.ENOENT, Assert.Throws<NetlinkException>(() => entry.Write("0")).Errno);
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public void A_missing_entry_names_the_key_the_namespace_and_errno()
    {
        var key = $"net.ipv4.conf.{Box.Name("zz")}.rp_filter";
        var error = Assert.Throws<NetlinkException>(() => Sysctl.Open(_x, key));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(X, error.Message, StringComparison.Ordinal);
        Assert.Contains("ENOENT", error.Message, StringComparison.Ordinal);
        Assert.Null(Sysctl.TryOpen(_x, key));

        var opened = Sysctl.OpenAll(_x, [Forward, key]);
        Box.Own(opened[0]!);
        Assert.NotNull(opened[0]);
        Assert.Null(opened[1]);
    }

    [Fact]
    public async Task A_value_the_kernel_rejects_is_EINVAL_and_changes_nothing()
    {
        var x = Open(_x, Forward);
        await AssertBoundAsync(x, X, Forward, NotHost(Forward));
        var error = Assert.Throws<NetlinkException>(() => x.Write("abc"));
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Contains(Forward, error.Message, StringComparison.Ordinal);
        Assert.Equal(NotHost(Forward), await SysctlOracle.ReadAsync(X, Forward));
        await AssertHostUnchangedAsync();
        Assert.Throws<ArgumentException>(() => x.Write("1\n0"));
    }

    [Fact]
    public async Task A_read_only_entry_opens_for_reading_and_refuses_writes()
    {
        const string key = "net.ipv4.tcp_available_congestion_control";
        var entry = Open(_x, key);
        Assert.False(entry.CanWrite);
        Assert.Equal(await SysctlOracle.ReadAsync(X, key), entry.Read());
        Assert.Equal(13, Assert.Throws<NetlinkException>(() => entry.Write("reno")).Errno); // EACCES
    }

    [Fact]
    public void A_directory_is_not_an_entry()
    {
        var error = Assert.Throws<NetlinkException>(() => Sysctl.Open(_x, "net/ipv4"));
        Assert.Equal(21, error.Errno); // EISDIR
    }
}
