using Aether.Labs.Cluster.Agent;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary><c>verify --deep</c>'s probe claims nothing it did not check: a link with an end whose namespace is not on
/// this machine, or whose interface is missing or down, is reported as not probed, with the reason.</summary>
public sealed class LocalFramesTests
{
    [Fact]
    public async Task Links_whose_ends_are_not_here_or_not_whole_are_not_probed_and_say_why()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(0);
        var lab = hosts.Prefix;
        var spec = Read($"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h1 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r3:eth1]\n  - endpoints: [r1:eth3, r3:eth2]\n");

        // Nothing of the lab here: no link probed, each names the namespaces and hosts missing.
        var none = await LocalFrames.ProbeAsync(spec, TimeSpan.FromMilliseconds(200));
        Assert.Equal(3, none.Count);
        Assert.All(none, c => Assert.False(c.Probed));
        Assert.Contains($"r2's namespace {lab}-r2 (host h2)", none[0].Problem, StringComparison.Ordinal);
        Assert.Contains("not on this machine", none[0].Problem, StringComparison.Ordinal);

        // r1 and r3 here (h1's part), r2 elsewhere: r1-r3's eth2 pair is down on one side, eth3 not made at all.
        await SimulatedHosts.IpAsync("netns", "add", $"{lab}-r1");
        await SimulatedHosts.IpAsync("netns", "add", $"{lab}-r3");
        await SimulatedHosts.IpAsync("-n", $"{lab}-r1", "link", "add", "eth2", "type", "veth", "peer", "name", "eth1", "netns", $"{lab}-r3");
        await SimulatedHosts.IpAsync("-n", $"{lab}-r1", "link", "set", "eth2", "up");
        var some = await LocalFrames.ProbeAsync(spec, TimeSpan.FromMilliseconds(200));
        Assert.Equal(["r1:eth1-r2:eth1", "r1:eth2-r3:eth1", "r1:eth3-r3:eth2"], some.Select(c => c.LinkId));
        Assert.Contains($"{lab}-r2 (host h2) not on this machine", some[0].Problem, StringComparison.Ordinal);
        Assert.DoesNotContain($"{lab}-r1", some[0].Problem, StringComparison.Ordinal);
        Assert.False(some[1].Probed);
        Assert.Contains("r3:eth1 (eth1) is down", some[1].Problem, StringComparison.Ordinal);
        Assert.Contains($"r1:eth3 (eth3) is not in {lab}-r1", some[2].Problem, StringComparison.Ordinal);

        Assert.False(LocalFrames.BothEndsHere(spec, spec.Links[0]));
        Assert.True(LocalFrames.BothEndsHere(spec, spec.Links[1]));

        // Both sides up: the frame crosses.
        await SimulatedHosts.IpAsync("-n", $"{lab}-r3", "link", "set", "eth1", "up");
        var crossed = await LocalFrames.ProbeAsync(spec, TimeSpan.FromSeconds(1));
        Assert.True(crossed[1].Crossed, crossed[1].Problem);
        Assert.NotNull(crossed[1].Latency);
    }
}
