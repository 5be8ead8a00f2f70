using System.Collections.Concurrent;
using System.Diagnostics;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Reconcile;
using Aether.Topology;

namespace Aether.Netlink.IntegrationTests.Topology;

/// <summary><c>run</c> hears every namespace on one socket in the host's namespace, which only hears namespaces with an
/// nsid there: a namespace with no veth to the host (so no nsid) is given one, and a link deleted in it is put back at
/// once, not at the resync. Checked with <c>ip -j</c>.</summary>
public sealed class SharedMonitorRunTests : SandboxTest
{
    [Fact]
    public async Task A_namespace_without_a_veth_to_the_host_is_given_an_nsid_and_heard()
    {
        var ns = Box.Name("ns");
        Box.TrackNamespace(ns);
        var bridge = Box.Name("br");
        var state = Box.Own(new TempDirectory(Box.Token)).Path;
        var spec = new TopologySpec(Box.Token)
        {
            Namespaces = [new TopologyNamespace(ns)],
            Links = [new TopologyLink(bridge, TopologyLinkKind.Bridge) { Namespace = ns }],
        };
        var applied = await new TopologyController(spec, new ControllerOptions { StateDirectory = state }).ApplyAsync();
        Assert.True(applied.Error is null, applied.Error);
        Assert.Null(await NsIdAsync(ns)); // nothing gave it one yet: the shared socket would not hear it

        var changes = new ConcurrentQueue<ChangeLine>();
        var passed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => new TopologyController(spec, new ControllerOptions { StateDirectory = state }).RunAsync(
            new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(60) },
            report =>
            {
                if (report.Source.StartsWith(ns + " ", StringComparison.Ordinal))
                {
                    passed.TrySetResult();
                }
            },
            changes.Enqueue,
            cancellationToken: cts.Token));
        try
        {
            Assert.True(await Task.WhenAny(passed.Task, run, Task.Delay(TimeSpan.FromSeconds(30))) == passed.Task, "run made no pass in the namespace within 30 s");
            Assert.NotNull(await NsIdAsync(ns));

            // The resync is a minute away: only an announcement heard on the shared socket brings the bridge back.
            for (var trial = 0; trial < 3; trial++)
            {
                await Ip.RunAsync("-n", ns, "link", "del", bridge);
                var clock = Stopwatch.StartNew();
                while (await Ip.LinkAsync(ns, bridge) is null)
                {
                    Assert.True(clock.ElapsedMilliseconds < 10000, $"trial {trial}: the bridge not back within 10 s; run said: " + string.Join("; ", changes.Select(c => $"{c.Kind} {c.Subject}: {c.Reason}")));
                    await Task.Delay(10);
                }
            }
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>The nsid the host's namespace has for <paramref name="ns"/>, as <c>ip -j netns list</c> says.</summary>
    private static async Task<long?> NsIdAsync(string ns)
    {
        foreach (var entry in await Ip.JsonAsync(null, "netns", "list"))
        {
            if (Ip.Str(entry, "name") == ns)
            {
                return Ip.Int(entry, "id");
            }
        }

        throw new InvalidOperationException($"{ns} is not in ip netns list");
    }
}
