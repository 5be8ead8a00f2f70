using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>Single passes of <see cref="LinkSource"/> (no loop, so these run with the parallel kernel tests): masters,
/// macvlan and VXLAN identity, down links, moves, renames and adoption, each checked with <c>ip -j -d</c>.</summary>
public sealed class LinkSourceKindsTests : SandboxTest
{
    private NetworkNamespace _a = null!;
    private NetworkNamespace _b = null!;
    private NetlinkHandle _h = null!;
    private string _v = null!;
    private string _p = null!;
    private string _br = null!;

    private string A => _a.Name!;

    protected override Task SetUpAsync()
    {
        _a = Box.CreateNamespace("a");
        _b = Box.CreateNamespace("b");
        _h = Box.OpenAt(_a);
        _v = Box.Name("v");
        _p = Box.Name("p");
        _br = Box.Name("br");
        return Task.CompletedTask;
    }

    private LinkSource Source(params DesiredLink[] desired) => Box.Own(new LinkSource(_h, Box.Token, desired));

    private static async Task<PassResult> ConvergedAsync(LinkSource source)
    {
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.True(pass.Error is null, $"{pass.Error}; pending: {string.Join("; ", pass.Pending)}");
        var again = await source.RunPassAsync(CancellationToken.None);
        Assert.True(again.Plan.IsEmpty, "second pass not empty: " + string.Join("; ", again.Plan));
        return pass;
    }

    [Fact]
    public async Task A_bridge_port_keeps_its_master_against_nomaster_and_a_foreign_master()
    {
        var source = Source(new DesiredLink(_v, new Veth(_p)) { Master = _br }, new DesiredLink(_br, new Bridge()));
        await ConvergedAsync(source);
        Assert.Equal(_br, Ip.Str(await Ip.RequireLinkAsync(A, _v), "master"));

        await Ip.RunAsync("-n", A, "link", "set", _v, "nomaster");
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Contains(pass.Applied, op => op.Reason.Contains($"master none, want {_br}", StringComparison.Ordinal));
        Assert.Equal(_br, Ip.Str(await Ip.RequireLinkAsync(A, _v), "master"));

        var foreign = Box.Name("f");
        await Ip.RunAsync("-n", A, "link", "add", foreign, "type", "bridge");
        await Ip.RunAsync("-n", A, "link", "set", _v, "master", foreign);
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        Assert.Equal(_br, Ip.Str(await Ip.RequireLinkAsync(A, _v), "master"));
        Assert.NotNull(await Ip.LinkAsync(A, foreign)); // the foreign bridge itself stays
    }

    [Fact]
    public async Task A_link_desired_down_is_kept_down()
    {
        var source = Source(new DesiredLink(_br, new Bridge()) { Up = false });
        await ConvergedAsync(source);
        Assert.DoesNotContain("UP", Ip.Flags(await Ip.RequireLinkAsync(A, _br)));

        await Ip.RunAsync("-n", A, "link", "set", _br, "up");
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Contains(pass.Applied, op => op.Reason.Contains("up, want down", StringComparison.Ordinal));
        Assert.DoesNotContain("UP", Ip.Flags(await Ip.RequireLinkAsync(A, _br)));
    }

    [Fact]
    public async Task A_macvlan_is_created_on_its_parent_and_recreated_when_its_mode_changes()
    {
        var mv = Box.Name("m");
        var veth = new DesiredLink(_v, new Veth(_p));
        await ConvergedAsync(Source(new DesiredLink(mv, new Macvlan(MacvlanMode.Bridge)) { Parent = _v }, veth));
        var link = await Ip.RequireLinkAsync(A, mv);
        Assert.Equal(_v, Ip.Str(link, "link"));
        Assert.Equal("bridge", Ip.InfoData(link).GetProperty("mode").GetString());

        var pass = await ConvergedAsync(Source(new DesiredLink(mv, new Macvlan(MacvlanMode.Private)) { Parent = _v }, veth));
        Assert.Contains(pass.Applied, op => op.Kind == OperationKind.Delete && op.Reason.Contains("mode Bridge, want Private", StringComparison.Ordinal));
        Assert.Equal("private", Ip.InfoData(await Ip.RequireLinkAsync(A, mv)).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task A_macvlan_whose_parent_is_missing_fails_and_is_retried_not_given_up()
    {
        var mv = Box.Name("m");
        var pass = await Box.Own(new LinkSource(_h, Box.Token, [new DesiredLink(mv, new Macvlan()) { Parent = _v }])).RunPassAsync(CancellationToken.None);
        Assert.NotNull(pass.Error);
        Assert.IsNotType<TerminalReconcileException>(pass.Error);
        Assert.Contains($"parent {_v} does not exist", pass.Error.Message, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(A, mv));
    }

    [Fact]
    public async Task A_vxlan_with_another_vni_is_recreated_on_its_underlay()
    {
        var vx = Box.Name("x");
        var veth = new DesiredLink(_v, new Veth(_p));
        var remote = IPAddress.Parse("10.9.9.9");
        await ConvergedAsync(Source(new DesiredLink(vx, new Vxlan(100) { Remote = remote, Port = 4789 }) { Parent = _v }, veth));
        var data = Ip.InfoData(await Ip.RequireLinkAsync(A, vx));
        Assert.Equal(100, data.GetProperty("id").GetInt32());
        Assert.Equal(4789, data.GetProperty("port").GetInt32());
        Assert.Equal(_v, data.GetProperty("link").GetString());

        var pass = await ConvergedAsync(Source(new DesiredLink(vx, new Vxlan(200) { Remote = remote, Port = 4789 }) { Parent = _v }, veth));
        Assert.Contains(pass.Applied, op => op.Kind == OperationKind.Delete && op.Reason.Contains("VNI 100, want 200", StringComparison.Ordinal));
        Assert.Equal(200, Ip.InfoData(await Ip.RequireLinkAsync(A, vx)).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task An_owned_link_is_renamed_from_its_origin_keeping_its_ifindex()
    {
        await ConvergedAsync(Source(new DesiredLink(_br, new Bridge())));
        var before = Ip.Int(await Ip.RequireLinkAsync(A, _br), "ifindex");

        var renamed = Box.Name("r");
        var pass = await ConvergedAsync(Source(new DesiredLink(renamed, new Bridge()) { Origin = new LinkOrigin(_br) }));
        Assert.Single(pass.Applied);
        Assert.Contains("moved from " + _br, pass.Applied[0].Reason, StringComparison.Ordinal);
        var link = await Ip.RequireLinkAsync(A, renamed);
        Assert.Equal(before, Ip.Int(link, "ifindex"));
        Assert.Contains("UP", Ip.Flags(link));
        Assert.Null(await Ip.LinkAsync(A, _br));
    }

    [Fact]
    public async Task A_veth_end_is_moved_into_another_namespace_renamed_and_raised()
    {
        // Made with both ends in a (as a hub makes it), then the inner end goes to b as "…e0".
        await ConvergedAsync(Source(new DesiredLink(_v, new Veth(_p))));
        var inner = Box.Name("e0");
        using var hb = NetlinkHandle.OpenAt(_b);
        using var inB = new LinkSource(hb, Box.Token, [new DesiredLink(inner, new Veth(_p) { PeerNamespace = _a }) { Origin = new LinkOrigin(_v) { Namespace = _a }, Mtu = 1400 }]);
        var pass = await ConvergedAsync(inB);
        Assert.Contains(pass.Applied, op => op.Reason.StartsWith("moved from " + _v, StringComparison.Ordinal));

        var moved = await Ip.RequireLinkAsync(_b.Name, inner);
        Assert.Contains("UP", Ip.Flags(moved));
        Assert.Equal(1400, Ip.Int(moved, "mtu"));
        Assert.Null(await Ip.LinkAsync(A, _v));
        var peer = await Ip.RequireLinkAsync(A, _p);
        Assert.Equal(Ip.Int(peer, "ifindex"), Ip.Int(moved, "link_index"));
    }

    [Fact]
    public async Task A_foreign_link_is_adopted_only_when_asked()
    {
        await Ip.RunAsync("-n", A, "link", "add", _br, "type", "bridge");
        var adopting = Box.Own(new LinkSource(_h, Box.Token, [new DesiredLink(_br, new Bridge()) { Mtu = 1400 }], ConflictPolicy.Adopt));
        var pass = await ConvergedAsync(adopting);
        Assert.Contains("adopted", pass.Applied[0].Reason, StringComparison.Ordinal);
        var bridge = await Ip.RequireLinkAsync(A, _br);
        Assert.Equal("aether:" + Box.Token, Ip.Str(bridge, "ifalias"));
        Assert.Equal(1400, Ip.Int(bridge, "mtu"));
        Assert.Contains("UP", Ip.Flags(bridge));
    }

    [Fact]
    public async Task An_owned_veth_with_both_ends_here_goes_in_one_pass_when_no_longer_desired()
    {
        await ConvergedAsync(Source(new DesiredLink(_v, new Veth(_p))));
        var pass = await ConvergedAsync(Source());
        Assert.Equal(2, pass.Applied.Count); // the second delete finds the peer already gone with its partner
        var names = await Ip.LinkNamesAsync(A);
        Assert.DoesNotContain(_v, names);
        Assert.DoesNotContain(_p, names);
    }
}
