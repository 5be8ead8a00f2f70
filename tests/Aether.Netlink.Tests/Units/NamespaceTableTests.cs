using Aether.Netlink.Namespaces;

namespace Aether.Netlink.Tests.Units;

/// <summary>The watcher's de-duplication, without a kernel: many sightings, one event each way.</summary>
public class NamespaceTableTests
{
    private readonly NamespaceTable _table = new();
    private readonly List<NamespaceEvent> _out = [];

    [Fact]
    public void A_namespace_seen_by_several_mechanisms_is_created_once()
    {
        _table.Found(Named("blue", 10), _out);
        _table.Found(Named("blue", 10), _out);                                   // the mount-table wake-up
        _table.ReconcileNamed(Listing(Named("blue", 10)), _out);                // the rescan

        Assert.Equal(["Created blue (inode 10)"], Texts());
    }

    [Fact]
    public void Re_created_under_the_same_name_is_a_delete_and_a_create()
    {
        _table.Found(Named("blue", 10), _out);
        _table.Found(Named("blue", 11), _out);     // missed the delete: the inode tells
        _table.Gone("blue", _out);
        _table.Gone("blue", _out);                 // IN_DELETE after the unmount was already seen

        Assert.Equal(["Created blue (inode 10)", "Deleted blue (inode 10)", "Created blue (inode 11)", "Deleted blue (inode 11)"], Texts());
    }

    [Fact]
    public void A_rescan_reports_only_the_difference()
    {
        _table.ReconcileNamed(Listing(Named("a", 1), Named("b", 2), Named("c", 3)), _out);
        _out.Clear();

        _table.ReconcileNamed(Listing(Named("a", 1), Named("c", 30), Named("d", 4)), _out);

        Assert.Equal(["Deleted b (inode 2)", "Deleted c (inode 3)", "Created c (inode 30)", "Created d (inode 4)"], Texts());
        Assert.Equal(["a", "c", "d"], _table.Snapshot().Select(n => n.Name));
    }

    [Fact]
    public void The_directory_going_deletes_every_named_namespace_in_name_order()
    {
        _table.Found(Named("b", 2), _out);
        _table.Found(Named("a", 1), _out);
        _out.Clear();

        _table.RemoveAllNamed(_out);

        Assert.Equal(["Deleted a (inode 1)", "Deleted b (inode 2)"], Texts());
        Assert.Equal(0, _table.NamedCount);
    }

    [Fact]
    public void Unnamed_namespaces_are_keyed_by_inode_and_skip_named_ones()
    {
        _table.Found(Named("blue", 10), _out);
        _table.ReconcileUnnamed(Unnamed(Proc(10, 100), Proc(20, 200)), _out);
        _table.ReconcileUnnamed(Unnamed(Proc(10, 100), Proc(20, 201)), _out);   // another process holds it now: no event

        Assert.Equal(["Created blue (inode 10)", "Created /proc/200/ns/net (inode 20)"], Texts());
        Assert.Equal([201], _table.Snapshot().Single(n => n.Inode == 20).Pids);

        _out.Clear();
        _table.ReconcileUnnamed(Unnamed(), _out);
        Assert.Equal(["Deleted /proc/201/ns/net (inode 20)"], Texts());
    }

    [Fact]
    public void An_unnamed_namespace_that_gets_a_name_moves_over()
    {
        _table.ReconcileUnnamed(Unnamed(Proc(20, 200)), _out);
        _table.Found(Named("green", 20), _out);          // ip netns attach green 200
        _table.ReconcileUnnamed(Unnamed(Proc(20, 200)), _out);

        Assert.Equal(["Created /proc/200/ns/net (inode 20)", "Deleted /proc/200/ns/net (inode 20)", "Created green (inode 20)"], Texts());
        Assert.True(_table.HasNamedInode(20));
    }

    [Fact]
    public void Mountinfo_lines_give_network_namespace_mounts_only()
    {
        const string mountinfo = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
            43 42 0:4 net:[4026532178] /run/netns/blue rw shared:2 - nsfs nsfs rw
            44 27 0:4 mnt:[4026532200] /run/mnt-holder rw - nsfs nsfs rw
            45 27 0:4 net:[4026532300] /var/run/docker/netns/with\040space rw master:3 - nsfs nsfs rw
            """;

        Assert.Equal(
            [("/run/netns/blue", 4026532178UL), ("/var/run/docker/netns/with space", 4026532300UL)],
            MountTableWatch.Parse(mountinfo));
    }

    [Theory]
    [InlineData("/proc/definitely/not/here", "/proc", "definitely")]
    [InlineData("/proc/self/no-such-dir", "/proc/self", "no-such-dir")]
    [InlineData("/nonexistent-aether-dir/netns", "/", "nonexistent-aether-dir")]
    public void The_nearest_existing_ancestor_is_watched_for_the_next_component(string target, string ancestor, string next) =>
        Assert.Equal((ancestor, next), DirectoryWatch.NearestExisting(target));

    private static NamespaceInfo Named(string name, ulong inode) => new(name, "/run/netns/" + name, inode);

    private static NamespaceInfo Proc(ulong inode, int pid) => new(null, $"/proc/{pid}/ns/net", inode) { Pids = [pid] };

    private static Dictionary<string, NamespaceInfo> Listing(params NamespaceInfo[] found) => found.ToDictionary(n => n.Name!, StringComparer.Ordinal);

    private static Dictionary<ulong, NamespaceInfo> Unnamed(params NamespaceInfo[] found) => found.ToDictionary(n => n.Inode);

    private List<string> Texts() => [.. _out.Select(e => e.ToString())];
}
