using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>One of these tests drives a loop whose deadline should measure the loop, not the load of the parallel
/// kernel tests: the class runs apart from them (as <see cref="LinkSourceTests"/> does).</summary>
[CollectionDefinition(nameof(AddressSourceTests), DisableParallelization = true)]
public sealed class AddressSourceCollection
{
}

/// <summary>The address source against the kernel, in a sandbox namespace with the veth pair A–B, both up; every
/// result is checked with <c>ip -j addr show</c>.</summary>
[Collection(nameof(AddressSourceTests))]
public sealed class AddressSourceTests : NamespaceTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static readonly IPPrefix V4 = IPPrefix.Parse("10.50.0.1/24");
    private static readonly IPPrefix V4Wide = IPPrefix.Parse("10.50.0.1/16");
    private static readonly IPPrefix V6 = IPPrefix.Parse("fd00:50::1/64");
    private static readonly IPPrefix OnB = IPPrefix.Parse("10.51.0.1/24");

    private readonly AppliedRecord _record = AppliedRecord.InMemory();

    private DesiredAddress[] Desired() => [new(A, V4), new(A, V6), new(B, OnB)];

    private AddressSource Source(params DesiredAddress[] desired) => new(Handle, _record, desired);

    private AddressSource Source(AppliedRecord record, ConflictPolicy policy, params DesiredAddress[] desired) => new(Handle, record, desired, policy);

    private bool Owns(string link, IPPrefix prefix, AppliedRecord? record = null) =>
        (record ?? _record).TryGet(AddressSource.KeyOf(link, prefix), out _);

    /// <summary>The oracle: <c>ip -j addr show dev LINK</c> as <c>ADDR/PLEN</c> strings.</summary>
    private async Task<HashSet<string>> IpAddrsAsync(string link)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in await Ip.JsonAsync(Ns, "addr", "show", "dev", link))
        {
            foreach (var a in entry.GetProperty("addr_info").EnumerateArray())
            {
                found.Add($"{Ip.Str(a, "local")}/{Ip.Int(a, "prefixlen")}");
            }
        }

        return found;
    }

    private static async Task<PassResult> PassAsync(AddressSource source)
    {
        var pass = await source.RunPassAsync(CancellationToken.None);
        return pass;
    }

    private static async Task<PassResult> CleanPassAsync(AddressSource source)
    {
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.True(pass.Error is null, $"pass failed: {pass.Error}; plan: {string.Join("; ", pass.Plan)}");
        return pass;
    }

    private static void AssertNothingToDo(PassResult pass) =>
        Assert.True(pass.Plan.IsEmpty && pass.Error is null, $"expected an empty plan, got: {string.Join("; ", pass.Plan)} ({pass.Error?.Message})");

    [Fact]
    public async Task Intent_is_recorded_before_the_kernel_is_touched_and_an_intent_never_carried_out_is_forgotten()
    {
        var source = Source(Desired());
        var plan = await source.PlanPassAsync(CancellationToken.None);
        source.Prepare(plan);
        Assert.True(Owns(A, V4) && Owns(A, V6) && Owns(B, OnB), "prepare records every create in the plan");
        Assert.DoesNotContain("10.50.0.1/24", await IpAddrsAsync(A)); // nothing applied yet

        // A crash here: the next controller no longer wants the addresses; what was recorded but never made is
        // forgotten, and nothing is deleted.
        var after = await CleanPassAsync(Source());
        Assert.All(after.Applied, op => Assert.True(((AddressOperation)op).RecordOnly, op.ToString()));
        Assert.Equal(0, _record.Count);

        // Carried out: the record already says so, and applying says the same.
        var again = Source(Desired());
        var result = await again.ApplyPlanAsync(await again.PlanPassAsync(CancellationToken.None), CancellationToken.None);
        Assert.Null(result.Error);
        Assert.Contains("10.50.0.1/24", await IpAddrsAsync(A));
        Assert.True(Owns(A, V4) && Owns(B, OnB));
        AssertNothingToDo(await PassAsync(again));
    }

    [Fact]
    public async Task Additions_sent_together_report_each_one_and_a_refused_one_leaves_the_others_made()
    {
        // IPv6 is off on B: the kernel refuses the address in the middle of the batch.
        await Ip.RunAsync("netns", "exec", Ns, "sysctl", "-qw", $"net.ipv6.conf.{B}.disable_ipv6=1");
        var source = Source(new DesiredAddress(A, V4), new DesiredAddress(B, IPPrefix.Parse("fd00:51::1/64")), new DesiredAddress(B, OnB));

        var pass = await PassAsync(source);
        Assert.IsType<NetlinkException>(pass.Error);
        Assert.Equal([AddressSource.KeyOf(A, V4), AddressSource.KeyOf(B, OnB)], pass.Applied.Select(op => ((AddressOperation)op).RecordKey));
        Assert.Equal(AddressSource.KeyOf(B, IPPrefix.Parse("fd00:51::1/64")), ((AddressOperation)Assert.Single(pass.Pending)).RecordKey);
        Assert.Contains("10.50.0.1/24", await IpAddrsAsync(A));
        Assert.Contains("10.51.0.1/24", await IpAddrsAsync(B));
        Assert.True(Owns(A, V4) && Owns(B, OnB));
    }

    [Fact]
    public async Task A_pass_adds_IPv4_and_IPv6_and_records_them_then_the_next_finds_nothing_to_do()
    {
        var source = Source(Desired());
        Assert.Equal("addresses in " + Ns, source.Name);
        var first = await CleanPassAsync(source);
        Assert.Equal(3, first.Applied.Count);
        Assert.All(first.Applied, op => Assert.Equal(OperationKind.Create, op.Kind));

        var onA = await IpAddrsAsync(A);
        Assert.Contains("10.50.0.1/24", onA);
        Assert.Contains("fd00:50::1/64", onA);
        Assert.Contains("10.51.0.1/24", await IpAddrsAsync(B));
        Assert.True(Owns(A, V4) && Owns(A, V6) && Owns(B, OnB));
        Assert.Equal(3, _record.Count);

        AssertNothingToDo(await PassAsync(source));
        AssertNothingToDo(await PassAsync(Source(Desired()))); // a new instance with the same record agrees
    }

    [Fact]
    public async Task An_address_deleted_with_ip_is_restored()
    {
        var source = Source(Desired());
        await CleanPassAsync(source);
        await Ip.RunAsync("-n", Ns, "addr", "del", "fd00:50::1/64", "dev", A);
        await Ip.RunAsync("-n", Ns, "addr", "del", "10.51.0.1/24", "dev", B);
        Assert.DoesNotContain("fd00:50::1/64", await IpAddrsAsync(A));

        var pass = await CleanPassAsync(source);
        Assert.Equal(["create address fd00:50::1/64 on " + A + ": missing", "create address 10.51.0.1/24 on " + B + ": missing"], pass.Applied.Select(o => o.ToString()));
        Assert.Contains("fd00:50::1/64", await IpAddrsAsync(A));
        Assert.Contains("10.51.0.1/24", await IpAddrsAsync(B));
        AssertNothingToDo(await PassAsync(source));
    }

    [Fact]
    public async Task A_prefix_length_changed_by_hand_is_a_reported_conflict_and_stays_as_it_is()
    {
        var source = Source(Desired());
        await CleanPassAsync(source);
        await Ip.RunAsync("-n", Ns, "addr", "del", "10.50.0.1/24", "dev", A);
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.50.0.1/16", "dev", A);

        for (var i = 0; i < 2; i++)
        {
            var pass = await PassAsync(source);
            var error = Assert.IsType<TerminalReconcileException>(pass.Error);
            Assert.Contains("10.50.0.1/24 on " + A, error.Message, StringComparison.Ordinal);
            Assert.Contains("10.50.0.1/16 on " + A, error.Message, StringComparison.Ordinal);
            var onA = await IpAddrsAsync(A);
            Assert.Contains("10.50.0.1/16", onA);
            Assert.DoesNotContain("10.50.0.1/24", onA);
            Assert.False(Owns(A, V4Wide));
        }
    }

    [Fact]
    public async Task A_prefix_length_changed_by_hand_is_taken_over_under_adopt()
    {
        await CleanPassAsync(Source(Desired()));
        await Ip.RunAsync("-n", Ns, "addr", "del", "10.50.0.1/24", "dev", A);
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.50.0.1/16", "dev", A);

        var adopting = Source(_record, ConflictPolicy.Adopt, Desired());
        var pass = await CleanPassAsync(adopting);
        Assert.Equal([OperationKind.Delete, OperationKind.Create], pass.Applied.Select(o => o.Kind));
        var onA = await IpAddrsAsync(A);
        Assert.Contains("10.50.0.1/24", onA);
        Assert.DoesNotContain("10.50.0.1/16", onA);
        AssertNothingToDo(await PassAsync(adopting));
    }

    [Fact]
    public async Task A_desired_prefix_length_change_replaces_the_one_we_applied()
    {
        await CleanPassAsync(Source(new DesiredAddress(A, V4Wide)));
        Assert.True(Owns(A, V4Wide));

        var pass = await CleanPassAsync(Source(new DesiredAddress(A, V4)));
        Assert.Equal(
            ["delete address 10.50.0.1/16 on " + A + ": replaced by 10.50.0.1/24 on " + A, "create address 10.50.0.1/24 on " + A + ": missing"],
            pass.Applied.Select(o => o.ToString()));
        var onA = await IpAddrsAsync(A);
        Assert.Contains("10.50.0.1/24", onA);
        Assert.DoesNotContain("10.50.0.1/16", onA);
        Assert.False(Owns(A, V4Wide));
        Assert.True(Owns(A, V4));
    }

    [Fact]
    public async Task The_same_address_on_another_link_not_ours_is_a_conflict_and_left_alone()
    {
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.50.0.1/24", "dev", B);
        var pass = await PassAsync(Source(Desired()));
        var error = Assert.IsType<TerminalReconcileException>(pass.Error);
        Assert.Contains("10.50.0.1/24 on " + B, error.Message, StringComparison.Ordinal);
        Assert.Contains("10.50.0.1/24 on " + A, error.Message, StringComparison.Ordinal);

        // The other addresses were applied before the conflict stopped the pass.
        Assert.Contains("fd00:50::1/64", await IpAddrsAsync(A));
        Assert.DoesNotContain("10.50.0.1/24", await IpAddrsAsync(A));
        Assert.Contains("10.50.0.1/24", await IpAddrsAsync(B));
    }

    [Fact]
    public async Task An_identical_address_someone_else_added_is_left_alone_unless_adopted()
    {
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.50.0.1/24", "dev", A);

        AssertNothingToDo(await PassAsync(Source(new DesiredAddress(A, V4))));
        Assert.False(Owns(A, V4));

        var adopting = Source(_record, ConflictPolicy.Adopt, new DesiredAddress(A, V4));
        var pass = await CleanPassAsync(adopting);
        var adopt = Assert.Single(pass.Applied);
        Assert.Equal(OperationKind.Update, adopt.Kind);
        Assert.True(Owns(A, V4));
        AssertNothingToDo(await PassAsync(adopting));

        // Owned now: it goes when no longer desired.
        await CleanPassAsync(Source());
        Assert.DoesNotContain("10.50.0.1/24", await IpAddrsAsync(A));
    }

    [Fact]
    public async Task Foreign_addresses_and_link_locals_are_untouched_across_passes()
    {
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.60.0.7/24", "dev", A);
        await Ip.RunAsync("-n", Ns, "addr", "add", "fd00:60::7/64", "dev", A);
        var before = await IpAddrsAsync(A);

        var source = Source(Desired());
        await CleanPassAsync(source);
        AssertNothingToDo(await PassAsync(source));
        await CleanPassAsync(Source()); // nothing desired: only what we own goes

        var after = await IpAddrsAsync(A);
        Assert.Contains("10.60.0.7/24", after);
        Assert.Contains("fd00:60::7/64", after);
        Assert.Subset(after, before); // the kernel's link-local among them
        Assert.Equal(0, _record.Count);
    }

    [Fact]
    public async Task An_owned_address_no_longer_desired_is_removed_and_forgotten()
    {
        await CleanPassAsync(Source(Desired()));
        var pass = await CleanPassAsync(Source(new DesiredAddress(A, V4)));
        Assert.Equal(2, pass.Applied.Count);
        Assert.All(pass.Applied, op => Assert.Equal(OperationKind.Delete, op.Kind));
        Assert.DoesNotContain("fd00:50::1/64", await IpAddrsAsync(A));
        Assert.DoesNotContain("10.51.0.1/24", await IpAddrsAsync(B));
        Assert.Contains("10.50.0.1/24", await IpAddrsAsync(A));
        Assert.False(Owns(A, V6));
        Assert.False(Owns(B, OnB));
        Assert.Equal(1, _record.Count);
    }

    [Fact]
    public async Task An_owned_address_already_gone_is_only_forgotten()
    {
        await CleanPassAsync(Source(Desired()));
        await Ip.RunAsync("-n", Ns, "addr", "del", "10.51.0.1/24", "dev", B);
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.51.0.1/24", "dev", A); // someone else's now

        var pass = await CleanPassAsync(Source(new DesiredAddress(A, V4), new DesiredAddress(A, V6)));
        var forget = Assert.IsType<AddressOperation>(Assert.Single(pass.Applied));
        Assert.True(forget.RecordOnly);
        Assert.False(Owns(B, OnB));
        Assert.Contains("10.51.0.1/24", await IpAddrsAsync(A));
    }

    [Fact]
    public async Task A_missing_link_is_a_retryable_error_and_converges_once_the_link_exists()
    {
        var c = Box.Name("c");
        var source = Source(new DesiredAddress(c, V4), new DesiredAddress(A, V6));
        var pass = await PassAsync(source);
        Assert.NotNull(pass.Error);
        Assert.IsNotType<TerminalReconcileException>(pass.Error);
        Assert.Contains($"link {c} missing", pass.Error.Message, StringComparison.Ordinal);
        Assert.Contains("fd00:50::1/64", await IpAddrsAsync(A)); // the link that exists got its address
        Assert.False(Owns(c, V4));

        await Ip.RunAsync("-n", Ns, "link", "add", c, "type", "veth", "peer", "name", Box.Name("d"));
        var healed = await CleanPassAsync(source);
        Assert.Equal("create address 10.50.0.1/24 on " + c + ": missing", Assert.Single(healed.Applied).ToString());
        Assert.Contains("10.50.0.1/24", await IpAddrsAsync(c));
        Assert.True(Owns(c, V4));
    }

    [Fact]
    public async Task A_record_kept_in_a_file_still_knows_what_it_owns_after_a_restart()
    {
        var dir = Directory.CreateTempSubdirectory("aether-addr-");
        try
        {
            var path = Path.Combine(dir.FullName, "addresses.json");
            await CleanPassAsync(Source(AppliedRecord.Open(path), ConflictPolicy.Report, Desired()));

            // A new process: a new record read from the file, a new source.
            var reopened = AppliedRecord.Open(path);
            Assert.Equal(3, reopened.Count);
            AssertNothingToDo(await PassAsync(Source(reopened, ConflictPolicy.Report, Desired())));

            var pass = await CleanPassAsync(Source(AppliedRecord.Open(path), ConflictPolicy.Report, new DesiredAddress(A, V4)));
            Assert.Equal(2, pass.Applied.Count(op => op.Kind == OperationKind.Delete));
            Assert.DoesNotContain("fd00:50::1/64", await IpAddrsAsync(A));
            Assert.DoesNotContain("10.51.0.1/24", await IpAddrsAsync(B));
            Assert.Equal([AddressSource.KeyOf(A, V4)], AppliedRecord.Open(path).Snapshot().Keys);
            Assert.False(File.Exists(path + ".tmp"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Invalid_input_is_refused_before_anything_is_touched()
    {
        var ex = Assert.Throws<ArgumentException>(() => Source(new DesiredAddress(A, V4), new DesiredAddress(B, V4Wide)));
        Assert.Contains("10.50.0.1 is desired twice", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Source(new DesiredAddress("bad name", V4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Source(_record, (ConflictPolicy)7, new DesiredAddress(A, V4)));
        Assert.Equal(0, _record.Count);
    }

    [Fact]
    public async Task A_loop_restores_an_address_deleted_with_ip_through_the_hint_path()
    {
        using var loop = new ReconcileLoop(Source(Desired()), new ReconcileLoopOptions { Resync = TimeSpan.FromHours(1) });
        await loop.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(async () => (await IpAddrsAsync(A)).Contains("10.50.0.1/24"), loop);
            var passes = loop.Status.Passes;
            await Ip.RunAsync("-n", Ns, "addr", "del", "10.50.0.1/24", "dev", A);
            await WaitForAsync(async () => (await IpAddrsAsync(A)).Contains("10.50.0.1/24"), loop);
            // The repair shows in the kernel before its pass ends and is counted.
            await WaitForAsync(() => Task.FromResult(loop.Status.Passes > passes), loop);
            Assert.True(loop.Status.Passes > passes);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, ReconcileLoop loop)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                var s = loop.Status;
                Assert.Fail($"condition not met in {Patience}; loop: {s.Passes} passes, running {s.Running}, {s.ConsecutiveFailures} failures, last {s.LastReport?.Outcome}: {s.LastReport?.Error}");
            }

            await Task.Delay(20);
        }
    }
}
