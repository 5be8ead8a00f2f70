using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A loop runs on a timer here too: these tests run apart from the parallel kernel tests (see
/// <see cref="LinkSourceCollection"/>).</summary>
[CollectionDefinition(nameof(SysctlSourceTests), DisableParallelization = true)]
public sealed class SysctlSourceCollection
{
}

/// <summary>
/// The sysctl source against the kernel, in a test namespace. The oracle is <c>ip netns exec NS sysctl -n</c>; the
/// host's values of the same keys are read before and after each test and must not change.
/// </summary>
[Collection(nameof(SysctlSourceTests))]
public sealed class SysctlSourceTests : SandboxTest
{
    private const string Forward = "net.ipv4.ip_forward";
    private const string Forward6 = "net.ipv6.conf.all.forwarding";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private NetworkNamespace _ns = null!;
    private AppliedRecord _record = null!;
    private string _veth = null!;
    private string _rpFilter = null!;
    private Dictionary<string, string?> _host = null!;
    private Dictionary<string, string> _originals = null!;

    private string Ns => _ns.Name!;

    protected override async Task SetUpAsync()
    {
        _host = await SysctlOracle.HostSnapshotAsync(Forward, Forward6, "net.ipv4.conf.all.rp_filter", "net.ipv4.ip_local_port_range");
        _ns = Box.CreateNamespace("s");
        _veth = Box.Name("v");
        await Ip.RunAsync("-n", Ns, "link", "add", _veth, "type", "veth", "peer", "name", Box.Name("p"));
        _rpFilter = $"net/ipv4/conf/{_veth}/rp_filter";
        _record = AppliedRecord.InMemory();

        // Before any source writes: entries opened through Aether read this namespace's value, not the host's
        // (a key the tests below do not use gets a value the host does not have).
        var range = Sysctl.ValuesEqual(_host["net.ipv4.ip_local_port_range"]!, "20001 30001") ? "20002 30002" : "20001 30001";
        await SysctlOracle.WriteAsync(Ns, "net.ipv4.ip_local_port_range", range);
        using (var probe = Sysctl.Open(_ns, "net.ipv4.ip_local_port_range"))
        {
            Assert.True(Sysctl.ValuesEqual(range, probe.Read()), $"an entry opened in {Ns} does not read its value");
        }

        _originals = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Forward] = await SysctlOracle.ReadAsync(Ns, Forward),
            [Forward6] = await SysctlOracle.ReadAsync(Ns, Forward6),
            [_rpFilter] = await SysctlOracle.ReadAsync(Ns, _rpFilter),
        };
    }

    private SysctlSource Source(bool restore, params DesiredSysctl[] desired) =>
        Box.Own(new SysctlSource(_ns, _record, desired, new SysctlSourceOptions { RestoreOnRelease = restore }));

    /// <summary>Values the namespace does not have yet: the opposite of what it has.</summary>
    private DesiredSysctl[] Desired() =>
    [
        new(Forward, Flip(_originals[Forward])),
        new(Forward6, Flip(_originals[Forward6])),
        new(_rpFilter, _originals[_rpFilter] == "2" ? "1" : "2"),
    ];

    private static string Flip(string value) => value == "1" ? "0" : "1";

    private async Task AssertHostUnchangedAsync() =>
        Assert.Equal(_host, await SysctlOracle.HostSnapshotAsync([.. _host.Keys]));

    private async Task AssertValuesAsync(IEnumerable<DesiredSysctl> expected)
    {
        foreach (var want in expected)
        {
            Assert.Equal(want.Value, await SysctlOracle.ReadAsync(Ns, want.Key));
        }
    }

    private static string RecordKey(string key) => SysctlSource.RecordKey(Sysctl.NormalizeKey(key));

    [Fact]
    public async Task A_pass_sets_the_values_and_records_the_originals_then_the_next_finds_nothing_to_do()
    {
        var desired = Desired();
        using var source = Source(false, desired);
        Assert.Equal("sysctls in " + Ns, source.Name);
        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal(3, first.Applied.Count);
        await AssertValuesAsync(desired);

        Assert.Equal(3, _record.Count);
        foreach (var want in desired)
        {
            Assert.True(_record.TryGet(RecordKey(want.Key), out var entry), want.Key);
            Assert.Equal(want.Value, entry.Value);
            Assert.Equal(_originals[want.Key], entry.Original);
        }

        var second = await source.RunPassAsync(CancellationToken.None);
        Assert.True(second.Plan.IsEmpty, string.Join("; ", second.Plan));
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task A_value_changed_by_hand_is_put_back_at_the_next_pass_and_the_first_original_is_kept()
    {
        var desired = Desired();
        using var source = Source(false, desired);
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        await SysctlOracle.WriteAsync(Ns, Forward, _originals[Forward]);
        var drifted = new[] { "0", "1", "2" }.First(v => v != _originals[_rpFilter] && v != desired[2].Value);
        await SysctlOracle.WriteAsync(Ns, _rpFilter, drifted);

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(
            [$"update sysctl {Forward}: is {_originals[Forward]}, want {desired[0].Value}", $"update sysctl {Sysctl.FormatKey(_rpFilter)}: is {drifted}, want {desired[2].Value}"],
            pass.Applied.Select(op => op.ToString()));
        await AssertValuesAsync(desired);
        Assert.True(_record.TryGet(RecordKey(_rpFilter), out var entry));
        Assert.Equal(_originals[_rpFilter], entry.Original); // not the drifted value
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task An_equal_value_is_left_alone_and_not_recorded()
    {
        using var source = Source(true, new DesiredSysctl(Forward, _originals[Forward]));
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.True(pass.Plan.IsEmpty, string.Join("; ", pass.Plan));
        Assert.Equal(0, _record.Count);
    }

    [Fact]
    public async Task Release_with_restore_puts_the_originals_back_and_forgets_them()
    {
        using var source = Source(true, Desired());
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await source.ReleaseAsync(CancellationToken.None);
        foreach (var (key, original) in _originals)
        {
            Assert.Equal(original, await SysctlOracle.ReadAsync(Ns, key));
        }

        Assert.Equal(0, _record.Count);
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task Release_without_restore_leaves_the_values_and_forgets_them()
    {
        var desired = Desired();
        using var source = Source(false, desired);
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        await source.ReleaseAsync(CancellationToken.None);
        await AssertValuesAsync(desired);
        Assert.Equal(0, _record.Count);
    }

    [Fact]
    public async Task A_key_no_longer_desired_is_restored_and_forgotten()
    {
        var desired = Desired();
        using (var before = Source(true, desired))
        {
            Assert.Null((await before.RunPassAsync(CancellationToken.None)).Error);
        }

        using var after = Source(true, desired[0]); // same record: the other two are ours but no longer wanted
        var pass = await after.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(2, pass.Applied.Count);
        Assert.All(pass.Applied, op => Assert.Equal(OperationKind.Delete, op.Kind));
        Assert.Equal(desired[0].Value, await SysctlOracle.ReadAsync(Ns, Forward));
        Assert.Equal(_originals[Forward6], await SysctlOracle.ReadAsync(Ns, Forward6));
        Assert.Equal(_originals[_rpFilter], await SysctlOracle.ReadAsync(Ns, _rpFilter));
        Assert.Equal([RecordKey(Forward)], _record.Snapshot().Keys);
        Assert.True((await after.RunPassAsync(CancellationToken.None)).Plan.IsEmpty);
    }

    [Fact]
    public async Task An_interface_key_before_its_interface_fails_retryably_then_a_loop_converges_once_it_exists()
    {
        var late = Box.Name("late");
        var key = $"net/ipv4/conf/{late}/rp_filter";
        var desired = new[] { new DesiredSysctl(Forward, Flip(_originals[Forward])), new DesiredSysctl(key, "2") };
        using var source = Source(true, desired);

        var pass = await source.RunPassAsync(CancellationToken.None);
        var error = Assert.IsType<NetlinkException>(pass.Error);
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains(late, error.Message, StringComparison.Ordinal);
        Assert.Equal(["sysctl " + Sysctl.FormatKey(key)], pass.Pending.Select(op => op.Target));
        Assert.False(_record.TryGet(SysctlSource.RecordKey(key), out _));

        using var loop = new ReconcileLoop(source, new ReconcileLoopOptions
        {
            Resync = TimeSpan.FromMilliseconds(300),
            BackoffCap = TimeSpan.FromMilliseconds(300),
        });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => Task.FromResult(loop.Status.LastReport?.Outcome == PassOutcome.Failed), loop);
            await Ip.RunAsync("-n", Ns, "link", "add", late, "type", "veth", "peer", "name", Box.Name("lp"));
            await WaitForAsync(async () => await SysctlOracle.ExistsAsync(Ns, key) && await SysctlOracle.ReadAsync(Ns, key) == "2", loop);
            await WaitForAsync(() => Task.FromResult(loop.Status.LastReport?.Outcome is PassOutcome.InSync or PassOutcome.Converged), loop);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }

        Assert.True(_record.TryGet(SysctlSource.RecordKey(key), out var entry));
        Assert.Equal("2", entry.Value);
        await AssertValuesAsync(desired);
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task An_interface_deleted_and_recreated_gets_its_value_again()
    {
        var desired = Desired();
        using var source = Source(false, desired);
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        // The open entry of the old interface is dead now; the new one starts from the default.
        await Ip.RunAsync("-n", Ns, "link", "del", _veth);
        await Ip.RunAsync("-n", Ns, "link", "add", _veth, "type", "veth", "peer", "name", Box.Name("p"));
        Assert.Equal(_originals[_rpFilter], await SysctlOracle.ReadAsync(Ns, _rpFilter));

        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(["sysctl " + Sysctl.FormatKey(_rpFilter)], pass.Applied.Select(op => op.Target));
        await AssertValuesAsync(desired);
    }

    [Fact]
    public async Task A_read_only_entry_is_a_terminal_error()
    {
        using var source = Source(false, new DesiredSysctl("net.ipv4.tcp_available_congestion_control", "nothing-like-it"));
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.Contains("read-only", pass.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_the_kernel_rejects_is_a_terminal_error_and_changes_nothing()
    {
        using var source = Source(true, new DesiredSysctl(Forward, "abc"));
        var pass = await source.RunPassAsync(CancellationToken.None);
        var error = Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.Contains("EINVAL", error.Message, StringComparison.Ordinal);
        Assert.Equal(_originals[Forward], await SysctlOracle.ReadAsync(Ns, Forward));
        Assert.Equal(0, _record.Count);
        await AssertHostUnchangedAsync();
    }

    [Fact]
    public async Task Observing_a_deleted_namespace_says_it_is_gone_and_release_only_forgets()
    {
        using var source = Source(true, Desired());
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        NetworkNamespace.Delete(Ns);
        await Assert.ThrowsAsync<NamespaceGoneException>(() => source.ObserveAsync(CancellationToken.None));
        await source.ReleaseAsync(CancellationToken.None);
        Assert.Equal(0, _record.Count);
        await AssertHostUnchangedAsync();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, ReconcileLoop loop)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                var s = loop.Status;
                Assert.Fail($"condition not met in time; loop: {s.Passes} passes, running {s.Running}, {s.ConsecutiveFailures} failures, last {s.LastReport?.Outcome}: {s.LastReport?.Error}; next {s.NextPass}");
            }

            await Task.Delay(20);
        }
    }
}
