using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The link source's diff of a VXLAN whose tunnel runs in another namespace (<see cref="DesiredLink.Underlay"/>):
/// the device's <see cref="Link.LinkNetNsId"/> against the underlay's nsid. No kernel state is read (the handle is a
/// socket never used, the namespace only an open file).</summary>
public sealed class UnderlayDiffTests : IDisposable
{
    private const string Mark = "aether:t";
    private readonly NetlinkHandle _handle = NetlinkHandle.Open();
    private readonly NetworkNamespace _underlay = NetworkNamespace.OpenCurrent();

    public void Dispose()
    {
        _handle.Dispose();
        _underlay.Dispose();
    }

    private LinkSource Source(params DesiredLink[] desired) => new(_handle, "t", desired);

    private DesiredLink Want(string? parent = null) => new("eth1", new Vxlan(1001) { Remote = System.Net.IPAddress.Parse("192.168.9.2"), Port = 4789 }) { Underlay = _underlay, Parent = parent };

    private static Link Have(int? linkNsId, uint vni = 1001, int? underlayIndex = null) => new()
    {
        Index = 3,
        Name = "eth1",
        KindData = new Vxlan(vni) { Remote = System.Net.IPAddress.Parse("192.168.9.2"), Port = 4789, UnderlayIndex = underlayIndex },
        Alias = Mark,
        Flags = 1,
        Mtu = 1450,
        LinkNetNsId = linkNsId,
    };

    private static LinkObservation Observed(Link have, int nsid, int? parent = null) =>
        new(new Dictionary<string, Link> { [have.Name] = have }, new Dictionary<string, Link?>(), new Dictionary<string, int>())
        {
            UnderlayNsIds = new Dictionary<string, int> { [have.Name] = nsid },
            UnderlayParents = parent is null ? new Dictionary<string, int?>() : new Dictionary<string, int?> { [have.Name] = parent },
        };

    [Fact]
    public void A_vxlan_whose_tunnel_is_in_its_underlay_is_in_sync()
    {
        using var source = Source(Want());
        Assert.Empty(source.Diff(Observed(Have(linkNsId: 4), nsid: 4)));
    }

    [Fact]
    public void A_vxlan_whose_tunnel_is_in_its_own_namespace_is_recreated()
    {
        using var source = Source(Want());
        var plan = source.Diff(Observed(Have(linkNsId: null), nsid: 4));
        Assert.Equal([OperationKind.Delete, OperationKind.Create], plan.Select(op => op.Kind));
        Assert.Equal($"its tunnel is in this namespace, want it in {_underlay}", plan[0].Reason);
    }

    [Theory]
    [InlineData(7, 4)]
    [InlineData(7, -1)]
    public void A_vxlan_whose_tunnel_is_in_a_third_namespace_is_recreated(int have, int underlay)
    {
        using var source = Source(Want());
        var plan = source.Diff(Observed(Have(linkNsId: have), nsid: underlay));
        Assert.Equal([OperationKind.Delete, OperationKind.Create], plan.Select(op => op.Kind));
        Assert.StartsWith($"its tunnel is in the namespace of nsid {have}, want it in {_underlay}", plan[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vxlan_without_underlay_whose_tunnel_is_elsewhere_is_recreated()
    {
        using var source = Source(Want() with { Underlay = null });
        var plan = source.Diff(Observed(Have(linkNsId: 2), nsid: -1));
        Assert.Equal("its tunnel is in another namespace (nsid 2), want it here", plan[0].Reason);
    }

    [Fact]
    public void The_parent_is_compared_with_its_index_in_the_underlay_namespace()
    {
        using var source = Source(Want(parent: "eth1"));
        Assert.Empty(source.Diff(Observed(Have(linkNsId: 4, underlayIndex: 12), nsid: 4, parent: 12)));
        var plan = source.Diff(Observed(Have(linkNsId: 4, underlayIndex: 12), nsid: 4, parent: 13));
        Assert.Equal("underlay ifindex 12, want 13", plan[0].Reason);
    }

    [Fact]
    public void Another_vni_over_the_right_underlay_is_still_recreated()
    {
        using var source = Source(Want());
        var plan = source.Diff(Observed(Have(linkNsId: 4, vni: 5), nsid: 4));
        Assert.Equal("VNI 5, want 1001", plan[0].Reason);
    }

    [Fact]
    public void Only_a_vxlan_takes_an_underlay()
    {
        Assert.Throws<ArgumentException>(() => Source(new DesiredLink("br", new Bridge()) { Underlay = _underlay }));
        Assert.Throws<ArgumentException>(() => Source(new DesiredLink("v", new Veth("p")) { Underlay = _underlay }));
    }
}
