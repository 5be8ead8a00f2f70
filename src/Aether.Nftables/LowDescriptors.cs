using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aether.Netlink;
using Aether.Interop;
using Aether.Nftables.Interop;

namespace Aether.Nftables;

/// <summary>
/// libnftables contexts whose netlink socket has a file descriptor below 1024.
/// <para>
/// libnftables (1.0.6, Debian 12) waits for a transaction's acknowledgements with <c>select()</c> on its socket, and
/// glibc's fortified <c>FD_SET</c> aborts the whole process (<c>*** bit out of range 0 - FD_SETSIZE on fd_set ***</c>)
/// when that descriptor is 1024 or above. A process that manages many namespaces holds that many descriptors (a
/// namespace fd and a socket or two each), so the socket <c>nft_ctx_new</c> opens may well land above 1023.
/// </para>
/// <para>
/// So a few descriptors below 1024 are set aside on <c>/dev/null</c> when this library loads, before it opens anything
/// else. A context whose socket is above 1023 has it moved onto one of them: <c>dup2</c> onto the set-aside slot, the
/// context's socket record (libmnl's <c>struct mnl_socket</c>, whose first field is the descriptor, pointed to by the
/// first field of <c>struct nft_ctx</c>, as in every libnftables release so far) pointed at the slot, and the high
/// descriptor closed. The layout is checked before it is trusted: the descriptor read there must be a
/// <c>NETLINK_NETFILTER</c> socket that was never bound (libnftables leaves binding to the kernel's first send; every
/// socket of this library is bound). When the context is freed, its record is pointed at -1 (libnftables closes that,
/// harmlessly) and the slot goes back onto <c>/dev/null</c> with one <c>dup2</c>: a slot is never free, so no other
/// thread can take it. When the layout does not check out, a context is used only while the process has no
/// descriptor at or above 1024; otherwise the command fails with an error instead of aborting the process.
/// Contexts are short-lived (one command each, serialised by the caller), so two slots are plenty however many
/// namespaces there are.
/// </para>
/// </summary>
internal static class LowDescriptors
{
    /// <summary><c>FD_SETSIZE</c>.</summary>
    private const int Limit = 1024;

    private const int PoolSize = 2;
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
        for (var i = 0; i < PoolSize && _devNull >= 0; i++)
        {
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
    }

    /// <summary>A libnftables context, the address of its socket record (0 when its layout did not check out), and
    /// the set-aside slot its socket sits on (-1 when it needed none).</summary>
    public readonly record struct Context(Libnftables.SafeContextHandle Handle, nint Socket, int Slot);

    /// <summary>
    /// A new libnftables context, made on the calling thread (which must be in the target namespace), whose socket is
    /// below 1024. The caller serialises every use of libnftables, which also guards the set-aside slots.
    /// </summary>
    /// <exception cref="NftablesException">The socket is above 1023 and cannot be moved, or the context cannot be made.</exception>
    public static Context NewContext()
    {
        var ctx = Libnftables.nft_ctx_new(Libnftables.NFT_CTX_DEFAULT);
        if (ctx.IsInvalid)
        {
            ctx.Dispose();
            throw new NftablesException("open nftables context", null, "nft_ctx_new failed", null);
        }

        if (TryFindSocket(ctx, out var socket, out var fd))
        {
            if (fd < Limit)
            {
                return new Context(ctx, socket, -1);
            }

            if (!Pool.TryPop(out var slot))
            {
                ctx.Dispose();
                throw Refused($"its socket is descriptor {fd.ToString(CultureInfo.InvariantCulture)}, and no descriptor below {Limit} is set aside to move it to");
            }

            if (Libc.Dup2(fd, slot) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                Pool.Push(slot);
                ctx.Dispose();
                throw new NetlinkException(errno, "move nftables socket", fd.ToString(CultureInfo.InvariantCulture) + " to " + slot.ToString(CultureInfo.InvariantCulture));
            }

            Marshal.WriteInt32(socket, slot);
            Libc.Close(fd);
            return new Context(ctx, socket, slot);
        }

        if (HighestOpenDescriptor() < Limit)
        {
            return new Context(ctx, 0, -1);
        }

        ctx.Dispose();
        throw Refused($"this libnftables does not keep its socket where its releases so far have, so the socket cannot be moved below {Limit}, and this process holds descriptors at or above {Limit}");
    }

    /// <summary>Frees a context made by <see cref="NewContext"/>, taking its slot back.</summary>
    public static void Release(Context context)
    {
        if (context.Slot >= 0)
        {
            Marshal.WriteInt32(context.Socket, -1); // what nft_ctx_free closes: nothing
            if (Libc.Dup2(_devNull, context.Slot) >= 0)
            {
                Pool.Push(context.Slot); // the socket is closed by the dup2; the slot was never free
            }
            else
            {
                Libc.Close(context.Slot);
            }
        }

        context.Handle.Dispose();
    }

    /// <summary>Reads the context's socket descriptor, and checks it is what it should be: a NETLINK_NETFILTER socket
    /// not bound yet.</summary>
    private static unsafe bool TryFindSocket(Libnftables.SafeContextHandle ctx, out nint socket, out int fd)
    {
        socket = Marshal.ReadIntPtr(ctx.DangerousGetHandle()); // struct nft_ctx { struct mnl_socket *nf_sock; ...
        fd = socket == 0 ? -1 : Marshal.ReadInt32(socket);      // struct mnl_socket { int fd; struct sockaddr_nl addr; }
        if (fd < 0)
        {
            return false;
        }

        int domain = 0, protocol = 0, len = sizeof(int);
        if (Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, &domain, &len) != 0 || domain != Libc.AF_NETLINK)
        {
            return false;
        }

        len = sizeof(int);
        if (Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_PROTOCOL, &protocol, &len) != 0 || protocol != NETLINK_NETFILTER)
        {
            return false;
        }

        var address = default(Libc.SockaddrNl);
        len = sizeof(Libc.SockaddrNl);
        return Libc.GetSockName(fd, &address, &len) == 0 && address.Pid == 0;
    }

    /// <summary>The highest descriptor this process has open.</summary>
    private static int HighestOpenDescriptor()
    {
        var highest = -1;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
            {
                highest = Math.Max(highest, fd);
            }
        }

        return highest;
    }

    private static NftablesException Refused(string why) =>
        new("open nftables context", null, $"{why} (libnftables waits on its socket with select(), which aborts the process above descriptor {Limit - 1})", null);
}
