using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Ovsdb.Tests.Infrastructure;
using Aether.Reconcile.Sources;

namespace Aether.Ovsdb.Tests;

/// <summary>Traffic through the userspace datapath: two test namespaces, each with a veth whose outer end is a port
/// of the bridge the source keeps. The same tag connects them; different tags isolate them.</summary>
public sealed class OvsTrafficTests : OvsTest
{
    [Fact]
    public async Task Ports_with_the_same_tag_pass_a_ping_and_with_different_tags_they_do_not()
    {
        var (a, b) = (await Box.CreateNamespaceWithIpAsync("a"), await Box.CreateNamespaceWithIpAsync("b"));
        var (outerA, outerB) = (Box.Name("va"), Box.Name("vb"));
        await Ovs.AddVethAsync(outerA, a, "eth1");
        await Ovs.AddVethAsync(outerB, b, "eth1");
        await Ip.RunAsync("-n", a, "addr", "add", "10.200.0.1/24", "dev", "eth1");
        await Ip.RunAsync("-n", b, "addr", "add", "10.200.0.2/24", "dev", "eth1");
        var bridge = Box.Name("br");

        await ApplyAsync(bridge, (outerA, 100), (outerB, 100));
        var opened = await Database.ReadBridgeAsync(bridge);
        Assert.All(opened!.Ports.Where(p => p.Name != bridge), p => Assert.Null(p.Interfaces[0].Error));
        Assert.True(await EventuallyAsync(() => PingAsync(a, "10.200.0.2")), "same tag (100): no ping within 10 s");

        // One tag changes: the userspace datapath takes a moment to revalidate its flows.
        await ApplyAsync(bridge, (outerA, 100), (outerB, 101));
        Assert.Equal(101, await TagOf(outerB));
        Assert.True(await EventuallyAsync(async () => !await PingAsync(a, "10.200.0.2"), seconds: 5), "tags 100 and 101: the ping still passes after 5 s");
        for (var i = 0; i < 3; i++)
        {
            Assert.False(await PingAsync(a, "10.200.0.2"), $"tags 100 and 101: ping {i + 1} of 3 passed");
        }

        await ApplyAsync(bridge, (outerA, 101), (outerB, 101));
        Assert.True(await EventuallyAsync(() => PingAsync(a, "10.200.0.2")), "same tag again (101): no ping within 10 s");
    }

    private async Task ApplyAsync(string bridge, params (string Port, int Tag)[] ports)
    {
        await using var source = new OvsBridgeSource(Endpoint, Owner, new DesiredOvsBridge(bridge, [.. ports.Select(p => new DesiredOvsPort(p.Port, p.Tag))]));
        var result = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(result.Error);
    }

    private static async Task<bool> PingAsync(string ns, string address) =>
        (await Ip.RunInAsync(ns, "ping", "-c1", "-W1", address)).Code == 0;
}
