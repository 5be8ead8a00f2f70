using Aether.Netlink;
using Aether.Netlink.Generic;
using Aether.WireGuard.Kernel;

namespace Aether.WireGuard.Tests.Kernel;

/// <summary>How the backend is chosen: by the generic netlink family lookup, ENOENT meaning "no kernel WireGuard".</summary>
public sealed class SelectionTests : SandboxTest
{
    private static readonly GenericFamily Found = new(0x1c, "wireguard", 1, new Dictionary<string, uint>());

    [Theory]
    [InlineData(WireGuardBackendPreference.Auto, WireGuardBackendKind.Kernel)]
    [InlineData(WireGuardBackendPreference.Kernel, WireGuardBackendKind.Kernel)]
    [InlineData(WireGuardBackendPreference.Userspace, WireGuardBackendKind.Userspace)]
    public async Task With_the_family_present(WireGuardBackendPreference preference, WireGuardBackendKind expected)
    {
        var calls = 0;
        var kind = await WireGuardBackends.ChooseAsync(preference, _ => { calls++; return Task.FromResult(Found); }, default);
        Assert.Equal(expected, kind);
        Assert.Equal(preference == WireGuardBackendPreference.Userspace ? 0 : 1, calls);
    }

    [Fact]
    public async Task With_the_family_absent_auto_falls_back_to_userspace()
    {
        var kind = await WireGuardBackends.ChooseAsync(WireGuardBackendPreference.Auto, _ => throw new NetlinkException(Errno.ENOENT, "resolve generic netlink family", "wireguard"), default);
        Assert.Equal(WireGuardBackendKind.Userspace, kind);
    }

    [Fact]
    public async Task With_the_family_absent_a_kernel_only_choice_says_the_kernel_has_none()
    {
        var ex = await Assert.ThrowsAsync<WireGuardException>(() => WireGuardBackends.ChooseAsync(WireGuardBackendPreference.Kernel, _ => throw new NetlinkException(Errno.ENOENT, "resolve generic netlink family", "wireguard"), default));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Contains("the kernel has no WireGuard", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Errno.EPERM)]
    [InlineData(Errno.EINVAL)]
    [InlineData(Errno.ENOBUFS)]
    public async Task Any_other_lookup_failure_is_reported_not_taken_for_absence(int errno)
    {
        var ex = await Assert.ThrowsAsync<NetlinkException>(() => WireGuardBackends.ChooseAsync(WireGuardBackendPreference.Auto, _ => throw new NetlinkException(errno, "resolve generic netlink family", "wireguard"), default));
        Assert.Equal(errno, ex.Errno);
    }

    [Fact]
    public async Task This_machine_gets_what_its_kernel_has()
    {
        // The real lookup, in a test namespace: the kernel backend where the module exists, wireguard-go where not.
        using var ns = Box.CreateNamespace("n");
        var hasKernelWireGuard = Directory.Exists("/sys/module/wireguard");
        await using var backend = await WireGuardBackends.OpenAsync(ns);
        Assert.Equal(hasKernelWireGuard ? WireGuardBackendKind.Kernel : WireGuardBackendKind.Userspace, backend.Kind);
        Assert.Equal(ns.Inode, backend.TargetNamespace!.Inode);

        if (!hasKernelWireGuard)
        {
            var ex = await Assert.ThrowsAsync<NetlinkException>(() => KernelWireGuardBackend.OpenAsync(ns));
            Assert.Equal(Errno.ENOENT, ex.Errno);
            Assert.Contains("wireguard", ex.Message, StringComparison.Ordinal);
            var kernelOnly = await Assert.ThrowsAsync<WireGuardException>(() => WireGuardBackends.OpenAsync(ns, WireGuardBackendOptions.Default with { Preference = WireGuardBackendPreference.Kernel }));
            Assert.Contains("the kernel has no WireGuard", kernelOnly.Message, StringComparison.Ordinal);
        }
    }
}
