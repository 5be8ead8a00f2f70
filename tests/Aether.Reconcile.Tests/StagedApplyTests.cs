using System.Collections.Concurrent;

namespace Aether.Reconcile.Tests;

public sealed class StagedApplyTests : IDisposable
{
    private static readonly Scope Blue = Scope.Namespace("blue");
    private static readonly Scope Red = Scope.Namespace("red");
    private static readonly Scope[] Scopes = [Scope.Host, Blue, Red];
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-staged-").FullName;
    private readonly Dictionary<(Stage, Scope), FakeSource> _sources = [];
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Stages_run_in_order_and_every_scope_of_a_stage_is_planned_before_any_is_applied()
    {
        foreach (var stage in (Stage[])[Stage.Links, Stage.Addresses])
        {
            foreach (var scope in Scopes)
            {
                Add(stage, scope, Create(stage, scope, "x"));
            }
        }

        var result = await new StagedApply(Scopes, Source).RunAsync();

        Assert.Null(result.Failure);
        Assert.Empty(result.Pending);
        // Per stage: every scope planned, then every intent recorded, then the applies (a source records its intent
        // again as it applies, which changes nothing); and the links stage over before the addresses stage starts.
        var log = _log.ToList();
        int First(string prefix) => log.FindIndex(e => e.StartsWith(prefix, StringComparison.Ordinal));
        int Last(string prefix) => log.FindLastIndex(e => e.StartsWith(prefix, StringComparison.Ordinal));
        foreach (var stage in (string[])["Links", "Addresses"])
        {
            Assert.Equal(3, log.Count(e => e.StartsWith("plan " + stage, StringComparison.Ordinal)));
            Assert.Equal(3, log.Count(e => e.StartsWith("apply " + stage, StringComparison.Ordinal)));
            Assert.True(Last("plan " + stage) < First("prepare " + stage));
            Assert.All(Scopes, scope => Assert.True(First($"prepare {stage} {scope}") < First("apply " + stage)));
        }

        Assert.True(Last("apply Links") < First("plan Addresses"));

        // Results in stage order, then in the order the scopes were given.
        Assert.Equal(
            [(Stage.Links, Scope.Host), (Stage.Links, Blue), (Stage.Links, Red), (Stage.Addresses, Scope.Host), (Stage.Addresses, Blue), (Stage.Addresses, Red)],
            result.Results.Select(r => (r.Stage, r.Scope)));
    }

    [Fact]
    public async Task The_scopes_of_a_stage_apply_at_once_and_the_host_starts_after_the_others()
    {
        // Blue and red each wait for the other to start applying: run one after the other, they never finish.
        var blueStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var redStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Add(Stage.Links, Blue, Create(Stage.Links, Blue, "a")).OnApply = async _ => { blueStarted.SetResult(); await redStarted.Task; };
        Add(Stage.Links, Red, Create(Stage.Links, Red, "b")).OnApply = async _ => { redStarted.SetResult(); await blueStarted.Task; };
        var host = Add(Stage.Links, Scope.Host, Create(Stage.Links, Scope.Host, "c"));
        var hostStartedAfterOthers = false;
        host.OnApply = _ =>
        {
            hostStartedAfterOthers = blueStarted.Task.IsCompleted && redStarted.Task.IsCompleted;
            return Task.CompletedTask;
        };

        var result = await new StagedApply(Scopes, Source) { MaxParallelism = 2 }.RunAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(result.Failure);
        Assert.True(hostStartedAfterOthers);
    }

    [Fact]
    public async Task The_intent_of_every_plan_of_a_stage_is_recorded_in_one_write_before_the_kernel_is_touched()
    {
        var store = AppliedRecordStore.Open(Path.Combine(_dir, "records.json"));
        var onDisk = new ConcurrentBag<int>();
        foreach (var scope in Scopes)
        {
            var record = store.Section(scope + " links");
            var source = Add(Stage.Links, scope, Create(Stage.Links, scope, "x"));
            source.OnPrepare = plan => record.SetMany(plan.Select(op => KeyValuePair.Create(op.Target, new AppliedEntry("created"))));
            source.OnApply = _ =>
            {
                onDisk.Add(AppliedRecordStore.Open(store.FilePath).Section("host links").Count
                    + AppliedRecordStore.Open(store.FilePath).Section("blue links").Count
                    + AppliedRecordStore.Open(store.FilePath).Section("red links").Count);
                return Task.CompletedTask;
            };
        }

        var result = await new StagedApply(Scopes, Source, store).RunAsync();

        Assert.Null(result.Failure);
        Assert.Equal([3, 3, 3], onDisk); // every scope's intent was on disk when the first one applied
    }

    [Fact]
    public async Task A_failure_stops_after_its_stage_with_the_object_and_the_message_and_the_rest_pending()
    {
        Add(Stage.Links, Scope.Host, Create(Stage.Links, Scope.Host, "h"));
        Add(Stage.Links, Blue, Create(Stage.Links, Blue, "a"));
        var red = Add(Stage.Links, Red, Create(Stage.Links, Red, "b"), Create(Stage.Links, Red, "c"), Create(Stage.Links, Red, "d"));
        red.ApplyFails = (_, op) => op.Key.Name == "c" ? new IOException("EEXIST (File exists)") : null;
        var addresses = Add(Stage.Addresses, Blue, Create(Stage.Addresses, Blue, "10.0.0.1/24"));
        var reported = new ConcurrentBag<(Stage, Scope)>();

        var result = await new StagedApply(Scopes, Source).RunAsync(r => reported.Add((r.Stage, r.Scope)));

        var failure = Assert.IsType<StagedApplyFailure>(result.Failure);
        Assert.Equal((Stage.Links, Red, ObjectKey.Link(Red, "c")), (failure.Stage, failure.Scope, failure.Key));
        Assert.Equal("EEXIST (File exists)", failure.Error.Message);
        Assert.Equal([ObjectKey.Link(Red, "c"), ObjectKey.Link(Red, "d")], result.Pending.Select(op => op.Key));
        Assert.Equal([Stage.Devices, Stage.Addresses, Stage.Routes, Stage.Sysctls, Stage.Nftables, Stage.Ovs], result.NotReached);
        Assert.Equal(0, addresses.Passes); // the next stage was not even planned

        // The other scopes of the failing stage were applied, and every scope was reported.
        Assert.Equal(["link h", "link a", "link b"], result.Results.SelectMany(r => r.Result.Applied).Select(op => op.Target));
        Assert.Equal(3, reported.Count);
    }

    [Fact]
    public async Task Told_to_go_on_every_stage_runs_and_every_failure_is_reported()
    {
        var red = Add(Stage.Links, Red, Create(Stage.Links, Red, "b"));
        red.ApplyFails = (_, _) => new IOException("EPERM");
        var blue = Add(Stage.Routes, Blue, Create(Stage.Routes, Blue, "r"));
        blue.ApplyFails = (_, _) => new IOException("ENETUNREACH");
        var host = Add(Stage.Addresses, Scope.Host, Create(Stage.Addresses, Scope.Host, "10.0.0.1/24"));

        var result = await new StagedApply(Scopes, Source) { StopAtFirstFailure = false }.RunAsync();

        Assert.Equal([(Stage.Links, Red, "EPERM"), (Stage.Routes, Blue, "ENETUNREACH")], result.Failures.Select(f => (f.Stage, f.Scope, f.Error.Message)));
        Assert.Equal(1, host.Passes);
        Assert.Empty(result.NotReached);
    }

    [Fact]
    public async Task A_source_that_throws_ends_the_apply_unless_its_failures_are_contained()
    {
        var blue = Add(Stage.Links, Blue, Create(Stage.Links, Blue, "a"));
        blue.ObserveFails = _ => new NamespaceGoneException("namespace blue no longer exists");
        Add(Stage.Links, Red, Create(Stage.Links, Red, "b"));

        await Assert.ThrowsAsync<NamespaceGoneException>(() => new StagedApply(Scopes, Source).RunAsync());

        var result = await new StagedApply(Scopes, Source) { ContainExceptions = true }.RunAsync();
        var failure = Assert.IsType<StagedApplyFailure>(result.Failure);
        Assert.Equal((Stage.Links, Blue, (ObjectKey?)null), (failure.Stage, failure.Scope, failure.Key));
        Assert.IsType<NamespaceGoneException>(failure.Error);
        Assert.Contains(result.Results, r => r.Scope == Red && r.Result.Applied.Count == 1);
    }

    [Fact]
    public async Task A_source_that_cannot_be_made_is_its_scope_s_failure_when_contained()
    {
        Add(Stage.Links, Red, Create(Stage.Links, Red, "b"));
        ISplitPassSource? Sources(Stage stage, Scope scope) =>
            scope == Blue ? throw new IOException("cannot open the network namespace blue") : Source(stage, scope);

        var result = await new StagedApply(Scopes, Sources) { ContainExceptions = true }.RunAsync();

        var failure = Assert.IsType<StagedApplyFailure>(result.Failure);
        Assert.Equal((Stage.Links, Blue, "cannot open the network namespace blue"), (failure.Stage, failure.Scope, failure.Error.Message));
        Assert.Contains(result.Results, r => r.Scope == Blue && r.Result.Error is IOException);
        Assert.Contains(result.Results, r => r.Scope == Red && r.Result.Applied.Count == 1);
        await Assert.ThrowsAsync<IOException>(() => new StagedApply(Scopes, Sources).RunAsync());
    }

    [Fact]
    public async Task Cancellation_is_never_contained()
    {
        using var cts = new CancellationTokenSource();
        var blue = Add(Stage.Links, Blue, Create(Stage.Links, Blue, "a"));
        blue.OnApply = async _ =>
        {
            await cts.CancelAsync();
            cts.Token.ThrowIfCancellationRequested();
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new StagedApply(Scopes, Source) { ContainExceptions = true }.RunAsync(cancellationToken: cts.Token));
    }

    [Fact]
    public void A_scope_given_twice_is_refused() =>
        Assert.Throws<ArgumentException>(() => new StagedApply([Blue, Scope.Host, Blue], Source));

    private static Operation Create(Stage stage, Scope scope, string name) =>
        new(OperationKind.Create, stage, stage == Stage.Addresses ? ObjectKey.Address(scope, "eth0", name) : new ObjectKey(stage == Stage.Routes ? ObjectKind.Route : ObjectKind.Link, scope, name), "missing");

    private Func<Stage, Scope, ISplitPassSource?> Source => (stage, scope) => _sources.GetValueOrDefault((stage, scope));

    private FakeSource Add(Stage stage, Scope scope, params Operation[] drift)
    {
        var source = new FakeSource();
        var name = $"{stage} {scope}";
        source.Drift = _ =>
        {
            _log.Enqueue("plan " + name);
            return drift;
        };
        source.OnPrepare = _ => _log.Enqueue("prepare " + name);
        source.OnApply = _ =>
        {
            _log.Enqueue("apply " + name);
            return Task.CompletedTask;
        };
        _sources[(stage, scope)] = source;
        return source;
    }
}
