using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// Named namespaces about to be created together (an apply that makes a thousand). Each is then made as
/// <see cref="NetworkNamespace.Create(string)"/> makes one, with one difference: the files under
/// <see cref="NetworkNamespace.RunDirectory"/> they are mounted on are made here, up front, as names of one empty inode
/// (hard links) rather than an inode each.
/// <para>
/// Why: making an inode is the dearest part of a namespace's creation on a disk file system. On ext4 without a journal
/// (this project's test machine keeps /run/netns there) every new inode is found by stepping over the inodes deleted in
/// the last minutes, so a thousand creations after a thousand deletions spent a third of their CPU in
/// <c>recently_deleted</c>; linking a name costs a directory entry only (the namespaces of a thousand: about
/// 0.5 s → 0.25 s). On tmpfs both are cheap.
/// </para>
/// <para>
/// Nothing shows the difference once a namespace is mounted: its path then names the namespace's own nsfs inode, and
/// <c>ip netns del</c> unmounts and unlinks one name as it would any other. The files are linked before any of them is
/// mounted (a link to a mount point would cross into nsfs), so there is no extra file: the first name is the inode's
/// first name. Where the file system refuses a link, that name gets a file of its own.
/// </para>
/// </summary>
public sealed class NamespaceBatch : IDisposable
{
    private readonly HashSet<string> _unclaimed;

    private NamespaceBatch(HashSet<string> unclaimed, IReadOnlyList<string> taken)
    {
        _unclaimed = unclaimed;
        Taken = taken;
    }

    /// <summary>With <see cref="PrepareAvailable"/>: the names that were taken already (someone made a namespace, or
    /// a file, under them first), in the order given. Empty with <see cref="Prepare"/>.</summary>
    public IReadOnlyList<string> Taken { get; }

    /// <summary>The names whose files are made and not yet taken by a creation.</summary>
    public int Pending
    {
        get
        {
            lock (_unclaimed)
            {
                return _unclaimed.Count;
            }
        }
    }

    /// <summary>Makes the files for <paramref name="names"/>. All or nothing: when one is taken, the ones made are
    /// removed and the error is the one <see cref="NetworkNamespace.Create(string)"/> would give.</summary>
    /// <exception cref="ArgumentException">An invalid or repeated name.</exception>
    /// <exception cref="NetlinkException"><c>EEXIST</c> when a name is taken; the kernel's errno otherwise.</exception>
    public static NamespaceBatch Prepare(IReadOnlyList<string> names) => PrepareCore(names, skipTaken: false);

    /// <summary>Makes the files for those of <paramref name="names"/> that are free, and lists the others in
    /// <see cref="Taken"/> instead of failing: for a caller that uses a namespace that appeared under one of its names
    /// between its look and its creation.</summary>
    /// <exception cref="ArgumentException">An invalid or repeated name.</exception>
    /// <exception cref="NetlinkException">The kernel's errno, for anything but a taken name.</exception>
    public static NamespaceBatch PrepareAvailable(IReadOnlyList<string> names) => PrepareCore(names, skipTaken: true);

    private static NamespaceBatch PrepareCore(IReadOnlyList<string> names, bool skipTaken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var unique = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            NetworkNamespace.ValidateName(name);
            if (!unique.Add(name))
            {
                throw new ArgumentException($"namespace '{name}' is named twice", nameof(names));
            }
        }

        NetworkNamespace.EnsureRunDirectory();
        var made = new List<string>(names.Count);
        var taken = new List<string>();
        string? anchor = null;
        try
        {
            foreach (var name in names)
            {
                var path = NetworkNamespace.PathOf(name);
                if (anchor is null || Libc.Link(anchor, path) != 0)
                {
                    // The first name, or a file system that refused the link (EXDEV, EPERM, EMLINK at ext4's 65000
                    // links): a file of its own, which the names after it link to. A taken name fails here, EEXIST.
                    try
                    {
                        NetworkNamespace.CreateMountPoint(name);
                    }
                    catch (NetlinkException ex) when (skipTaken && ex.Errno == Errno.EEXIST)
                    {
                        taken.Add(name);
                        unique.Remove(name);
                        continue;
                    }

                    anchor = path;
                }

                made.Add(name);
            }
        }
        catch
        {
            foreach (var name in made)
            {
                Libc.Unlink(NetworkNamespace.PathOf(name));
            }

            throw;
        }

        return new NamespaceBatch(unique, taken);
    }

    /// <summary>Creates the namespace <paramref name="name"/> on its prepared file (safe from several threads).</summary>
    /// <exception cref="ArgumentException">The name is not one of this batch's, or was created already.</exception>
    public NetworkNamespace Create(string name) => NetworkNamespace.Create(name, static _ => 0, 0, out _, this);

    /// <summary>Removes the files of names never created.</summary>
    public void Dispose()
    {
        lock (_unclaimed)
        {
            foreach (var name in _unclaimed)
            {
                Libc.Unlink(NetworkNamespace.PathOf(name));
            }

            _unclaimed.Clear();
        }
    }

    /// <summary>Takes <paramref name="name"/>'s file for a creation, which removes it again if it fails.</summary>
    internal void Claim(string name)
    {
        lock (_unclaimed)
        {
            if (!_unclaimed.Remove(name))
            {
                throw new ArgumentException($"namespace '{name}' is not waiting in this batch", nameof(name));
            }
        }
    }
}
