using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile.Sources;

namespace Aether.Reconcile.Tests;

/// <summary>The link source's diff on hand-made observations: no kernel state is read (the handle is only a socket
/// that is never used).</summary>
public sealed class LinkDiffTests : IDisposable
{
    private const string Mark = "aether:t";
    private readonly NetlinkHandle _handle = NetlinkHandle.Open();

    public void Dispose() => _handle.Dispose();

    private LinkSource Source(ConflictPolicy policy, params DesiredLink[] desired) => new(_handle, "t", desired, policy);

    private static Link L(int index, string name, LinkKindData kind, string? alias = Mark, bool up = true, int? master = null, int? peer = null) => new()
    {
        Index = index,
        Name = name,
        KindData = kind,
        Alias = alias,
        Flags = up ? 1u : 0u,
        Mtu = 1500,
        MasterIndex = master,
        LinkIndex = peer,
    };

    private static LinkObservation Observed(params Link[] links) =>
        new(links.ToDictionary(l => l.Name), new Dictionary<string, Link?>(), new Dictionary<string, int>());

    [Fact]
    public void Bridges_are_created_before_their_ports_whatever_the_order_given()
    {
        using var source = Source(ConflictPolicy.Report, new DesiredLink("port", new Bridge()) { Master = "br" }, new DesiredLink("br", new Bridge()));
        var plan = source.Diff(Observed());
        Assert.Equal(["link br", "link port"], plan.Select(op => op.Target));
    }

    [Fact]
    public void A_foreign_link_is_a_conflict_unless_adopting()
    {
        var observed = Observed(L(2, "br", new Bridge(), alias: null, up: false));
        using var reporting = Source(ConflictPolicy.Report, new DesiredLink("br", new Bridge()));
        var conflict = Assert.IsType<LinkOperation>(Assert.Single(reporting.Diff(observed)));
        Assert.True(conflict.Conflict);

        using var adopting = Source(ConflictPolicy.Adopt, new DesiredLink("br", new Bridge()));
        var adopt = Assert.IsType<LinkOperation>(Assert.Single(adopting.Diff(observed)));
        Assert.True(adopt.Adopt);
        Assert.False(adopt.Conflict);
        Assert.Equal("adopted (alias was ''), down, want up", adopt.Reason);
    }

    [Fact]
    public void A_foreign_link_of_the_wrong_kind_is_not_deleted_even_when_adopting()
    {
        using var adopting = Source(ConflictPolicy.Adopt, new DesiredLink("x", new Vxlan(5)));
        var op = Assert.IsType<LinkOperation>(Assert.Single(adopting.Diff(Observed(L(2, "x", new Bridge(), alias: "theirs")))));
        Assert.True(op.Conflict);
    }

    [Fact]
    public void Master_drift_names_both_sides()
    {
        using var source = Source(ConflictPolicy.Report, new DesiredLink("br", new Bridge()), new DesiredLink("port", new Bridge()) { Master = "br" });
        var op = Assert.Single(source.Diff(Observed(L(2, "br", new Bridge()), L(3, "port", new Bridge(), master: 9), L(9, "other", new Bridge(), alias: null))));
        Assert.Equal("update link port: master other, want br", op.ToString());
    }

    [Fact]
    public void A_vxlan_with_another_vni_is_deleted_then_recreated()
    {
        using var source = Source(ConflictPolicy.Report, new DesiredLink("vx", new Vxlan(20)));
        var plan = source.Diff(Observed(L(4, "vx", new Vxlan(10))));
        Assert.Equal([OperationKind.Delete, OperationKind.Create], plan.Select(op => op.Kind));
        Assert.Equal("VNI 10, want 20", plan[0].Reason);
    }

    [Fact]
    public void Owned_links_not_desired_are_deleted_and_foreign_ones_are_not_seen()
    {
        using var source = Source(ConflictPolicy.Report);
        var plan = source.Diff(Observed(L(2, "ours", new Bridge()), L(3, "theirs", new Bridge(), alias: null), L(4, "other-owner", new Bridge(), alias: "aether:u")));
        var op = Assert.Single(plan);
        Assert.Equal("delete link ours: no longer desired", op.ToString());
    }

    [Fact]
    public void A_missing_link_with_an_owned_origin_is_moved_not_created_and_its_old_name_is_not_deleted()
    {
        using var source = Source(ConflictPolicy.Report, new DesiredLink("new", new Bridge()) { Origin = new LinkOrigin("old") });
        var old = L(5, "old", new Bridge());
        var plan = source.Diff(Observed(old) with { Origins = new Dictionary<string, Link?> { ["new"] = old } });
        var op = Assert.IsType<LinkOperation>(Assert.Single(plan));
        Assert.True(op.Move);
        Assert.Equal(5, op.Index);
    }

    [Fact]
    public void Invalid_desired_links_are_refused_before_anything_runs()
    {
        Assert.Throws<ArgumentException>(() => Source(ConflictPolicy.Report, new DesiredLink("mv", new Macvlan())));
        Assert.Throws<ArgumentException>(() => Source(ConflictPolicy.Report, new DesiredLink("br", new Bridge()) { Master = "br" }));
        Assert.Throws<ArgumentException>(() => Source(ConflictPolicy.Report, new DesiredLink("br", new Bridge()) { Parent = "eth0" }));
        Assert.Throws<ArgumentException>(() => Source(ConflictPolicy.Report, new DesiredLink("v", new Veth("p")), new DesiredLink("p", new Bridge())));
        Assert.Throws<ArgumentException>(() => Source(ConflictPolicy.Report, new DesiredLink("t", new Tun())));
    }
}
