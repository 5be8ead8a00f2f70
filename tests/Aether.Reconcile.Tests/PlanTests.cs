namespace Aether.Reconcile.Tests;

public sealed class PlanTests
{
    [Fact]
    public void Deletes_come_first_latest_stage_first_then_creates_earliest_stage_first()
    {
        var plan = Plan.Of(
        [
            new Operation(OperationKind.Create, Stages.Routes, "route default", "missing"),
            new Operation(OperationKind.Delete, Stages.Links, "link old", "no longer desired"),
            new Operation(OperationKind.Create, Stages.Addresses, "address 10.0.0.1/30", "missing"),
            new Operation(OperationKind.Delete, Stages.Routes, "route 10.9.0.0/16", "no longer desired"),
            new Operation(OperationKind.Create, Stages.Links, "link veth-host", "missing"),
            new Operation(OperationKind.Update, Stages.Links, "link br0", "down, want up"),
        ]);

        Assert.Equal(
            ["route 10.9.0.0/16", "link old", "link veth-host", "link br0", "address 10.0.0.1/30", "route default"],
            plan.Select(op => op.Target));
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
                new Operation(OperationKind.Create, Stages.Links, "link a", "missing"),
                new Operation(OperationKind.Create, Stages.Addresses, "address b", "missing"),
                new Operation(OperationKind.Create, Stages.Routes, "route c", "missing"),
            ],
            ApplyFails = (_, op) => op.Target == "address b" ? new IOException("EEXIST") : null,
        };

        var result = await source.RunPassAsync(CancellationToken.None);
        Assert.Equal(["link a"], result.Applied.Select(o => o.Target));
        Assert.Equal(["address b", "route c"], result.Pending.Select(o => o.Target));
        Assert.IsType<IOException>(result.Error);
        Assert.Equal(3, result.Plan.Count);
    }
}
