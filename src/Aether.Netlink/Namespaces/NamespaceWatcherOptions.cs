namespace Aether.Netlink.Namespaces;

/// <summary>How a <see cref="NamespaceWatcher"/> watches.</summary>
public sealed record NamespaceWatcherOptions
{
    /// <summary>The defaults: <c>/run/netns</c>, named namespaces only, a rescan every 30 s.</summary>
    public static NamespaceWatcherOptions Default { get; } = new();

    /// <summary>The directory of named namespaces (default <see cref="NetworkNamespace.RunDirectory"/>). It need not
    /// exist: the watcher then watches its nearest existing ancestor until it appears.</summary>
    public string Directory { get; init; } = NetworkNamespace.RunDirectory;

    /// <summary>Also report namespaces without a name: held by a process (<c>/proc/*/ns/net</c>) or bind-mounted
    /// outside <see cref="Directory"/>. Adds an <c>RTM_NEWNSID</c>/<c>RTM_DELNSID</c> subscription and mount-table
    /// wake-ups; the process's own namespace is never reported as unnamed.</summary>
    public bool IncludeUnnamed { get; init; }

    /// <summary>The safety-net rescan period (default 30 s): everything is re-read and compared, so a lost event
    /// costs at most this much latency. <see cref="Timeout.InfiniteTimeSpan"/> turns it off.</summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Directory) || Directory[0] != '/' || Directory.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Directory: '{Directory}' is not an absolute path", nameof(Directory));
        }

        if (RescanInterval != Timeout.InfiniteTimeSpan && (RescanInterval < TimeSpan.FromMilliseconds(1) || RescanInterval.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentException($"RescanInterval: {RescanInterval} is out of range (1 ms to 24 days, or infinite)", nameof(RescanInterval));
        }
    }

    /// <summary>The directory without trailing slashes (<c>/run/netns/</c> → <c>/run/netns</c>).</summary>
    internal string NormalizedDirectory => Directory.Length > 1 ? Directory.TrimEnd('/') is { Length: > 0 } d ? d : "/" : Directory;
}
