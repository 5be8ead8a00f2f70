using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;
using Xunit.Abstractions;

namespace Aether.Netlink.IntegrationTests;

/// <summary>Failures carry errno, its name, the operation, the object, and the kernel's extended-ack text.</summary>
public sealed class ErrorTests(ITestOutputHelper output) : NamespaceTest
{
    [Fact]
    public async Task Route_via_an_unreachable_gateway_carries_the_kernel_text()
    {
        var route = new Route { Destination = IPPrefix.Parse("10.9.0.0/24"), Gateway = IPAddress.Parse("10.5.5.5"), OutputIndex = AIndex };

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddRouteAsync(route));
        output.WriteLine(ex.Message);

        Assert.False(string.IsNullOrWhiteSpace(ex.KernelMessage));
        Assert.Contains("gateway", ex.KernelMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("add route", ex.Operation);
        Assert.Equal("10.9.0.0/24", ex.Target);
        Assert.StartsWith("add route 10.9.0.0/24: " + ex.ErrnoName + " (", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith(": " + ex.KernelMessage, ex.Message, StringComparison.Ordinal);
        Assert.NotEqual(0, ex.Errno);
        Assert.Matches("^E[A-Z]+$", ex.ErrnoName);

        // ip gets the same text from the same kernel for the same request.
        var (code, _, stderr) = await Ip.TryRunAsync("-n", Ns, "route", "add", "10.9.0.0/24", "via", "10.5.5.5", "dev", A);
        Assert.NotEqual(0, code);
        Assert.Contains(ex.KernelMessage, stderr, StringComparison.Ordinal);
        Assert.Empty(await Ip.JsonAsync(Ns, "route", "show", "10.9.0.0/24"));
    }

    [Fact]
    public async Task Vxlan_with_mixed_address_families_carries_the_kernel_text()
    {
        var name = Box.Name("vx");
        var spec = new LinkSpec(name, new Vxlan(7) { Local = IPAddress.Parse("10.0.0.1"), Remote = IPAddress.Parse("fd00::2"), UnderlayIndex = AIndex });

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.CreateLinkAsync(spec));
        output.WriteLine(ex.Message);

        Assert.False(string.IsNullOrWhiteSpace(ex.KernelMessage));
        Assert.Equal("create vxlan", ex.Operation);
        Assert.Equal(name, ex.Target);
        Assert.Contains("create vxlan " + name, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.ErrnoName, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.KernelMessage, ex.Message, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(Ns, name));
    }

    [Fact]
    public async Task Duplicate_link_name_is_EEXIST_with_operation_and_object()
    {
        var name = Box.Name("dup");
        await Handle.CreateLinkAsync(new LinkSpec(name, new Bridge()));

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.CreateLinkAsync(new LinkSpec(name, new Bridge())));

        Assert.Equal(Errno.EEXIST, ex.Errno);
        Assert.Equal("EEXIST", ex.ErrnoName);
        Assert.StartsWith($"create bridge {name}: EEXIST (File exists)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.EEXIST, -ex.HResult);
    }

    [Fact]
    public async Task Invalid_input_is_refused_before_the_kernel_sees_it()
    {
        var before = await Ip.LinkNamesAsync(Ns);

        await Assert.ThrowsAsync<ArgumentException>(() => Handle.CreateLinkAsync(new LinkSpec(Box.Name("waytoolongname"), new Bridge())));
        await Assert.ThrowsAsync<ArgumentException>(() => Handle.CreateLinkAsync(new LinkSpec(Box.Name("m"), new Macvlan())));
        await Assert.ThrowsAsync<ArgumentException>(() => Handle.CreateLinkAsync(new LinkSpec(Box.Name("x"), new Vxlan(1 << 24))));
        await Assert.ThrowsAsync<ArgumentException>(() => Handle.CreateLinkAsync(new LinkSpec(Box.Name("y"), new Bridge()) { Mtu = 10 }));
        await Assert.ThrowsAsync<ArgumentException>(() => Handle.AddRouteAsync(new Route { Destination = IPPrefix.Parse("10.0.0.0/8") }));

        Assert.Equal(before, await Ip.LinkNamesAsync(Ns));
    }
}
