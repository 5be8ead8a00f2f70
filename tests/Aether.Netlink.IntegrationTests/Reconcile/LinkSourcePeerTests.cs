using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Netlink.IntegrationTests.Reconcile;

/// <summary>A veth's far end judged by its namespace: the nsid the near end's dump carries against the ids of the
/// peer namespaces, asked in one batch.</summary>
public sealed class LinkSourcePeerTests : SandboxTest
{
    [Fact]
    public async Task Many_peers_in_their_own_namespaces_are_in_sync_on_the_second_pass()
    {
        using var host = Box.CreateNamespace("h");
        var namespaces = Enumerable.Range(0, 5).Select(i => Box.CreateNamespace("n" + i)).ToArray();
        var h = Box.OpenAt(host);
        var desired = namespaces.Select((ns, i) => new DesiredLink(Box.Name("v" + i), new Veth(Box.Name("p" + i)) { PeerNamespace = ns })).ToArray();
        var source = Box.Own(new LinkSource(h, Box.Token, desired));

        var first = await source.RunPassAsync(CancellationToken.None);
        Assert.Null(first.Error);
        Assert.Equal(5, first.Applied.Count);

        // A fresh source (a new process): nothing cached, every peer namespace's id asked at once.
        var again = Box.Own(new LinkSource(h, Box.Token, desired));
        var plan = again.Diff(await again.ObserveAsync(CancellationToken.None));
        Assert.Empty(plan);
        for (var i = 0; i < namespaces.Length; i++)
        {
            var far = await Ip.RequireLinkAsync(namespaces[i].Name, Box.Name("p" + i));
            Assert.Equal("aether:" + Box.Token, Ip.Str(far, "ifalias"));
        }
    }

    [Fact]
    public async Task A_peer_moved_to_another_namespace_behind_a_same_index_stand_in_is_not_its_partner()
    {
        using var host = Box.CreateNamespace("h");
        using var b = Box.CreateNamespace("b");
        using var c = Box.CreateNamespace("c");
        var h = Box.OpenAt(host);
        var veth = Box.Name("v");
        var peer = Box.Name("p");
        DesiredLink[] desired = [new DesiredLink(veth, new Veth(peer) { PeerNamespace = b })];
        var source = Box.Own(new LinkSource(h, Box.Token, desired));
        Assert.Null((await source.RunPassAsync(CancellationToken.None)).Error);

        // The far end goes to c (keeping its ifindex there), and b gets a marked stand-in of the same name and
        // ifindex: only the namespace tells them apart (the near end's IFLA_LINK_NETNSID now names c, not b).
        var index = (int)Ip.Int(await Ip.RequireLinkAsync(b.Name, peer), "ifindex")!.Value;
        await Ip.RunAsync("-n", b.Name!, "link", "set", peer, "netns", c.Name!);
        Assert.Equal(index, Ip.Int(await Ip.RequireLinkAsync(c.Name, peer), "ifindex"));
        await Ip.RunAsync("-n", b.Name!, "link", "add", peer, "index", index.ToString(System.Globalization.CultureInfo.InvariantCulture), "type", "veth", "peer", "name", Box.Name("x"));
        await Ip.RunAsync("-n", b.Name!, "link", "set", peer, "alias", "aether:" + Box.Token);

        var fresh = Box.Own(new LinkSource(h, Box.Token, desired));
        var plan = fresh.Diff(await fresh.ObserveAsync(CancellationToken.None));
        var delete = Assert.Single(plan, op => op.Kind == OperationKind.Delete && op.Key == ObjectKey.Link(fresh.Scope, veth));
        Assert.Contains("not its partner", delete.Reason, StringComparison.Ordinal);

        // Applying makes the pair again in b: the near end's partner is then b's, under b's nsid.
        Assert.Null((await fresh.RunPassAsync(CancellationToken.None)).Error);
        var far = await Ip.RequireLinkAsync(b.Name, peer);
        Assert.Equal("veth", Ip.InfoKind(far));
        Assert.DoesNotContain(Box.Name("x"), await Ip.LinkNamesAsync(b.Name));
        var near = await Ip.RequireLinkAsync(host.Name, veth);
        Assert.Equal(Ip.Int(far, "ifindex"), Ip.Int(near, "link_index"));
        var listed = (await Ip.JsonAsync(host.Name, "netns", "list-id")).Single(e => Ip.Str(e, "name") == b.Name);
        Assert.Equal(Ip.Int(listed, "nsid"), Ip.Int(near, "link_netnsid"));
        Assert.Empty(fresh.Diff(await fresh.ObserveAsync(CancellationToken.None)));
    }
}
