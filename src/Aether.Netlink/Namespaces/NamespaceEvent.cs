namespace Aether.Netlink.Namespaces;

/// <summary>What a <see cref="NamespaceWatcher"/> saw.</summary>
public enum NamespaceEventKind
{
    /// <summary>A namespace can now be used: a named one's entry is an nsfs mount of a network namespace, or an
    /// unnamed one is held by a process or a mount outside the watched directory.</summary>
    Created,

    /// <summary>A namespace reported before is gone (its entry was removed or unmounted, or nothing holds it any more).</summary>
    Deleted,

    /// <summary>The watched directory appeared (<c>ip netns add</c> makes it on first use).</summary>
    DirectoryCreated,

    /// <summary>The watched directory went away (every namespace in it was reported <see cref="Deleted"/> first).</summary>
    DirectoryRemoved,
}

/// <summary>A network namespace as the watcher knows it: its name (for a named one) and its nsfs inode. A namespace
/// deleted and re-created under the same name is another namespace: the watcher reports the deletion, then the
/// creation. (Their inodes differ while the first is still held by anything; once it is freed, the kernel may hand
/// its inode number to the next namespace, so the order of events, not the number alone, tells them apart.)</summary>
/// <param name="Name">The file name under the watched directory, or null for an unnamed namespace.</param>
/// <param name="Path">Where to open it: the entry (<c>/run/netns/blue</c>), a bind mount elsewhere, or
/// <c>/proc/PID/ns/net</c> of a process in it.</param>
/// <param name="Inode">The namespace's nsfs inode (what <c>ls -i /run/netns/blue</c> and
/// <c>readlink /proc/PID/ns/net</c> show).</param>
public sealed record NamespaceInfo(string? Name, string Path, ulong Inode)
{
    /// <summary>Processes whose network namespace it is, ascending (filled in by process scans; empty otherwise).</summary>
    public IReadOnlyList<int> Pids { get; init; } = [];

    /// <inheritdoc/>
    public override string ToString() => Name ?? Path;
}

/// <summary>One change, de-duplicated: a namespace is reported <see cref="NamespaceEventKind.Created"/> once however
/// many mechanisms saw it (inotify, the mount table, an nsid, a rescan), and <see cref="NamespaceEventKind.Deleted"/>
/// once.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Name">The namespace's name; null for an unnamed namespace and for directory events.</param>
/// <param name="Path">The namespace's path, or the directory's for directory events.</param>
/// <param name="Inode">The namespace's inode; 0 for directory events.</param>
public sealed record NamespaceEvent(NamespaceEventKind Kind, string? Name, string Path, ulong Inode)
{
    /// <summary>For an unnamed namespace, the processes seen holding it when it was reported.</summary>
    public IReadOnlyList<int> Pids { get; init; } = [];

    /// <summary>The event for <paramref name="ns"/>.</summary>
    internal static NamespaceEvent Of(NamespaceEventKind kind, NamespaceInfo ns) => new(kind, ns.Name, ns.Path, ns.Inode) { Pids = ns.Pids };

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        NamespaceEventKind.DirectoryCreated or NamespaceEventKind.DirectoryRemoved => Kind + " " + Path,
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Kind} {Name ?? Path} (inode {Inode})"),
    };
}
