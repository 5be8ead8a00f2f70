using System.Diagnostics;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests;

/// <summary>
/// The watcher against the real kernel. On the machine's /run/netns (which exists, and which other tests share: only
/// events named with this test's token count) the reference's six steps with <c>ip netns add</c>/<c>del</c>, a burst
/// of 500, and listing while namespaces are being made; in a private directory (a private mount under /tmp) the cases
/// where the directory does not exist yet, or goes away while watched; unnamed namespaces held by processes.
/// The same steps with <c>ip netns add</c> and the directory absent under a fresh /run run in a private mount
/// namespace in the CLI tests (<c>aether ns watch</c>).
/// </summary>
public sealed class NamespaceWatcherTests : SandboxTest
{
    [Fact]
    public async Task Six_steps_on_run_netns_with_ip_netns()
    {
        using var watcher = NamespaceWatcher.ListAndWatch();
        using var log = new WatchLog(watcher, Mine);
        Assert.True(watcher.DirectoryExisted);
        Assert.DoesNotContain(watcher.Initial, n => Mine(n.Name));

        // 2-3: the first namespace, then a second: each reported once it can be used, with its inode.
        var first = await Box.CreateNamespaceWithIpAsync("a");
        var created1 = await log.WaitForAsync(NamespaceEventKind.Created, first);
        Assert.Equal(await Ip.InodeInsideAsync(first), created1.Inode);
        Assert.Equal("/run/netns/" + first, created1.Path);
        using (var ns = NetworkNamespace.Open(first))
        using (var handle = NetlinkHandle.OpenAt(ns))
        {
            Assert.Contains(await handle.ListLinksAsync(), l => l.Name == "lo");
        }

        var second = await Box.CreateNamespaceWithIpAsync("b");
        var created2 = await log.WaitForAsync(NamespaceEventKind.Created, second);
        Assert.Equal(await Ip.InodeInsideAsync(second), created2.Inode);

        // 4-5: delete one, then the last: each Deleted carries the inode it was created with; the watcher goes on.
        await Ip.RunAsync("netns", "del", first);
        Assert.Equal(created1.Inode, (await log.WaitForAsync(NamespaceEventKind.Deleted, first)).Inode);
        await Ip.RunAsync("netns", "del", second);
        Assert.Equal(created2.Inode, (await log.WaitForAsync(NamespaceEventKind.Deleted, second)).Inode);

        // 6: re-create under the first name: a new namespace, reported after the old one's deletion. (Its inode may be
        // the old number again: the kernel reuses the numbers of namespaces it has freed.)
        await Ip.RunAsync("netns", "add", first);
        var recreated = await log.WaitForAsync(NamespaceEventKind.Created, first, nth: 2);
        Assert.Equal(await Ip.InodeInsideAsync(first), recreated.Inode);

        // A rescan finds nothing new to say: it is asked for, then two namespaces are made one after the other; the
        // first is reported no later than the rescan ran, so anything the rescan said comes before the second.
        watcher.Rescan();
        var s1 = await Box.CreateNamespaceWithIpAsync("s1");
        await log.WaitForAsync(NamespaceEventKind.Created, s1);
        var s2 = await Box.CreateNamespaceWithIpAsync("s2");
        await log.WaitForAsync(NamespaceEventKind.Created, s2);

        Assert.Equal(
            [$"Created {first}", $"Created {second}", $"Deleted {first}", $"Deleted {second}", $"Created {first}", $"Created {s1}", $"Created {s2}"],
            log.Events.Select(e => $"{e.Kind} {e.Name}"));
        Assert.Empty(log.Unusable);
        Assert.Contains(watcher.Current, n => n.Name == first && n.Inode == recreated.Inode);
        Assert.DoesNotContain(watcher.Current, n => n.Name == second);
    }

    [Fact]
    public async Task Six_steps_when_the_directory_does_not_exist_yet_then_it_goes_and_comes_back()
    {
        await using var dir = await PrivateNetnsDirectory.CreateAsync(Box.Token);
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        using var c = Box.CreateNamespace("c");

        // 1: started before anything exists: neither the directory nor its parent.
        using var watcher = NamespaceWatcher.ListAndWatch(new() { Directory = dir.Path });
        using var log = new WatchLog(watcher, _ => true);
        Assert.False(watcher.DirectoryExisted);
        Assert.Empty(watcher.Initial);

        // 2: the first namespace, made together with the directory: the directory is reported, then the namespace.
        dir.CreateDirectory();
        await dir.AddAsync("one", a.Path);
        var one = await log.WaitForAsync(NamespaceEventKind.Created, "one");
        Assert.Equal(a.Inode, one.Inode);

        // 3: a second.
        await dir.AddAsync("two", b.Path);
        Assert.Equal(b.Inode, (await log.WaitForAsync(NamespaceEventKind.Created, "two")).Inode);

        // 4-5: delete one, then the last.
        await dir.RemoveAsync("one");
        Assert.Equal(a.Inode, (await log.WaitForAsync(NamespaceEventKind.Deleted, "one")).Inode);
        await dir.RemoveAsync("two");
        Assert.Equal(b.Inode, (await log.WaitForAsync(NamespaceEventKind.Deleted, "two")).Inode);

        // 6: re-create under the first name, holding another namespace: two distinct namespaces.
        await dir.AddAsync("one", c.Path);
        Assert.Equal(c.Inode, (await log.WaitForAsync(NamespaceEventKind.Created, "one", nth: 2)).Inode);

        // The directory removed while watched (its namespaces first), then re-created with a namespace in it at once.
        await dir.RemoveAsync("one");
        dir.RemoveDirectory();
        await log.WaitForAsync(es => es.Any(e => e.Kind == NamespaceEventKind.DirectoryRemoved), "DirectoryRemoved");
        dir.CreateDirectory();
        await dir.AddAsync("three", a.Path);
        Assert.Equal(a.Inode, (await log.WaitForAsync(NamespaceEventKind.Created, "three")).Inode);

        // Its parent removed too, then both made again.
        await dir.RemoveAsync("three");
        dir.RemoveDirectory();
        Directory.Delete(dir.Parent);
        await log.WaitForAsync(es => es.Count(e => e.Kind == NamespaceEventKind.DirectoryRemoved) == 2, "the second DirectoryRemoved");
        dir.CreateDirectory();
        await dir.AddAsync("four", b.Path);
        Assert.Equal(b.Inode, (await log.WaitForAsync(NamespaceEventKind.Created, "four")).Inode);

        Assert.Equal(
            [
                "DirectoryCreated", "Created one", "Created two", "Deleted one", "Deleted two", "Created one", "Deleted one",
                "DirectoryRemoved", "DirectoryCreated", "Created three", "Deleted three", "DirectoryRemoved", "DirectoryCreated", "Created four",
            ],
            log.Events.Select(e => $"{e.Kind} {e.Name}".Trim()));
        Assert.All(log.Events.Where(e => e.Kind is NamespaceEventKind.DirectoryCreated or NamespaceEventKind.DirectoryRemoved), e => Assert.Equal(dir.Path, e.Path));
        Assert.Empty(log.Unusable);
    }

    [Fact]
    public async Task A_namespace_mounted_in_a_directory_made_before_the_watch_switched_is_found_by_the_rescan()
    {
        await using var dir = await PrivateNetnsDirectory.CreateAsync(Box.Token);
        using var a = Box.CreateNamespace("a");
        using var watcher = NamespaceWatcher.ListAndWatch(new() { Directory = dir.Path });
        using var log = new WatchLog(watcher, _ => true);

        // Directory, entry and mount in one shell: usually all done before the watcher has moved its watch down,
        // so no inotify event ever names the entry.
        var (code, _, stderr) = await Ip.ExecAsync("sh", "-c", $"mkdir -p '{dir.Path}' && touch '{dir.Path}/x' && mount --bind '{a.Path}' '{dir.Path}/x'");
        Assert.True(code == 0, stderr);
        Assert.Equal(a.Inode, (await log.WaitForAsync(NamespaceEventKind.Created, "x")).Inode);
        Assert.Equal(["DirectoryCreated", "Created x"], log.Events.Select(e => $"{e.Kind} {e.Name}".Trim()));
    }

    [Fact]
    public async Task Entries_that_never_become_namespaces_are_never_reported()
    {
        await using var dir = await PrivateNetnsDirectory.CreateAsync(Box.Token);
        using var a = Box.CreateNamespace("a");
        dir.CreateDirectory();
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "plain"), []);
        using var watcher = NamespaceWatcher.ListAndWatch(new() { Directory = dir.Path });
        using var log = new WatchLog(watcher, _ => true);
        Assert.Empty(watcher.Initial);

        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "plain2"), []);
        Directory.CreateDirectory(Path.Combine(dir.Path, "subdir"));
        await dir.AddAsync("real", a.Path);          // a mount: the plain entries are looked at again, and still are not
        await log.WaitForAsync(NamespaceEventKind.Created, "real");
        watcher.Rescan();
        await dir.RemoveAsync("real");
        await log.WaitForAsync(NamespaceEventKind.Deleted, "real");

        Assert.Equal(["Created real", "Deleted real"], log.Events.Select(e => $"{e.Kind} {e.Name}"));
    }

    [Fact]
    public async Task A_burst_of_500_is_reported_exactly_once_each_and_so_is_its_deletion()
    {
        const int N = 500;
        using var watcher = NamespaceWatcher.ListAndWatch();
        using var log = new WatchLog(watcher, Mine);
        var names = Enumerable.Range(0, N).Select(i => Box.Name("w" + i)).ToArray();
        var inodes = new ulong[N];
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
        }

        // Half by the library from 8 threads at once, half by one `ip -batch` (each entry created, then mounted) at the
        // same time.
        var batch = Path.Combine(Box.Own(new TempDirectory(Box.Token)).Path, "batch");
        await File.WriteAllLinesAsync(batch, names.Where((_, i) => i % 2 == 1).Select(n => "netns add " + n));
        var byIp = Ip.RunAsync("-batch", batch);
        await Parallel.ForEachAsync(Enumerable.Range(0, N).Where(i => i % 2 == 0), new ParallelOptions { MaxDegreeOfParallelism = 8 }, (i, _) =>
        {
            using var ns = NetworkNamespace.Create(names[i]);
            inodes[i] = ns.Inode;
            return ValueTask.CompletedTask;
        });
        await byIp;
        for (var i = 1; i < N; i += 2)
        {
            using var ns = NetworkNamespace.Open(names[i]);
            inodes[i] = ns.Inode;
        }

        var created = await log.WaitForAsync(es => es.Count(e => e.Kind == NamespaceEventKind.Created) >= N, $"{N} Created");
        Assert.Equal(names.Order(StringComparer.Ordinal), created.Select(e => e.Name!).Order(StringComparer.Ordinal));
        for (var i = 0; i < N; i++)
        {
            Assert.Equal(inodes[i], created.Single(e => e.Name == names[i]).Inode);
        }

        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (name, _) =>
        {
            NetworkNamespace.Delete(name);
            return ValueTask.CompletedTask;
        });
        var all = await log.WaitForAsync(es => es.Count(e => e.Kind == NamespaceEventKind.Deleted) >= N, $"{N} Deleted");

        // A straggler would show as an extra event after a last namespace made and reported.
        var last = await Box.CreateNamespaceWithIpAsync("z");
        all = await log.WaitForAsync(es => es.Any(e => e.Name == last), "the last namespace");
        Assert.Equal(N, all.Count(e => e.Kind == NamespaceEventKind.Created && e.Name != last));
        Assert.Equal(N, all.Count(e => e.Kind == NamespaceEventKind.Deleted));
        Assert.Equal(N, all.Where(e => e.Kind == NamespaceEventKind.Deleted).Select(e => e.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(log.Unusable);
    }

    [Fact]
    public async Task Listing_while_namespaces_are_being_made_leaves_no_gap_and_no_double()
    {
        const int N = 40;
        var names = Enumerable.Range(0, N).Select(i => Box.Name("g" + i)).ToArray();
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
        }

        var making = Task.Run(() =>
        {
            foreach (var name in names)
            {
                NetworkNamespace.Create(name).Dispose();
            }
        });
        await Task.Delay(5); // let some be made before the watch starts, and some after
        using var watcher = NamespaceWatcher.ListAndWatch();
        using var log = new WatchLog(watcher, Mine);
        await making;
        var listed = watcher.Initial.Where(n => Mine(n.Name)).Select(n => n.Name!).ToList();
        var events = await log.WaitForAsync(es => listed.Count + es.Count(e => e.Kind == NamespaceEventKind.Created) >= N, "every namespace listed or reported");

        var reported = events.Where(e => e.Kind == NamespaceEventKind.Created).Select(e => e.Name!).ToList();
        Assert.Empty(listed.Intersect(reported, StringComparer.Ordinal));
        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Concat(reported).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_unnamed_namespace_is_reported_when_it_gets_an_nsid_and_deleted_when_its_process_ends()
    {
        // No rescan timer: the nsid announcement (or a mount-table change somewhere) is what makes it look.
        using var watcher = NamespaceWatcher.ListAndWatch(new() { IncludeUnnamed = true, RescanInterval = Timeout.InfiniteTimeSpan });
        using var holder = await Holder.StartAsync();
        using var log = new WatchLog(watcher, e => e.Inode == holder.Inode);

        // A veth end moved into it makes the host give it an nsid. The pair goes with the namespace, but it is deleted
        // here first (and in any case below), so nothing of the test outlives it.
        var host = Box.Name("h");
        try
        {
            await Ip.RunAsync("link", "add", host, "type", "veth", "peer", "name", Box.Name("p"), "netns", holder.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var created = await log.WaitForAsync(es => es.Any(e => e.Kind == NamespaceEventKind.Created), "the unnamed namespace");
            var e = created.Single();
            Assert.Null(e.Name);
            Assert.Contains(holder.Pid, e.Pids);
            Assert.Contains(watcher.Current, n => n.Inode == holder.Inode && n.Name is null);
        }
        finally
        {
            await Ip.TryRunAsync("link", "del", host);
        }

        holder.Dispose(); // the namespace dies with its only process: RTM_DELNSID
        await log.WaitForAsync(es => es.Any(x => x.Kind == NamespaceEventKind.Deleted), "its deletion");
        Assert.Equal(["Created", "Deleted"], log.Events.Select(x => x.Kind.ToString()));
    }

    [Fact]
    public async Task An_unnamed_namespace_without_an_nsid_is_found_by_the_rescan()
    {
        using var watcher = NamespaceWatcher.ListAndWatch(new() { IncludeUnnamed = true, RescanInterval = TimeSpan.FromMilliseconds(200) });
        using var holder = await Holder.StartAsync();
        using var log = new WatchLog(watcher, e => e.Inode == holder.Inode);

        var created = (await log.WaitForAsync(es => es.Count > 0, "the unnamed namespace")).Single();
        Assert.Equal(NamespaceEventKind.Created, created.Kind);
        Assert.Equal([holder.Pid], created.Pids);
        Assert.Equal($"/proc/{holder.Pid}/ns/net", created.Path);

        var listed = NamespaceWatcher.Scan(new() { IncludeUnnamed = true });
        Assert.Contains(listed, n => n.Inode == holder.Inode && n.Name is null && n.Pids.Contains(holder.Pid));
        Assert.DoesNotContain(NamespaceWatcher.Scan(), n => n.Inode == holder.Inode);

        holder.Dispose();
        await log.WaitForAsync(es => es.Any(x => x.Kind == NamespaceEventKind.Deleted), "its deletion");
    }

    [Fact]
    public async Task An_unnamed_namespace_is_deleted_as_soon_as_its_last_process_exits()
    {
        // Listed at start; no nsid, no rescan timer: the exit of the process holding it is what tells.
        using var holder = await Holder.StartAsync();
        using var watcher = NamespaceWatcher.ListAndWatch(new() { IncludeUnnamed = true, RescanInterval = Timeout.InfiniteTimeSpan });
        using var log = new WatchLog(watcher, e => e.Inode == holder.Inode);
        var listed = Assert.Single(watcher.Initial, n => n.Inode == holder.Inode);
        Assert.Equal([holder.Pid], listed.Pids);

        holder.Dispose();
        var deleted = (await log.WaitForAsync(es => es.Count > 0, "its deletion")).Single();
        Assert.Equal(NamespaceEventKind.Deleted, deleted.Kind);
        Assert.DoesNotContain(watcher.Current, n => n.Inode == holder.Inode);
    }

    [Fact]
    public async Task Scan_lists_named_namespaces_with_the_pids_in_them()
    {
        using var ns = Box.CreateNamespace("a");
        using var holder = await Holder.StartAsync(ns.Name);
        var listed = NamespaceWatcher.Scan();
        var entry = Assert.Single(listed, n => n.Name == ns.Name);
        Assert.Equal(ns.Inode, entry.Inode);
        Assert.Contains(holder.Pid, entry.Pids);
        Assert.DoesNotContain(NamespaceWatcher.Scan(new() { IncludeUnnamed = true }), n => n.Name is null && n.Inode == ns.Inode);
    }

    private bool Mine(NamespaceEvent e) => Mine(e.Name);

    private bool Mine(string? name) => name?.StartsWith(Box.Token, StringComparison.Ordinal) == true;

    /// <summary><c>unshare --net sleep</c> (or <c>ip netns exec NS sleep</c>): a process holding a namespace.</summary>
    private sealed class Holder : IDisposable
    {
        private readonly Process _process;
        private int _disposed;

        private Holder(Process process, ulong inode)
        {
            _process = process;
            Inode = inode;
        }

        public int Pid => _process.Id;

        public ulong Inode { get; }

        public static async Task<Holder> StartAsync(string? ns = null)
        {
            var own = NetworkNamespace.OpenCurrent().Inode;
            var psi = ns is null ? new ProcessStartInfo("unshare", ["--net", "sleep", "300"]) : new ProcessStartInfo("ip", ["netns", "exec", ns, "sleep", "300"]);
            var process = Process.Start(psi)!;

            // unshare waits on the kernel's namespace lock while earlier namespaces are torn down: give it time.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    var link = new FileInfo($"/proc/{process.Id}/ns/net").LinkTarget;
                    var comm = (await File.ReadAllTextAsync($"/proc/{process.Id}/comm")).Trim();
                    if (link is not null && Ip.ParseNsLink(link) != own && comm == "sleep")
                    {
                        return new Holder(process, Ip.ParseNsLink(link));
                    }
                }
                catch (IOException)
                {
                }

                await Task.Delay(10);
            }

            process.Kill();
            throw new InvalidOperationException("the holder never got a namespace of its own");
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
