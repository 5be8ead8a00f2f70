using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aether.Ovsdb.Tests.Infrastructure;
using Aether.Reconcile.Sources;
using Xunit.Abstractions;

namespace Aether.Ovsdb.Tests;

/// <summary>
/// The figures docs/ovsdb.md reports, measured against the private servers: a transact round trip, a bridge of 300
/// real ports (veths) created in one pass, observed whole, and 50 tags repaired. Each figure is printed (run with
/// <c>--logger "console;verbosity=detailed"</c> to see them) and the results are checked with ovs-vsctl, so the test
/// fails if what was timed did not happen.
/// </summary>
public sealed class OvsMeasurementTests(ITestOutputHelper output) : OvsTest
{
    private const int Ports = 300;

    [Fact]
    public async Task Round_trips_and_a_bridge_of_300_ports()
    {
        // Round trips on an idle connection: echo (no database), and a transaction of one select.
        for (var i = 0; i < 20; i++)
        {
            await Client.EchoAsync();
        }

        var echo = await TimeAsync(200, () => Client.EchoAsync());
        var select = await TimeAsync(200, async () =>
        {
            var tx = new OvsdbTransaction(OpenVSwitchDatabase.DatabaseName);
            tx.Select("Open_vSwitch", [], ["_uuid"]);
            await Client.TransactAsync(tx);
        });
        Report("echo round trip", echo);
        Report("transact round trip (one select)", select);

        // 300 veth pairs in ovs-vswitchd's namespace: the p ends become ports.
        var bridge = Box.Name("br");
        var names = Enumerable.Range(0, Ports).Select(i => Box.Name("p" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
        var batch = Path.Combine(Ovs.Directory, "veths.batch");
        var lines = new StringBuilder();
        for (var i = 0; i < Ports; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"link add {names[i]} type veth peer name {Box.Name("q" + i.ToString(CultureInfo.InvariantCulture))}\n");
            lines.Append(CultureInfo.InvariantCulture, $"link set {names[i]} up\n");
        }

        await File.WriteAllTextAsync(batch, lines.ToString());
        await Ovs.IpAsync("-n", Ovs.Namespace, "-batch", batch);

        var desired = new DesiredOvsBridge(bridge, [.. names.Select((n, i) => new DesiredOvsPort(n, 100 + (i / 2)))]);
        await using var source = new OvsBridgeSource(Endpoint, Owner, desired);
        var clock = Stopwatch.StartNew();
        var created = await source.RunPassAsync(CancellationToken.None);
        var createTime = clock.Elapsed;
        Assert.Null(created.Error);
        Assert.Equal(Ports + 1, created.Applied.Count);
        output.WriteLine($"first pass (observe empty, create bridge + {Ports} ports in one transaction): {Ms(createTime)}");

        var listed = await PortsOf(bridge);
        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Assert.Equal(100, await TagOf(names[0]));
        Assert.Equal(100 + ((Ports - 1) / 2), await TagOf(names[^1]));

        // ovs-vswitchd opens each device and gives it an OpenFlow port number.
        clock.Restart();
        Assert.True(await EventuallyAsync(async () => (await Database.ReadBridgeAsync(bridge))!.Ports.All(p => p.Interfaces[0].OfPort > 0), seconds: 60), "ovs-vswitchd did not open every port within 60 s");
        output.WriteLine($"until ovs-vswitchd had opened all {Ports} ports (ofport > 0), after the pass: {Ms(clock.Elapsed)}");

        var selects = await TimeAsync(30, async () =>
        {
            var tx = new OvsdbTransaction(OpenVSwitchDatabase.DatabaseName);
            foreach (var table in new[] { "Open_vSwitch", "Bridge", "Port", "Interface" })
            {
                tx.Select(table, [], table == "Open_vSwitch" ? ["_uuid"] : null);
            }

            await Client.TransactAsync(tx);
        });
        Report("the four selects alone, all columns (server, transfer, JSON parse; no model)", selects);
        var observe = await TimeAsync(30, () => source.ObserveAsync(CancellationToken.None));
        Report($"full observe (every bridge, port, interface: {Ports + 1} ports)", observe);
        var inSync = await TimeAsync(30, async () => Assert.True((await source.RunPassAsync(CancellationToken.None)).Plan.IsEmpty));
        Report("in-sync pass (observe + diff)", inSync);

        // 50 tags changed behind our back, in one ovs-vsctl call; one pass sets them back.
        var drift = names.Take(50).SelectMany(n => new[] { "--", "set", "port", n, "tag=4000" }).ToArray();
        await Vsctl(drift[1..]);
        clock.Restart();
        var repaired = await source.RunPassAsync(CancellationToken.None);
        var repairTime = clock.Elapsed;
        Assert.Null(repaired.Error);
        Assert.Equal(50, repaired.Applied.Count);
        output.WriteLine($"repair pass (50 wrong tags, one transaction): {Ms(repairTime)}");
        Assert.Equal(100, await TagOf(names[0]));
        Assert.Equal(124, await TagOf(names[49]));
    }

    private static async Task<TimeSpan[]> TimeAsync(int times, Func<Task> action)
    {
        var samples = new TimeSpan[times];
        for (var i = 0; i < times; i++)
        {
            var clock = Stopwatch.StartNew();
            await action();
            samples[i] = clock.Elapsed;
        }

        Array.Sort(samples);
        return samples;
    }

    private void Report(string what, TimeSpan[] sorted) =>
        output.WriteLine($"{what}: median {Ms(sorted[sorted.Length / 2])}, p90 {Ms(sorted[sorted.Length * 9 / 10])}, min {Ms(sorted[0])} ({sorted.Length} runs)");

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
}
