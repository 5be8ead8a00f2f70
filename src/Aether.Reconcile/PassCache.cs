using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile;

/// <summary>
/// Within one pass of a <see cref="SourceGroup"/>, the sources of a namespace share one link dump: the link source
/// reads it, and the address and route sources reuse it for their name-to-ifindex maps instead of dumping again. It
/// is dropped as soon as a source applies anything (the links may have changed), and outside a group nothing is
/// cached, so a source on its own always reads the kernel.
/// </summary>
public static class PassCache
{
    private static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, IReadOnlyList<Link>>?> Current = new();

    /// <summary>Starts caching for the pass running in this async flow; disposing ends it.</summary>
    public static Lifetime Begin()
    {
        var previous = (Current.Value, Present.Value, Providers.Value);
        Current.Value = new();
        Present.Value = KeptPresent.Value ?? new(StringComparer.Ordinal);
        Providers.Value = new();
        return new Lifetime(previous.Item1, previous.Item2, previous.Item3);
    }

    // Named namespaces found present in this pass (their /run/netns entry): each is looked up once per pass, not
    // once per source (a plan of 1000 namespaces did 5000 lstat calls for it). Not dropped by Invalidate: applying
    // links does not remove namespaces.
    private static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<string, bool>?> Present = new();

    // Namespaces found present by any pass begun within KeepPresence: shared by those passes.
    private static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<string, bool>?> KeptPresent = new();

    /// <summary>Until disposed, the passes begun in this async flow share what they found of named namespaces: one
    /// found present by one pass is not looked up again by the next (the stages of one apply, each a pass of its own,
    /// look a thousand namespaces up once, not once per stage). For work short enough that a namespace deleted during
    /// it may be noticed by its next run instead.</summary>
    public static IDisposable KeepPresence()
    {
        // Within an outer KeepPresence, the outer's findings are kept: a caller that opened the namespaces by name
        // just before (and said so with NotePresent) has looked them up already.
        var previous = KeptPresent.Value;
        KeptPresent.Value = previous ?? new(StringComparer.Ordinal);
        return new Restore(() => KeptPresent.Value = previous);
    }

    /// <summary>Says that the named namespace <paramref name="name"/> was found present a moment ago (its caller
    /// opened it by name, or made it), so that the pass under way, or the passes of the <see cref="KeepPresence"/>
    /// under way, do not look it up again: a plan of a thousand namespaces opened each by name and then looked each
    /// up once more (two system calls each). Outside both, does nothing.</summary>
    public static void NotePresent(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        (Present.Value ?? KeptPresent.Value)?.TryAdd(name, true);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    // Within a pass, how a namespace's links are read when they are not cached (or no longer: a source changed
    // something): a link source that follows its namespace's events reads only what changed.
    private static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, Func<CancellationToken, Task<IReadOnlyList<Link>>>>?> Providers = new();

    /// <summary>Within a group's pass, reads <paramref name="handle"/>'s links with <paramref name="read"/> instead of
    /// a dump whenever they are asked for and not cached (after <see cref="Invalidate"/> too); outside a pass, does
    /// nothing and returns false.</summary>
    public static bool Provide(NetlinkHandle handle, Func<CancellationToken, Task<IReadOnlyList<Link>>> read)
    {
        if (Providers.Value is not { } providers)
        {
            return false;
        }

        providers.TryAdd(handle, read);
        return true;
    }

    // Dumps under way in this pass, by handle: a second reader of the same namespace's links waits for the first
    // dump instead of sending its own (the host's link source reads each veth's far end while that namespace's own
    // link source dumps it). Keyed by the pass's cache, so no public state changes shape.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, IReadOnlyList<Link>>, System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, Lazy<Task<IReadOnlyList<Link>>>>> Pending = [];

    /// <summary>Whether a pass's cache is active in this async flow.</summary>
    internal static bool Active => Current.Value is not null;

    /// <summary>Forgets what was cached (a source changed something).</summary>
    public static void Invalidate()
    {
        if (Current.Value is { } cache)
        {
            cache.Clear();
            if (Pending.TryGetValue(cache, out var pending))
            {
                pending.Clear();
            }
        }
    }

    /// <summary>Whether the named namespace <paramref name="name"/> exists: within a pass, a namespace found once is
    /// not looked up again; outside one, always looked up.</summary>
    public static bool NamespaceExists(string name)
    {
        var present = Present.Value;
        if (present is not null && present.ContainsKey(name))
        {
            return true;
        }

        if (!Netlink.Namespaces.NetworkNamespace.Exists(name))
        {
            return false;
        }

        present?.TryAdd(name, true);
        return true;
    }

    /// <summary>The links of <paramref name="handle"/>'s namespace if this pass read them already, else null.</summary>
    public static IReadOnlyList<Link>? TryGet(NetlinkHandle handle) =>
        Current.Value is { } cache && cache.TryGetValue(handle, out var links) ? links : null;

    /// <summary>The links of <paramref name="handle"/>'s namespace: cached within a group's pass, read otherwise.</summary>
    public static async Task<IReadOnlyList<Link>> ListLinksAsync(NetlinkHandle handle, CancellationToken cancellationToken)
    {
        var cache = Current.Value;
        if (cache is not null && cache.TryGetValue(handle, out var links))
        {
            return links;
        }

        var providers = Providers.Value;
        Task<IReadOnlyList<Link>> Read() => providers is not null && providers.TryGetValue(handle, out var read)
            ? read(cancellationToken)
            : handle.ListLinksAsync(cancellationToken); // an interrupted dump is read again by the handle
        if (cache is null)
        {
            return await Read().ConfigureAwait(false);
        }

        var pending = Pending.GetValue(cache, static _ => new());
        var reading = pending.GetOrAdd(handle, _ => new Lazy<Task<IReadOnlyList<Link>>>(Read));
        try
        {
            links = await reading.Value.ConfigureAwait(false);
            cache.TryAdd(handle, links); // before the dump stops being pending: a reader finds one or the other
        }
        finally
        {
            pending.TryRemove(KeyValuePair.Create(handle, reading)); // failed: the next reader tries again
        }

        return links;
    }

    /// <summary>Ends a pass's cache.</summary>
    public readonly struct Lifetime(System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, IReadOnlyList<Link>>? previous, System.Collections.Concurrent.ConcurrentDictionary<string, bool>? previousPresent, System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, Func<CancellationToken, Task<IReadOnlyList<Link>>>>? previousProviders) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose()
        {
            Current.Value = previous;
            Present.Value = previousPresent;
            Providers.Value = previousProviders;
        }
    }
}
