using System.Runtime.InteropServices;

namespace Aether.Netlink;

/// <summary>Names and texts of errno values: those the kernel returns over netlink and libc calls return, and every
/// one this code compares against or reports (one named constant each, never a bare number).</summary>
public static class Errno
{
    private static readonly string[] Names =
    [
        "0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
    ];

    /// <summary>EPERM: operation not permitted.</summary>
    public const int EPERM = 1;

    /// <summary>ENOENT: no such file or directory (or object).</summary>
    public const int ENOENT = 2;

    /// <summary>ESRCH: no such process.</summary>
    public const int ESRCH = 3;

    /// <summary>EINTR: interrupted by a signal; the call is retried.</summary>
    public const int EINTR = 4;

    /// <summary>EIO: input/output error.</summary>
    public const int EIO = 5;

    /// <summary>EAGAIN: try again (also <c>EWOULDBLOCK</c>).</summary>
    public const int EAGAIN = 11;

    /// <summary>EWOULDBLOCK: the same value as <see cref="EAGAIN"/> on Linux; a non-blocking call would wait.</summary>
    public const int EWOULDBLOCK = EAGAIN;

    /// <summary>ENOMEM: out of memory.</summary>
    public const int ENOMEM = 12;

    /// <summary>EACCES: permission denied.</summary>
    public const int EACCES = 13;

    /// <summary>EBUSY: device or resource busy.</summary>
    public const int EBUSY = 16;

    /// <summary>EEXIST: the object exists.</summary>
    public const int EEXIST = 17;

    /// <summary>ENODEV: no such device.</summary>
    public const int ENODEV = 19;

    /// <summary>ENOTDIR: a component of the path is not a directory.</summary>
    public const int ENOTDIR = 20;

    /// <summary>EINVAL: invalid argument.</summary>
    public const int EINVAL = 22;

    /// <summary>ENOTTY: an ioctl the file (or the kernel) does not know.</summary>
    public const int ENOTTY = 25;

    /// <summary>ENOSYS: the kernel does not have this call.</summary>
    public const int ENOSYS = 38;

    /// <summary>ENODATA: no data available.</summary>
    public const int ENODATA = 61;

    /// <summary>EPROTO: protocol error (a peer that broke its protocol).</summary>
    public const int EPROTO = 71;

    /// <summary>EMSGSIZE: a message too long for its buffer.</summary>
    public const int EMSGSIZE = 90;

    /// <summary>EPROTONOSUPPORT: protocol not supported.</summary>
    public const int EPROTONOSUPPORT = 93;

    /// <summary>EOPNOTSUPP: operation not supported.</summary>
    public const int EOPNOTSUPP = 95;

    /// <summary>EAFNOSUPPORT: address family not supported.</summary>
    public const int EAFNOSUPPORT = 97;

    /// <summary>EADDRINUSE: address already in use.</summary>
    public const int EADDRINUSE = 98;

    /// <summary>EADDRNOTAVAIL: cannot assign the requested address.</summary>
    public const int EADDRNOTAVAIL = 99;

    /// <summary>ENETDOWN: network is down.</summary>
    public const int ENETDOWN = 100;

    /// <summary>ENETUNREACH: network is unreachable.</summary>
    public const int ENETUNREACH = 101;

    /// <summary>ENOBUFS: a netlink socket's receive queue overflowed and messages were dropped.</summary>
    public const int ENOBUFS = 105;

    /// <summary>ETIMEDOUT: timed out.</summary>
    public const int ETIMEDOUT = 110;

    /// <summary>EHOSTUNREACH: no route to host.</summary>
    public const int EHOSTUNREACH = 113;

    /// <summary>ENOTSUPP: the kernel-internal "not supported" some kernels leak to user space.</summary>
    public const int ENOTSUPP = 524;

    /// <summary>The symbolic name of an errno value (<c>EEXIST</c>), or its number.</summary>
    public static string Name(int errno) => errno switch
    {
        >= 0 when errno < Names.Length => Names[errno],
        ENODATA => "ENODATA",
        EPROTO => "EPROTO",
        EMSGSIZE => "EMSGSIZE",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ENOBUFS => "ENOBUFS",
        ETIMEDOUT => "ETIMEDOUT",
        EHOSTUNREACH => "EHOSTUNREACH",
        ENOTSUPP => "ENOTSUPP",
        _ => "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The C library's text for an errno value (<c>File exists</c>).</summary>
    public static string Message(int errno) => errno == ENOTSUPP ? "Operation not supported" : Marshal.GetPInvokeErrorMessage(errno);
}
