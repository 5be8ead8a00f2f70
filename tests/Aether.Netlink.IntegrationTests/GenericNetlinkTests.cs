using Aether.Netlink.Generic;
using Aether.Netlink.IntegrationTests.Infrastructure;

namespace Aether.Netlink.IntegrationTests;

public sealed class GenericNetlinkTests : SandboxTest
{
    [Fact]
    public async Task Resolves_the_controller_in_a_test_namespace()
    {
        using var ns = Box.CreateNamespace("g");
        using var genl = GenericNetlinkHandle.Open(ns);
        var family = await genl.ResolveFamilyAsync("nlctrl");
        Assert.Equal(GenericFamily.ControllerId, family.Id);
        Assert.Equal("nlctrl", family.Name);
        Assert.Contains("notify", family.MulticastGroups.Keys);
    }

    [Fact]
    public async Task Unknown_family_is_ENOENT_with_the_name()
    {
        using var genl = GenericNetlinkHandle.Open();
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => genl.ResolveFamilyAsync("aetnosuch"));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Contains("aetnosuch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_kernel_feature_is_reported_not_guessed()
    {
        // This kernel has no in-kernel WireGuard: the lookup must say so (ENOENT), never return a made-up id.
        using var genl = GenericNetlinkHandle.Open();
        var hasModule = Directory.Exists("/sys/module/wireguard");
        if (hasModule)
        {
            Assert.NotEqual(0, (await genl.ResolveFamilyAsync("wireguard")).Id);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<NetlinkException>(() => genl.ResolveFamilyAsync("wireguard"));
            Assert.Equal(Errno.ENOENT, ex.Errno);
        }
    }

    [Fact]
    public async Task Bad_family_names_are_rejected_before_any_syscall()
    {
        using var genl = GenericNetlinkHandle.Open();
        await Assert.ThrowsAsync<ArgumentException>(() => genl.ResolveFamilyAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => genl.ResolveFamilyAsync("a-name-over-15-bytes"));
        genl.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => genl.ResolveFamilyAsync("nlctrl"));
    }
}
