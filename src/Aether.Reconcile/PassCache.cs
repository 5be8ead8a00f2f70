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
        var previous = (Current.Value, Present.Value);
        Current.Value = new();
        Present.Value = new(StringComparer.Ordinal);
        return new Lifetime(previous.Item1, previous.Item2);
    }

    // Named namespaces found present in this pass (their /run/netns entry): each is looked up once per pass, not
    // once per source (a plan of 1000 namespaces did 5000 lstat calls for it). Not dropped by Invalidate: applying
    // links does not remove namespaces.
    private static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<string, bool>?> Present = new();

    /// <summary>Forgets what was cached (a source changed something).</summary>
    public static void Invalidate() => Current.Value?.Clear();

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

        links = await handle.ListLinksAsync(cancellationToken).ConfigureAwait(false); // an interrupted dump is read again by the handle
        cache?.TryAdd(handle, links);
        return links;
    }

    /// <summary>Ends a pass's cache.</summary>
    public readonly struct Lifetime(System.Collections.Concurrent.ConcurrentDictionary<NetlinkHandle, IReadOnlyList<Link>>? previous, System.Collections.Concurrent.ConcurrentDictionary<string, bool>? previousPresent) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose()
        {
            Current.Value = previous;
            Present.Value = previousPresent;
        }
    }
}
