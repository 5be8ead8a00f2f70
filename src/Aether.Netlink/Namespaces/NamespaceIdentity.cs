using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// Which network namespace this is, for exactly its lifetime: the kernel's namespace cookie (a 64-bit counter the
/// kernel never hands out twice while it runs), with the boot it belongs to (cookies start again at each boot).
/// A name can be deleted and made again, and an nsfs inode number can be reused once a namespace is freed; an
/// identity cannot. Read with <c>NS_GET_ID</c> on the namespace's nsfs file (kernel 6.18 and later), or
/// <c>SO_NETNS_COOKIE</c> on a socket opened inside it (5.14 and later).
/// </summary>
/// <param name="Boot">The kernel's boot id (<c>/proc/sys/kernel/random/boot_id</c>).</param>
/// <param name="Cookie">The namespace's cookie in that boot.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct NamespaceIdentity(Guid Boot, ulong Cookie)
{
    private static readonly Lazy<Guid> CurrentBoot = new(ReadBoot);

    /// <summary>This boot's id.</summary>
    public static Guid ThisBoot => CurrentBoot.Value;

    /// <summary>Whether it was read in this boot (an identity from an earlier boot names no namespace that exists).</summary>
    public bool IsThisBoot => Boot == ThisBoot;

    /// <summary><c>BOOT/COOKIE</c>, as records keep it.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Boot:D}/{Cookie}");

    /// <summary>Reads <see cref="ToString"/>'s form back; false for anything else.</summary>
    public static bool TryParse(string? text, out NamespaceIdentity identity)
    {
        identity = default;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0
            || !Guid.TryParseExact(text.AsSpan(0, slash), "D", out var boot)
            || !ulong.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var cookie))
        {
            return false;
        }

        identity = new NamespaceIdentity(boot, cookie);
        return true;
    }

    /// <summary>The identity of the namespace <paramref name="fd"/> (an nsfs file) refers to.</summary>
    internal static unsafe NamespaceIdentity Of(int fd, NetworkNamespace? ns)
    {
        ulong cookie;
        if (Libc.Ioctl(fd, Libc.NS_GET_ID, (nint)(&cookie)) == 0)
        {
            return new NamespaceIdentity(ThisBoot, cookie);
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno is not (Errno.ENOTTY or Errno.EINVAL) || ns is null)
        {
            throw new NetlinkException(errno, "read namespace id", ns?.ToString() ?? "namespace");
        }

        // An older kernel: the cookie of a socket made inside it.
        return new NamespaceIdentity(ThisBoot, ns.RunInside(SocketCookieHere));
    }

    /// <summary>The cookie of the calling thread's namespace, through a socket opened in it.</summary>
    internal static unsafe ulong SocketCookieHere()
    {
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw NetlinkException.FromLastError("socket", "namespace cookie");
        }

        try
        {
            ulong cookie = 0;
            var length = sizeof(ulong);
            return Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_NETNS_COOKIE, &cookie, &length) == 0
                ? cookie
                : throw NetlinkException.FromLastError("getsockopt SO_NETNS_COOKIE", "namespace cookie");
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    private static Guid ReadBoot() =>
        Guid.TryParse(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), out var boot)
            ? boot
            : throw new InvalidOperationException("/proc/sys/kernel/random/boot_id holds no boot id");
}
