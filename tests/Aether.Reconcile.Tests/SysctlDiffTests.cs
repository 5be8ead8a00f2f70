using Aether.Netlink.Namespaces;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The sysctl source's validation and its pure diff. Nothing here reads or writes a sysctl: only
/// <see cref="SysctlSource.Diff"/> runs, on observations the tests make up.</summary>
public sealed class SysctlDiffTests : IDisposable
{
    private const string Forward = "net/ipv4/ip_forward";
    private const string Range = "net/ipv4/ip_local_port_range";

    private readonly NetworkNamespace _ns = NetworkNamespace.OpenCurrent();

    public void Dispose() => _ns.Dispose();

    private SysctlSource Source(bool restore, params DesiredSysctl[] desired) =>
        new(_ns, AppliedRecord.InMemory(), desired, new SysctlSourceOptions { RestoreOnRelease = restore });

    private static SysctlObservation Observed(Dictionary<string, string?> values, Dictionary<string, AppliedEntry>? record = null) =>
        new(values, record ?? []);

    private static SysctlOperation Single(Plan plan) => Assert.IsType<SysctlOperation>(Assert.Single(plan));

    [Fact]
    public void A_different_value_is_an_update_naming_both()
    {
        using var source = Source(false, new DesiredSysctl("net.ipv4.ip_forward", "1"));
        var op = Single(source.Diff(Observed(new() { [Forward] = "0" })));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Equal(Stage.Sysctls, op.Stage);
        Assert.Equal("sysctl net.ipv4.ip_forward", op.Target);
        Assert.Equal("is 0, want 1", op.Reason);
        Assert.Equal("update sysctl net.ipv4.ip_forward: is 0, want 1", op.ToString());
        Assert.Equal(Forward, op.SysctlKey);
        Assert.Equal("1", op.Value);
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("32768\t60999", "32768 60999")]
    [InlineData("32768\t60999", " 32768   60999 ")]
    public void An_equal_value_needs_nothing_whether_recorded_or_not(string have, string want)
    {
        using var source = Source(true, new DesiredSysctl(Range, want));
        Assert.True(source.Diff(Observed(new() { [Range] = have })).IsEmpty);
        Assert.True(source.Diff(Observed(new() { [Range] = have }, new() { ["sysctl " + Range] = new AppliedEntry(want, "1 2") })).IsEmpty);
    }

    [Fact]
    public void Multi_value_entries_differ_field_by_field()
    {
        using var source = Source(false, new DesiredSysctl("net.ipv4.ip_local_port_range", "1024\t65000"));
        var op = Single(source.Diff(Observed(new() { [Range] = "32768\t60999" })));
        Assert.Equal("is 32768 60999, want 1024 65000", op.Reason);
        Assert.Equal("1024\t65000", op.Value);
    }

    [Fact]
    public void A_missing_entry_is_an_update_that_will_wait_for_it()
    {
        using var source = Source(false, new DesiredSysctl("net/ipv4/conf/eth0.100/rp_filter", "2"));
        var op = Single(source.Diff(Observed(new() { ["net/ipv4/conf/eth0.100/rp_filter"] = null })));
        Assert.Equal(OperationKind.Update, op.Kind);
        Assert.Equal("sysctl net/ipv4/conf/eth0.100/rp_filter", op.Target);
        Assert.Contains("no such entry", op.Reason, StringComparison.Ordinal);

        // Not observed at all counts as missing too.
        Assert.Equal(OperationKind.Update, Single(source.Diff(Observed([]))).Kind);
    }

    [Fact]
    public void Recorded_but_no_longer_desired_is_restored_with_the_option()
    {
        using var source = Source(true);
        var op = Single(source.Diff(Observed(new() { [Forward] = "1" }, new() { ["sysctl " + Forward] = new AppliedEntry("1", "0") })));
        Assert.Equal(OperationKind.Delete, op.Kind);
        Assert.Equal("0", op.Value);
        Assert.Equal("no longer desired: is 1, restore the original 0", op.Reason);
    }

    [Fact]
    public void Recorded_but_no_longer_desired_is_only_forgotten_without_the_option()
    {
        using var source = Source(false);
        var op = Single(source.Diff(Observed(new() { [Forward] = "1" }, new() { ["sysctl " + Forward] = new AppliedEntry("1", "0") })));
        Assert.Equal(OperationKind.Delete, op.Kind);
        Assert.Null(op.Value);
        Assert.Contains("left as it is", op.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "already at its original")]
    [InlineData(null, "entry is gone")]
    public void Nothing_to_restore_is_only_forgotten(string? have, string why)
    {
        using var source = Source(true);
        var op = Single(source.Diff(Observed(new() { [Forward] = have }, new() { ["sysctl " + Forward] = new AppliedEntry("1", "0") })));
        Assert.Equal(OperationKind.Delete, op.Kind);
        Assert.Null(op.Value);
        Assert.Contains(why, op.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_sources_entries_in_a_shared_record_are_not_ours()
    {
        using var source = Source(true);
        var record = new Dictionary<string, AppliedEntry> { ["address eth0 10.0.0.1/24"] = new("10.0.0.1/24") };
        Assert.True(source.Diff(Observed([], record)).IsEmpty);
    }

    [Fact]
    public void Deletes_come_before_updates_and_the_given_order_is_kept()
    {
        using var source = Source(
            true,
            new DesiredSysctl("net.ipv6.conf.all.forwarding", "1"),
            new DesiredSysctl("net.ipv4.ip_forward", "1"));
        var plan = source.Diff(Observed(
            new() { ["net/ipv6/conf/all/forwarding"] = "0", [Forward] = "0", [Range] = "1 2" },
            new() { ["sysctl " + Range] = new AppliedEntry("1 2", "32768 60999") }));
        Assert.Equal(
            ["delete sysctl net.ipv4.ip_local_port_range", "update sysctl net.ipv6.conf.all.forwarding", "update sysctl net.ipv4.ip_forward"],
            plan.Select(op => $"{op.Kind.ToString().ToLowerInvariant()} {op.Target}"));
    }

    [Fact]
    public void Named_after_its_namespace()
    {
        using var source = Source(false);
        Assert.Equal("sysctls in the host", source.Name);
        Assert.Null(source.Subscribe(CancellationToken.None));
        Assert.Equal("sysctl net/ipv4/ip_forward", SysctlSource.RecordKey(Forward));
    }

    [Theory]
    [InlineData("kernel.hostname", "1", "kernel.hostname")]
    [InlineData("/proc/sys/net/ipv4/ip_forward", "1", "absolute")]
    [InlineData("net..ipv4", "1", "empty segment")]
    [InlineData("net/../kernel/hostname", "1", "'..'")]
    [InlineData("net.ipv4.ip_forward", "", "invalid value")]
    [InlineData("net.ipv4.ip_forward", "  ", "invalid value")]
    [InlineData("net.ipv4.ip_forward", "1\n0", "invalid value")]
    [InlineData("net.ipv4.ip_forward", "1\0", "invalid value")]
    public void Invalid_input_is_refused_naming_the_entry(string key, string value, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => Source(false, new DesiredSysctl(key, value)));
        Assert.Equal("desired", error.ParamName);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains(key.Replace("\0", "", StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_desired_twice_in_two_spellings_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Source(
            false,
            new DesiredSysctl("net.ipv4.ip_forward", "1"),
            new DesiredSysctl("net/ipv4/ip_forward", "0")));
        Assert.Contains("desired twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("net.ipv4.ip_forward", error.Message, StringComparison.Ordinal);
        Assert.Contains("net/ipv4/ip_forward", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_entries_are_refused() =>
        Assert.Throws<ArgumentException>(() => Source(false, [null!]));
}
