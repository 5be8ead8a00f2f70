using Aether.Labs;

namespace Aether.Labs.Tests.Fabric;

/// <summary><c>verify --deep</c>: a frame crosses every up link both ways, with its latency; a link that reads whole
/// from the kernel but drops frames (an nftables ingress drop on one end, inside the node) is found broken.</summary>
public sealed class DeepVerifyTests : LabTest
{
    [Fact]
    public async Task A_frame_crosses_every_link_and_a_link_that_drops_frames_is_an_error()
    {
        var lab = Lab(3, (1, "eth1", 2, "eth1"), (2, "eth2", 3, "eth1"));
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);

        var deep = await Controller(lab).VerifyAsync(deep: true);
        Assert.True(deep.AllUp);
        Assert.Equal(2, deep.FrameLatencies.Count);
        Assert.All(deep.FrameLatencies.Values, l => Assert.InRange(l, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1)));

        var r2 = Ns(lab, "r2");
        await Ip.ExecAsync("ip", "netns", "exec", r2, "nft", "add table netdev aetdrop");
        var (code, _, stderr) = await Ip.ExecAsync("ip", "netns", "exec", r2, "nft", "add chain netdev aetdrop in { type filter hook ingress device eth1 priority 0 ; policy drop ; }");
        Assert.True(code == 0, stderr);

        var shallow = await Controller(lab).VerifyAsync();
        Assert.True(shallow.AllUp); // the kernel's view is whole
        var dropped = await Controller(lab).VerifyAsync(deep: true);
        var broken = dropped.Links.Single(l => l.Id == lab.Links[0].Id);
        Assert.Equal(LinkStatus.Error, broken.Status);
        Assert.Contains("did not arrive", broken.Error, StringComparison.Ordinal);
        Assert.Equal(LinkStatus.Up, dropped.Links.Single(l => l.Id == lab.Links[1].Id).Status);
    }
}
