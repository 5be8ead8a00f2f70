using System.Threading.Channels;
using Aether.Netlink.Namespaces;

namespace Aether.Reconcile.Tests;

/// <summary>A loop per namespace, started when it appears and stopped when it goes, fed by scripted watcher events.</summary>
public sealed class NamespaceLoopsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Loops_follow_namespaces_as_they_come_and_go()
    {
        var sources = new List<(NamespaceInfo Namespace, FakeSource Source)>();
        var disposed = new List<string>();
        var loops = new NamespaceLoops(ns =>
        {
            if (ns.Name?.StartsWith("ours", StringComparison.Ordinal) != true)
            {
                return null; // not ours: no loop
            }

            var source = new FakeSource();
            lock (sources)
            {
                sources.Add((ns, source));
            }

            return new NamespaceSource(source, new Release(() => { lock (disposed) { disposed.Add($"{ns.Name}#{ns.Inode}"); } }));
        });
        var events = Channel.CreateUnbounded<NamespaceEvent>();
        using var stop = new CancellationTokenSource();
        var run = loops.RunAsync([Ns("ours-a", 1), Ns("theirs", 2)], events.Reader.ReadAllAsync(), stop.Token);

        Assert.Equal("start ours-a#1", await NextAsync(loops));
        await FirstPassAsync(sources, "ours-a", 1);

        events.Writer.TryWrite(Created("ours-b", 3));
        Assert.Equal("start ours-b#3", await NextAsync(loops));
        await FirstPassAsync(sources, "ours-b", 3);

        // Deleted, then re-created under the same name: another namespace, another source and loop.
        events.Writer.TryWrite(Deleted("ours-a", 1));
        Assert.Equal("stop ours-a#1", await NextAsync(loops));
        Assert.Equal(["ours-a#1"], disposed);
        events.Writer.TryWrite(Created("ours-a", 4));
        Assert.Equal("start ours-a#4", await NextAsync(loops));
        await FirstPassAsync(sources, "ours-a", 4);

        // Someone else's namespace, a duplicate Created and directory events change nothing.
        events.Writer.TryWrite(Deleted("theirs", 2));
        events.Writer.TryWrite(Created("ours-b", 3));
        events.Writer.TryWrite(new NamespaceEvent(NamespaceEventKind.DirectoryRemoved, null, "/run/netns", 0));
        events.Writer.TryWrite(Deleted("ours-b", 3));
        Assert.Equal("stop ours-b#3", await NextAsync(loops));
        Assert.Equal(["ours-a"], loops.Running.Select(n => n.Name));
        Assert.Equal(3, sources.Count);

        // Stopping stops what is left.
        await stop.CancelAsync();
        await run.WaitAsync(Wait);
        Assert.Equal("stop ours-a#4", await NextAsync(loops));
        Assert.False(await loops.Changes.WaitToReadAsync());
        Assert.Equal(["ours-a#1", "ours-b#3", "ours-a#4"], disposed);
        Assert.Empty(loops.Running);
    }

    [Fact]
    public async Task The_end_of_the_event_stream_stops_every_loop()
    {
        var loops = new NamespaceLoops(_ => new NamespaceSource(new FakeSource()));
        var events = Channel.CreateUnbounded<NamespaceEvent>();
        var run = loops.RunAsync([Ns("a", 1)], events.Reader.ReadAllAsync(), CancellationToken.None);
        Assert.Equal("start a#1", await NextAsync(loops));

        events.Writer.TryComplete();
        await run.WaitAsync(Wait);
        Assert.Equal("stop a#1", await NextAsync(loops));
    }

    private static NamespaceInfo Ns(string name, ulong inode) => new(name, "/run/netns/" + name, inode);

    private static NamespaceEvent Created(string name, ulong inode) => new(NamespaceEventKind.Created, name, "/run/netns/" + name, inode);

    private static NamespaceEvent Deleted(string name, ulong inode) => new(NamespaceEventKind.Deleted, name, "/run/netns/" + name, inode);

    private static async Task<string> NextAsync(NamespaceLoops loops)
    {
        var change = await loops.Changes.ReadAsync().AsTask().WaitAsync(Wait);
        return $"{(change.Started ? "start" : "stop")} {change.Namespace.Name}#{change.Namespace.Inode}";
    }

    private static async Task FirstPassAsync(List<(NamespaceInfo Namespace, FakeSource Source)> sources, string name, ulong inode)
    {
        FakeSource source;
        lock (sources)
        {
            source = sources.Single(s => s.Namespace.Name == name && s.Namespace.Inode == inode).Source;
        }

        Assert.Equal(1, await source.Started.Reader.ReadAsync().AsTask().WaitAsync(Wait));
    }

    private sealed class Release(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
