using System.Runtime.InteropServices;

namespace Aether.Netlink;

/// <summary>Names and texts of the errno values the kernel returns over netlink.</summary>
public static class Errno
{
    private static readonly string[] Names =
    [
        "0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
    ];

    /// <summary>EPERM.</summary>
    public const int EPERM = 1;

    /// <summary>ENOENT.</summary>
    public const int ENOENT = 2;

    /// <summary>ESRCH.</summary>
    public const int ESRCH = 3;

    /// <summary>EINTR.</summary>
    public const int EINTR = 4;

    /// <summary>EAGAIN.</summary>
    public const int EAGAIN = 11;

    /// <summary>EBUSY.</summary>
    public const int EBUSY = 16;

    /// <summary>EEXIST.</summary>
    public const int EEXIST = 17;

    /// <summary>ENODEV.</summary>
    public const int ENODEV = 19;

    /// <summary>EINVAL.</summary>
    public const int EINVAL = 22;

    /// <summary>ENOTTY: an ioctl the file (or the kernel) does not know.</summary>
    public const int ENOTTY = 25;

    /// <summary>EOPNOTSUPP.</summary>
    public const int EOPNOTSUPP = 95;

    /// <summary>ENOBUFS: a netlink socket's receive queue overflowed and messages were dropped.</summary>
    public const int ENOBUFS = 105;

    /// <summary>EADDRNOTAVAIL.</summary>
    public const int EADDRNOTAVAIL = 99;

    /// <summary>EAFNOSUPPORT.</summary>
    public const int EAFNOSUPPORT = 97;

    /// <summary>ENOTSUP alias used by some kernels.</summary>
    public const int ENOTSUPP = 524;

    /// <summary>The symbolic name of an errno value (<c>EEXIST</c>), or its number.</summary>
    public static string Name(int errno) => errno switch
    {
        >= 0 when errno < Names.Length => Names[errno],
        61 => "ENODATA",
        71 => "EPROTO",
        90 => "EMSGSIZE",
        93 => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        101 => "ENETUNREACH",
        ENOBUFS => "ENOBUFS",
        110 => "ETIMEDOUT",
        113 => "EHOSTUNREACH",
        ENOTSUPP => "ENOTSUPP",
        _ => "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The C library's text for an errno value (<c>File exists</c>).</summary>
    public static string Message(int errno) => errno == ENOTSUPP ? "Operation not supported" : Marshal.GetPInvokeErrorMessage(errno);
}
