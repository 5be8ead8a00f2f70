using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A source told that its caller follows the peers' namespaces (<see cref="LinkSource.PeerReadsEvery"/>)
/// reads between full reads only the peers that may have changed; one without it reads every peer every pass.</summary>
public sealed class LinkSourceRememberedPeerTests : SandboxTest
{
    [Fact]
    public async Task Between_full_reads_only_a_marked_peer_is_read_again()
    {
        using var host = Box.CreateNamespace("h");
        var namespaces = Enumerable.Range(0, 3).Select(i => Box.CreateNamespace("n" + i)).ToArray();
        var desired = namespaces.Select((ns, i) => new DesiredLink(Box.Name("v" + i), new Veth(Box.Name("p" + i)) { PeerNamespace = ns })).ToArray();
        var source = Box.Own(new LinkSource(Box.OpenAt(host), Box.Token, desired) { PeerReadsEvery = TimeSpan.FromHours(1) });
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        Assert.Empty(source.Diff(await source.ObserveAsync(CancellationToken.None)));

        // Two far ends set down behind the source's back: nothing here changed, and no one said so, so the
        // remembered peers stand (this is what the source saves: no read in those namespaces).
        await Ip.RunAsync("-n", namespaces[0].Name!, "link", "set", Box.Name("p0"), "down");
        await Ip.RunAsync("-n", namespaces[2].Name!, "link", "set", Box.Name("p2"), "down");
        Assert.Empty(source.Diff(await source.ObserveAsync(CancellationToken.None)));

        // Told of one: that one is read and put right; the other is still taken as remembered.
        source.PeerChanged(Box.Name("v0"));
        var pass = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        var op = Assert.Single(pass.Applied);
        Assert.Equal(ObjectKey.LinkPeer(source.Scope, Box.Name("v0")), op.Key);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(namespaces[0].Name, Box.Name("p0"))));
        Assert.DoesNotContain("UP", Ip.Flags(await Ip.RequireLinkAsync(namespaces[2].Name, Box.Name("p2"))));

        // The peer a pass changed is read on the next (its remembered state is the one before the change).
        Assert.Empty(source.Diff(await source.ObserveAsync(CancellationToken.None)));

        // An overrun somewhere: every peer is read again.
        source.PeersChanged();
        var all = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(all.Error);
        Assert.Equal(ObjectKey.LinkPeer(source.Scope, Box.Name("v2")), Assert.Single(all.Applied).Key);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(namespaces[2].Name, Box.Name("p2"))));
    }

    [Fact]
    public async Task A_near_end_deleted_has_its_peer_read_again_unasked()
    {
        using var host = Box.CreateNamespace("h");
        using var ns = Box.CreateNamespace("n");
        DesiredLink[] desired = [new DesiredLink(Box.Name("v"), new Veth(Box.Name("p")) { PeerNamespace = ns })];
        var source = Box.Own(new LinkSource(Box.OpenAt(host), Box.Token, desired) { PeerReadsEvery = TimeSpan.FromHours(1) });
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);
        Assert.Empty(source.Diff(await source.ObserveAsync(CancellationToken.None)));

        // The near end is deleted (and its far end with it), then a stranger of the peer's name appears there. The
        // near end's event is passed on (as run's session does); its being gone is reason enough to read the peer,
        // so the stranger is seen, not the remembered partner.
        var near = (int)Ip.Int(await Ip.RequireLinkAsync(host.Name, Box.Name("v")), "ifindex")!.Value;
        await Ip.RunAsync("-n", host.Name!, "link", "del", Box.Name("v"));
        source.LinkChanged(near);
        await Ip.RunAsync("-n", ns.Name!, "link", "add", Box.Name("p"), "type", "bridge");
        var plan = source.Diff(await source.ObserveAsync(CancellationToken.None));
        Assert.Contains(plan, o => o.Key == ObjectKey.LinkPeer(source.Scope, Box.Name("v")) && o.Conflict);
    }

    [Fact]
    public async Task Within_a_group_pass_only_the_links_said_to_have_changed_are_read_again()
    {
        using var host = Box.CreateNamespace("h");
        using var ns = Box.CreateNamespace("n");
        DesiredLink[] desired = [new DesiredLink(Box.Name("v"), new Veth(Box.Name("p")) { PeerNamespace = ns }), new DesiredLink(Box.Name("b"), new Bridge())];
        var source = Box.Own(new LinkSource(Box.OpenAt(host), Box.Token, desired) { PeerReadsEvery = TimeSpan.FromHours(1) });
        var group = new SourceGroup("test", [source]);
        Assert.Null((await group.RunPassAsync(CancellationToken.None)).Error);
        Assert.Empty((await group.RunPassAsync(CancellationToken.None)).Plan);

        // Both set down by hand; no event is passed on, so the table read before stands.
        await Ip.RunAsync("-n", host.Name!, "link", "set", Box.Name("v"), "down");
        await Ip.RunAsync("-n", host.Name!, "link", "set", Box.Name("b"), "down");
        Assert.Empty((await group.RunPassAsync(CancellationToken.None)).Plan);

        // The bridge's event: it alone is read again and put right.
        var bridge = (int)Ip.Int(await Ip.RequireLinkAsync(host.Name, Box.Name("b")), "ifindex")!.Value;
        source.LinkChanged(bridge);
        var pass = await group.RunPassAsync(CancellationToken.None);
        Assert.Null(pass.Error);
        Assert.Equal(ObjectKey.Link(source.Scope, Box.Name("b")), Assert.Single(pass.Applied).Key);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(host.Name, Box.Name("b"))));
        Assert.DoesNotContain("UP", Ip.Flags(await Ip.RequireLinkAsync(host.Name, Box.Name("v"))));

        // What a pass changed is read on the next, without an event; an overrun reads everything.
        Assert.Empty((await group.RunPassAsync(CancellationToken.None)).Plan);
        source.LinksChanged();
        var all = await group.RunPassAsync(CancellationToken.None);
        Assert.Null(all.Error);
        Assert.Equal(ObjectKey.Link(source.Scope, Box.Name("v")), Assert.Single(all.Applied).Key);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(host.Name, Box.Name("v"))));
    }
}
