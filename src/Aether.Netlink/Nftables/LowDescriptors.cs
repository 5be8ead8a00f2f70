using System.Runtime.CompilerServices;
using Aether.Netlink.Interop;

namespace Aether.Netlink.Nftables;

/// <summary>
/// libnftables contexts whose netlink socket has a file descriptor below 1024.
/// <para>
/// libnftables (1.0.6, Debian 12) waits for a transaction's acknowledgements with <c>select()</c> on its socket,
/// and glibc's fortified <c>FD_SET</c> aborts the whole process (<c>*** bit out of range 0 - FD_SETSIZE on fd_set
/// ***</c>) when that descriptor is 1024 or above. A process that manages many namespaces holds that many
/// descriptors (a namespace fd and a socket or two each), so a context opened late would take a high one. The socket
/// is made by <c>nft_ctx_new</c>, which takes the lowest free descriptor, and its number is not exposed; so: a few
/// descriptors below 1024 are set aside on <c>/dev/null</c> when this library loads (before it opens anything else),
/// one is closed right before <c>nft_ctx_new</c>, and the descriptors up to it are looked at before and after to find
/// the new nf_tables socket among them. If another thread took the freed slot first, the context is thrown away and
/// made again. Contexts are short-lived (one command each, serialised by the caller), so a couple of slots suffice
/// however many namespaces there are; a freed slot is taken back after each command.
/// </para>
/// </summary>
internal static class LowDescriptors
{
    /// <summary><c>FD_SETSIZE</c>.</summary>
    private const int Limit = 1024;

    private const int PoolSize = 2;
    private const int Attempts = 4;
    private const int NETLINK_NETFILTER = 12;

    private static readonly Stack<int> Pool = new();
    private static int _devNull = -1;

    /// <summary>Sets the descriptors aside when the assembly loads, while the process's descriptors are still few.</summary>
#pragma warning disable CA2255 // A library module initializer on purpose: it must run before this library opens anything.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Reserve()
    {
        _devNull = Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (_devNull < 0)
        {
            return;
        }

        for (var i = 0; i < PoolSize; i++)
        {
            Refill();
        }
    }

    /// <summary>
    /// A new libnftables context, made on the calling thread (which must be in the target namespace), whose socket is
    /// below 1024. The caller serialises every use of libnftables (so no other context is being made meanwhile).
    /// </summary>
    /// <exception cref="NftablesException">No descriptor below 1024 is free, or the context cannot be made.</exception>
    public static Libnftables.SafeContextHandle NewContext()
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var slot = Take();
            var before = NetfilterSockets(slot);
            Libc.Close(slot);
            var ctx = Libnftables.nft_ctx_new(Libnftables.NFT_CTX_DEFAULT);
            if (ctx.IsInvalid)
            {
                ctx.Dispose();
                Refill();
                throw new NftablesException("open nftables context", null, "nft_ctx_new failed", null);
            }

            var after = NetfilterSockets(slot);
            after.ExceptWith(before);
            if (after.Count > 0)
            {
                return ctx;
            }

            // Another thread took the slot: the context's socket is somewhere above it, maybe above 1023.
            ctx.Dispose();
        }

        throw new NftablesException("open nftables context", null, $"could not give its socket a descriptor below {Limit} in {Attempts} attempts (libnftables waits on it with select())", null);
    }

    /// <summary>Frees a context made by <see cref="NewContext"/> and sets a low descriptor aside again.</summary>
    public static void Release(Libnftables.SafeContextHandle ctx)
    {
        ctx.Dispose();
        Refill();
    }

    /// <summary>A set-aside descriptor, or the lowest free one when none is left.</summary>
    private static int Take()
    {
        if (Pool.TryPop(out var slot))
        {
            return slot;
        }

        slot = _devNull >= 0 ? Libc.Dup(_devNull) : -1;
        if (slot is >= 0 and < Limit)
        {
            return slot;
        }

        if (slot >= 0)
        {
            Libc.Close(slot);
        }

        throw new NftablesException("open nftables context", null, $"every file descriptor below {Limit} is in use, and libnftables waits on its socket with select(), which cannot take a higher one", null);
    }

    /// <summary>Sets the lowest free descriptor aside, when it is below 1024 and the pool is not full.</summary>
    private static void Refill()
    {
        if (_devNull < 0 || Pool.Count >= PoolSize)
        {
            return;
        }

        var fd = Libc.Dup(_devNull);
        if (fd is >= 0 and < Limit)
        {
            Pool.Push(fd);
        }
        else if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }

    /// <summary>The NETLINK_NETFILTER sockets among descriptors 0..<paramref name="upTo"/>, by descriptor and inode.</summary>
    private static unsafe HashSet<(int Fd, ulong Inode)> NetfilterSockets(int upTo)
    {
        var found = new HashSet<(int, ulong)>();
        for (var fd = 0; fd <= upTo; fd++)
        {
            int domain = 0, protocol = 0, len = sizeof(int);
            if (Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, &domain, &len) != 0 || domain != Libc.AF_NETLINK)
            {
                continue;
            }

            len = sizeof(int);
            if (Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_PROTOCOL, &protocol, &len) == 0 && protocol == NETLINK_NETFILTER)
            {
                found.Add((fd, Libc.InodeOf(fd)));
            }
        }

        return found;
    }
}
