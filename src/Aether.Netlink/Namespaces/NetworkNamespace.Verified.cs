using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

public sealed partial class NetworkNamespace
{
    /// <summary>
    /// Opens <paramref name="path"/> only when it is a network namespace, for paths that come from outside (an API
    /// field). The path is looked up with <c>O_PATH</c> first, which opens nothing: a FIFO is not waited on, a device's
    /// driver is not called. Its type and file system are checked on that descriptor (a namespace file is a regular
    /// file on nsfs), and only then is it opened (<c>O_RDONLY | O_NONBLOCK | O_CLOEXEC</c>, through
    /// <c>/proc/self/fd</c>) and its kind asked (<c>NS_GET_NSTYPE</c> must be <c>CLONE_NEWNET</c>).
    /// </summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="followSymlinks">False for names under <see cref="RunDirectory"/>: a symbolic link there is
    /// refused rather than followed (<c>O_NOFOLLOW</c>). <c>/proc/PID/ns/net</c> is itself a link and needs true.</param>
    /// <exception cref="NotANetworkNamespaceException">It exists but is not a network namespace.</exception>
    /// <exception cref="NetlinkException">It cannot be looked up or opened (<c>ENOENT</c>, <c>EACCES</c>).</exception>
    public static NetworkNamespace OpenVerified(string path, bool followSymlinks = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var name = !followSymlinks && path.StartsWith(RunDirectory + "/", StringComparison.Ordinal) ? path[(RunDirectory.Length + 1)..] : null;
        var pathFd = Libc.Open(path, Libc.O_PATH | Libc.O_CLOEXEC | (followSymlinks ? 0 : Libc.O_NOFOLLOW), 0);
        if (pathFd < 0)
        {
            throw NetlinkException.FromLastError("open namespace", path);
        }

        try
        {
            var errno = Libc.Identify(pathFd, out var id);
            if (errno != 0)
            {
                throw new NetlinkException(errno, "stat namespace", path);
            }

            var type = id.Mode & Libc.S_IFMT;
            if (type != Libc.S_IFREG || !id.SameDevice(NamespaceProbe.Nsfs))
            {
                throw new NotANetworkNamespaceException(path, DescribeType(type));
            }

            var fd = Libc.Open(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{pathFd}"), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                throw NetlinkException.FromLastError("open namespace", path);
            }

            var kind = Libc.Ioctl(fd, Libc.NS_GET_NSTYPE, 0);
            if (kind != Libc.CLONE_NEWNET)
            {
                var why = kind < 0 ? Marshal.GetLastPInvokeError() : 0;
                Libc.Close(fd);
                throw new NotANetworkNamespaceException(path, kind < 0 ? "a file on nsfs that is not a namespace (" + Errno.Name(why) + ")" : DescribeKind(kind));
            }

            return new NetworkNamespace(fd, name, path);
        }
        finally
        {
            Libc.Close(pathFd);
        }
    }

    /// <summary>What a file of type <paramref name="type"/> (<c>S_IFMT</c> bits) is, for a message.</summary>
    private static string DescribeType(int type) => type switch
    {
        Libc.S_IFIFO => "a FIFO",
        Libc.S_IFCHR => "a character device",
        Libc.S_IFBLK => "a block device",
        Libc.S_IFDIR => "a directory",
        Libc.S_IFSOCK => "a socket",
        Libc.S_IFLNK => "a symbolic link",
        Libc.S_IFREG => "a regular file",
        _ => string.Create(CultureInfo.InvariantCulture, $"a file of type 0x{type:x}"),
    };

    /// <summary>What namespace kind a <c>CLONE_NEW*</c> value is, for a message.</summary>
    private static string DescribeKind(int kind) => kind switch
    {
        0x00020000 => "a mount namespace",
        0x02000000 => "a cgroup namespace",
        0x04000000 => "a UTS namespace",
        0x08000000 => "an IPC namespace",
        0x10000000 => "a user namespace",
        0x20000000 => "a PID namespace",
        0x00000080 => "a time namespace",
        _ => string.Create(CultureInfo.InvariantCulture, $"a namespace of type 0x{kind:x}"),
    };
}

/// <summary>A path that exists but is not a network namespace (a FIFO, a regular file, a device, another kind of
/// namespace).</summary>
public sealed class NotANetworkNamespaceException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/>, which is <paramref name="what"/>.</summary>
    public NotANetworkNamespaceException(string path, string what)
        : base($"{path} is {what}, not a network namespace")
    {
        Path = path;
        What = what;
    }

    /// <summary>Creates the exception with no detail.</summary>
    public NotANetworkNamespaceException()
        : this("not a network namespace", new IOException())
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public NotANetworkNamespaceException(string message)
        : base(message)
    {
        Path = string.Empty;
        What = string.Empty;
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NotANetworkNamespaceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = string.Empty;
        What = string.Empty;
    }

    /// <summary>The path.</summary>
    public string Path { get; }

    /// <summary>What it is instead (<c>a FIFO</c>, <c>a mount namespace</c>).</summary>
    public string What { get; }
}
