namespace Aether.Reconcile.Tests;

public sealed class PlanTests
{
    [Fact]
    public void Deletes_come_first_latest_stage_first_then_creates_earliest_stage_first()
    {
        var plan = Plan.Of(
        [
            new Operation(OperationKind.Create, Stage.Routes, ObjectKey.Route(Scope.Host, "route default"), "missing"),
            new Operation(OperationKind.Delete, Stage.Links, ObjectKey.Link(Scope.Host, "old"), "no longer desired"),
            new Operation(OperationKind.Create, Stage.Addresses, ObjectKey.Address(Scope.Host, "eth0", "10.0.0.1/30"), "missing"),
            new Operation(OperationKind.Delete, Stage.Routes, ObjectKey.Route(Scope.Host, "route 10.9.0.0/16"), "no longer desired"),
            new Operation(OperationKind.Create, Stage.Links, ObjectKey.Link(Scope.Host, "veth-host"), "missing"),
            new Operation(OperationKind.Update, Stage.Links, ObjectKey.Link(Scope.Host, "br0"), "down, want up"),
        ]);

        Assert.Equal(
            ["route 10.9.0.0/16", "link old", "link veth-host", "link br0", "address 10.0.0.1/30 on eth0", "route default"],
            plan.Select(op => op.Target));
    }

    [Fact]
    public void Within_a_group_the_order_the_source_gave_is_kept_however_many()
    {
        // Past the size where a sort stops inserting one by one (16): the order kept is the plan's, not the sort's.
        var given = Enumerable.Range(0, 60).Select(i => new Operation(
            i % 3 == 0 ? OperationKind.Delete : OperationKind.Create,
            i % 2 == 0 ? Stage.Links : Stage.Addresses,
            ObjectKey.Link(Scope.Host, "l" + (59 - i)),
            "why")).ToArray();

        var plan = Plan.Of(given);

        var expected = given.Where(o => o.Kind == OperationKind.Delete && o.Stage == Stage.Addresses)
            .Concat(given.Where(o => o.Kind == OperationKind.Delete && o.Stage == Stage.Links))
            .Concat(given.Where(o => o.Kind != OperationKind.Delete && o.Stage == Stage.Links))
            .Concat(given.Where(o => o.Kind != OperationKind.Delete && o.Stage == Stage.Addresses));
        Assert.Equal(expected.Select(o => o.Target), plan.Select(o => o.Target));
        Assert.Equal("link l59", given[0].Target); // the caller's array is not reordered
    }

    [Fact]
    public void Empty_is_empty() => Assert.True(Plan.Of([]).IsEmpty);

    [Fact]
    public async Task A_pass_stops_at_the_first_failure_and_reports_the_rest_pending()
    {
        var source = new FakeSource
        {
            Drift = _ =>
            [
                new Operation(OperationKind.Create, Stage.Links, ObjectKey.Link(Scope.Host, "a"), "missing"),
                new Operation(OperationKind.Create, Stage.Addresses, ObjectKey.Address(Scope.Host, "eth0", "b"), "missing"),
                new Operation(OperationKind.Create, Stage.Routes, ObjectKey.Route(Scope.Host, "route c"), "missing"),
            ],
            ApplyFails = (_, op) => op.Target == "address b on eth0" ? new IOException("EEXIST") : null,
        };

        var result = await source.RunPassAsync(CancellationToken.None);
        Assert.Equal(["link a"], result.Applied.Select(o => o.Target));
        Assert.Equal(["address b on eth0", "route c"], result.Pending.Select(o => o.Target));
        Assert.IsType<IOException>(result.Error);
        Assert.Equal(3, result.Plan.Count);
    }
}
