using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Hub;

/// <summary>
/// A container reference opened and checked: its network namespace, and for a process (<c>pid:N</c>,
/// <c>/proc/N/ns/net</c>) the pidfd that pins which process it is. Nothing but a network namespace is accepted
/// (see <see cref="NetworkNamespace.OpenVerified"/>: a FIFO, a device or a regular file is never opened for reading);
/// a process is pinned before its namespace is opened and checked alive after, so a pid reused in between is
/// caught rather than followed into another process's namespace.
/// </summary>
internal sealed class OpenedContainer : IDisposable
{
    /// <summary>What a container reference may be, for messages.</summary>
    public const string Allowed = "it must be a network namespace: a name under /run/netns, the path of a network namespace file (/proc/PID/ns/net, a bind mount of one), or containerPid";

    private int _pidfd;

    private OpenedContainer(NetworkNamespace ns, int? pid, int pidfd)
    {
        Namespace = ns;
        Pid = pid;
        _pidfd = pidfd;
    }

    /// <summary>The namespace, open.</summary>
    public NetworkNamespace Namespace { get; private set; }

    /// <summary>The process it belongs to, or null.</summary>
    public int? Pid { get; }

    /// <summary>The process a reference names (<c>pid:N</c>, <c>/proc/N/ns/net</c>), or null.</summary>
    public static int? PidOf(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.StartsWith("pid:", StringComparison.Ordinal))
        {
            return int.Parse(reference.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return reference.StartsWith("/proc/", StringComparison.Ordinal) && reference.EndsWith("/ns/net", StringComparison.Ordinal)
            && int.TryParse(reference.AsSpan(6, reference.Length - 6 - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid : null;
    }

    /// <summary>Opens <paramref name="reference"/>: a name (<c>/run/netns/NAME</c>, a symbolic link there refused),
    /// an absolute path, or <c>pid:N</c>.</summary>
    /// <exception cref="NotANetworkNamespaceException">It is there but is not a network namespace.</exception>
    /// <exception cref="NetlinkException">It cannot be opened; <c>ESRCH</c> when the process is not there (or
    /// exited while its namespace was being opened).</exception>
    public static OpenedContainer Open(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (PidOf(reference) is { } pid)
        {
            return OpenProcess(pid);
        }

        var ns = reference.StartsWith('/')
            ? NetworkNamespace.OpenVerified(reference, followSymlinks: true)
            : NetworkNamespace.OpenVerified(NetworkNamespace.RunDirectory + "/" + NamespaceName(reference), followSymlinks: false);
        return new OpenedContainer(ns, null, -1);
    }

    /// <summary>Whether the pinned process still runs (true when none is pinned).</summary>
    public bool ProcessAlive() => _pidfd < 0 || IsAlive(_pidfd);

    /// <summary>Whether the process behind <paramref name="pidfd"/> still runs.</summary>
    public static bool IsAlive(int pidfd) => Libc.PidfdSendSignal(pidfd, 0, 0, 0) == 0 || Marshal.GetLastPInvokeError() != Errno.ESRCH;

    /// <summary>Hands the namespace and the pidfd (or -1) over to the caller, who closes them.</summary>
    public (NetworkNamespace Namespace, int PidFd) Take()
    {
        var taken = (Namespace, _pidfd);
        Namespace = null!;
        _pidfd = -1;
        return taken;
    }

    /// <summary>Closes what was not taken.</summary>
    public void Dispose()
    {
        Namespace?.Dispose();
        Namespace = null!;
        if (_pidfd >= 0)
        {
            Libc.Close(_pidfd);
            _pidfd = -1;
        }
    }

    private static string NamespaceName(string name)
    {
        NetworkNamespace.ValidateName(name);
        return name;
    }

    private static OpenedContainer OpenProcess(int pid)
    {
        var target = string.Create(CultureInfo.InvariantCulture, $"process {pid}");
        int pidfd;
        try
        {
            pidfd = Libc.PidfdOpen(pid, 0);
        }
        catch (EntryPointNotFoundException)
        {
            pidfd = -2; // no pidfds in this C library: unpinned, as before
        }

        if (pidfd == -1)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.ENOSYS)
            {
                throw new NetlinkException(errno, "pidfd_open", target);
            }
        }

        var ns = default(NetworkNamespace);
        try
        {
            ns = NetworkNamespace.OpenVerified(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/ns/net"), followSymlinks: true);
            if (pidfd >= 0 && !IsAlive(pidfd))
            {
                // It exited while its /proc entry was opened: that entry may be another process's under the same pid.
                throw new NetlinkException(Errno.ESRCH, "open namespace of", target, "the process exited while its namespace was opened");
            }

            return new OpenedContainer(ns, pid, pidfd < 0 ? -1 : pidfd);
        }
        catch
        {
            ns?.Dispose();
            if (pidfd >= 0)
            {
                Libc.Close(pidfd);
            }

            throw;
        }
    }
}
