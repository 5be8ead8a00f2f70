using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink;

/// <summary>
/// <c>NETLINK_LISTEN_ALL_NSID</c>: one socket hears the announcements of every namespace that has an nsid in its own
/// namespace, each datagram with that nsid in a control message (none for the socket's own namespace).
/// </summary>
public sealed partial class NetlinkSocket
{
    /// <summary>Asks for the announcements of every namespace with an nsid here (root in the namespace's owner).</summary>
    internal unsafe void ListenAllNamespaces()
    {
        var on = 1;
        if (Libc.SetSockOpt(Fd, Libc.SOL_NETLINK, Aether.Netlink.Protocol.NetlinkSockOpt.ListenAllNsid, &on, sizeof(int)) != 0)
        {
            throw NetlinkException.FromLastError("listen to all namespaces", Protocol.ToString());
        }
    }

    /// <summary>
    /// Receives one datagram as <see cref="Receive"/> does, with the nsid of the namespace it comes from:
    /// <see cref="Rtnl.NsId.NotAssigned"/> for the socket's own namespace. Returns 0 when nothing is waiting
    /// (<paramref name="nonBlocking"/>).
    /// </summary>
    internal unsafe int ReceiveWithNsid(Span<byte> buffer, bool nonBlocking, out int nsid)
    {
        const int ControlLength = 64;
        var control = stackalloc byte[ControlLength];
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var addr = default(Libc.SockaddrNl);
                var iov = new Libc.IoVec { Base = p, Length = buffer.Length };
                var message = new Libc.MsgHdr { Name = &addr, NameLength = sizeof(Libc.SockaddrNl), Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlLength };
                var n = Libc.RecvMsg(Fd, &message, Libc.MSG_TRUNC | (nonBlocking ? Libc.MSG_DONTWAIT : 0));
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (nonBlocking && errno == Errno.EAGAIN)
                    {
                        nsid = Rtnl.NsId.NotAssigned;
                        return 0;
                    }

                    throw new NetlinkException(errno, "receive netlink message", Protocol.ToString());
                }

                if (n > buffer.Length)
                {
                    throw new NetlinkException(Errno.EMSGSIZE, "receive netlink message", Protocol.ToString(), $"a {n}-byte message did not fit the {buffer.Length}-byte buffer");
                }

                if (addr.Pid != 0)
                {
                    continue; // not from the kernel: never trusted
                }

                nsid = NsidOf(control, (int)message.ControlLength);
                return (int)n;
            }
        }
    }

    /// <summary>The nsid in the control messages, or not assigned when there is none.</summary>
    private static unsafe int NsidOf(byte* control, int length)
    {
        var offset = 0;
        while (offset + Libc.CmsgDataOffset <= length)
        {
            var header = (Libc.CmsgHdr*)(control + offset);
            var size = (int)header->Length;
            if (size < Libc.CmsgDataOffset || offset + size > length)
            {
                break;
            }

            if (header->Level == Libc.SOL_NETLINK && header->Type == Aether.Netlink.Protocol.NetlinkSockOpt.ListenAllNsid && size >= Libc.CmsgDataOffset + sizeof(int))
            {
                return *(int*)(control + offset + Libc.CmsgDataOffset);
            }

            offset += (size + 7) & ~7;
        }

        return Rtnl.NsId.NotAssigned;
    }
}
