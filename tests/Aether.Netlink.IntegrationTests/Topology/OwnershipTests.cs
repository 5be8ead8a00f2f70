using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;
using Aether.Topology;

namespace Aether.Netlink.IntegrationTests.Topology;

/// <summary>Namespace ownership the kernel proves: two topologies sharing a namespace, applied at once in many
/// interleavings and destroyed in either order; a namespace of ours deleted and made again by someone else; the
/// intent of a creation that crashed. Checked with <c>ip -j</c>.</summary>
public sealed class OwnershipTests : SandboxTest
{
    private string _shared = null!;
    private string _state = null!;

    protected override Task SetUpAsync()
    {
        _shared = Box.Name("x");
        Box.TrackNamespace(_shared);
        _state = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    /// <summary>Topology <c>TOKEN+tag</c>: the shared namespace, one of its own, and a veth from the host into each.</summary>
    private TopologySpec Spec(string tag)
    {
        var own = Box.Name("o" + tag);
        Box.TrackNamespace(own);
        return new TopologySpec(Box.Token + tag)
        {
            Namespaces = [new TopologyNamespace(_shared), new TopologyNamespace(own)],
            Links =
            [
                new TopologyLink(Box.TrackHostLink(Box.Name("h" + tag)), TopologyLinkKind.Veth) { Peer = new TopologyPeer("in" + tag) { Namespace = _shared } },
                new TopologyLink(Box.TrackHostLink(Box.Name("k" + tag)), TopologyLinkKind.Veth) { Peer = new TopologyPeer("in" + tag) { Namespace = own } },
            ],
        };
    }

    private TopologyController Controller(TopologySpec spec) => new(spec, new ControllerOptions { StateDirectory = _state });

    private static string Show(TopologyResult r) => string.Join("\n", r.Lines) + (r.Error is null ? string.Empty : "\nerror: " + r.Error);

    [Fact]
    public async Task Two_topologies_applied_at_once_share_a_namespace_and_destroying_one_leaves_the_other_whole()
    {
        for (var trial = 0; trial < 12; trial++)
        {
            TopologySpec a = Spec("a"), b = Spec("b");
            var delay = trial % 4 * 2; // 0, 2, 4, 6 ms: b starts with a, or while a is creating, or after
            var applies = await Task.WhenAll(
                Task.Run(() => Controller(a).ApplyAsync()),
                Task.Run(async () =>
                {
                    await Task.Delay(delay);
                    return await Controller(b).ApplyAsync();
                }));
            Assert.True(applies[0].Error is null, $"trial {trial}, a:\n{Show(applies[0])}");
            Assert.True(applies[1].Error is null, $"trial {trial}, b:\n{Show(applies[1])}");
            Assert.True((await Controller(a).ApplyAsync()).InSync, $"trial {trial}: a is not converged");
            Assert.True((await Controller(b).ApplyAsync()).InSync, $"trial {trial}: b is not converged");

            // Destroy one (a, then b, turn about): the other keeps everything of its own, the shared namespace too.
            var (first, second) = trial % 2 == 0 ? (a, b) : (b, a);
            var tag = first == a ? "a" : "b";
            var other = first == a ? "b" : "a";
            var gone = await Controller(first).DestroyAsync();
            Assert.True(gone.Error is null, Show(gone));
            Assert.Contains(_shared, await Ip.NetnsNamesAsync());
            Assert.NotNull(await Ip.LinkAsync(_shared, "in" + other));
            Assert.NotNull(await Ip.LinkAsync(null, Box.Name("h" + other)));
            Assert.NotNull(await Ip.LinkAsync(null, Box.Name("k" + other)));
            Assert.Contains(Box.Name("o" + other), await Ip.NetnsNamesAsync());
            Assert.Null(await Ip.LinkAsync(_shared, "in" + tag));
            Assert.Null(await Ip.LinkAsync(null, Box.Name("h" + tag)));
            Assert.DoesNotContain(Box.Name("o" + tag), await Ip.NetnsNamesAsync());
            Assert.True((await Controller(second).ApplyAsync()).InSync, $"trial {trial}: destroying {tag} changed what {other} has");

            // The last one out deletes the namespace Aether made, whichever of them made it.
            var last = await Controller(second).DestroyAsync();
            Assert.True(last.Error is null, Show(last));
            Assert.DoesNotContain(_shared, await Ip.NetnsNamesAsync());
            Assert.Contains(last.Lines, l => l.Kind == ChangeKind.Delete && l.Subject == "namespace " + _shared);
        }
    }

    [Fact]
    public async Task A_shared_namespace_neither_topology_made_is_kept_by_both_destroys()
    {
        await Ip.RunAsync("netns", "add", _shared);
        TopologySpec a = Spec("a"), b = Spec("b");
        var applies = await Task.WhenAll(Task.Run(() => Controller(a).ApplyAsync()), Task.Run(() => Controller(b).ApplyAsync()));
        Assert.All(applies, r => Assert.True(r.Error is null, Show(r)));
        Assert.Null((await Controller(a).DestroyAsync()).Error);
        Assert.Null((await Controller(b).DestroyAsync()).Error);
        Assert.Contains(_shared, await Ip.NetnsNamesAsync());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(_shared));
    }

    [Fact]
    public async Task A_namespace_that_appears_between_plan_and_apply_is_used_not_an_error()
    {
        var a = Spec("a");
        var plan = await Controller(a).PlanAsync();
        Assert.Contains(plan.Lines, l => l.Kind == ChangeKind.Create && l.Subject == "namespace " + _shared);
        await Ip.RunAsync("netns", "add", _shared); // someone else's, made after the plan

        var applied = await Controller(a).ApplyAsync(plan);
        Assert.True(applied.Error is null, Show(applied));
        Assert.DoesNotContain(applied.Lines, l => l.Kind == ChangeKind.Create && l.Subject == "namespace " + _shared);
        Assert.NotNull(await Ip.LinkAsync(_shared, "ina"));

        Assert.Null((await Controller(a).DestroyAsync()).Error);
        Assert.Contains(_shared, await Ip.NetnsNamesAsync()); // not ours: kept, emptied of our objects
        Assert.Null(await Ip.LinkAsync(_shared, "ina"));
    }

    [Fact]
    public async Task Destroy_leaves_a_namespace_of_ours_that_someone_deleted_and_made_again()
    {
        var a = Spec("a");
        Assert.Null((await Controller(a).ApplyAsync()).Error);
        await Ip.RunAsync("netns", "del", _shared);
        await Ip.RunAsync("netns", "add", _shared);
        await Ip.RunAsync("-n", _shared, "link", "add", "ina", "type", "bridge"); // named as ours was, and not ours

        var gone = await Controller(a).DestroyAsync();
        Assert.True(gone.Error is null, Show(gone));
        var left = Assert.Single(gone.Lines, l => l.Subject == "namespace " + _shared);
        Assert.Equal(ChangeKind.Left, left.Kind);
        Assert.Contains("not the namespace this topology recorded", left.Reason, StringComparison.Ordinal);
        Assert.Contains(_shared, await Ip.NetnsNamesAsync());
        Assert.NotNull(await Ip.LinkAsync(_shared, "ina"));
        Assert.DoesNotContain(Box.Name("oa"), await Ip.NetnsNamesAsync()); // the one it did make is gone
    }

    [Fact]
    public async Task Apply_treats_a_namespace_made_again_by_someone_else_as_not_ours()
    {
        var a = Spec("a");
        Assert.Null((await Controller(a).ApplyAsync()).Error);
        await Ip.RunAsync("netns", "del", _shared);
        await Ip.RunAsync("netns", "add", _shared);

        var again = await Controller(a).ApplyAsync();
        Assert.True(again.Error is null, Show(again));
        var line = Assert.Single(again.Lines, l => l.Subject == "namespace " + _shared);
        Assert.Equal(ChangeKind.InSync, line.Kind);
        Assert.Contains("not the namespace this topology recorded", line.Reason, StringComparison.Ordinal);
        Assert.NotNull(await Ip.LinkAsync(_shared, "ina")); // its objects are made again in the new one

        Assert.Null((await Controller(a).DestroyAsync()).Error);
        Assert.Contains(_shared, await Ip.NetnsNamesAsync()); // used, not made: kept
        Assert.Null(await Ip.LinkAsync(_shared, "ina"));
    }

    [Fact]
    public async Task An_intent_alone_proves_nothing_the_mark_inside_does()
    {
        // What a crash between the intent and the record of the creation leaves: "creating" in the record. With our
        // mark inside, the namespace is ours; without it (someone's ip netns add), it is not.
        var ours = Box.Name("m");
        Box.TrackNamespace(ours);
        var spec = new TopologySpec(Box.Token) { Namespaces = [new TopologyNamespace(ours), new TopologyNamespace(_shared)] };
        var records = Path.Combine(_state, Box.Token, "records.json");
        Directory.CreateDirectory(Path.GetDirectoryName(records)!);
        var intent = """{"Value":"creating"}""";
        await File.WriteAllTextAsync(records, "{\"namespaces\":{\"namespace " + ours + "\":" + intent + ",\"namespace " + _shared + "\":" + intent + "}}");
        var (made, handle) = NetlinkHandle.CreateNamespace(ours, mark: "aether-netns:" + Box.Token);
        made.Dispose();
        handle.Dispose();
        await Ip.RunAsync("netns", "add", _shared);
        var (_, alias, _) = await Ip.TryRunAsync("-n", ours, "-j", "link", "show", "lo");
        Assert.Contains("aether-netns:" + Box.Token, alias, StringComparison.Ordinal); // the mark, as ip reads it

        var gone = await Controller(spec).DestroyAsync();
        Assert.True(gone.Error is null, Show(gone));
        Assert.DoesNotContain(ours, await Ip.NetnsNamesAsync());
        Assert.Contains(_shared, await Ip.NetnsNamesAsync());
        Assert.Equal(ChangeKind.Left, Assert.Single(gone.Lines, l => l.Subject == "namespace " + _shared).Kind);
    }

    [Fact]
    public void A_namespace_identity_is_the_kernels_and_outlives_no_namespace()
    {
        using var first = Box.CreateNamespace("i");
        var identity = first.Identity;
        Assert.True(identity.IsThisBoot);
        Assert.NotEqual(0UL, identity.Cookie);
        using (var again = NetworkNamespace.Open(first.Name!))
        {
            Assert.Equal(identity, again.Identity);
        }

        using var host = NetworkNamespace.OpenCurrent();
        Assert.NotEqual(identity, host.Identity);
        NetworkNamespace.Delete(first.Name!);
        using var remade = NetworkNamespace.Create(first.Name!);
        Assert.NotEqual(identity, remade.Identity);
        Assert.True(NamespaceIdentity.TryParse(identity.ToString(), out var parsed) && parsed == identity);
    }
}
