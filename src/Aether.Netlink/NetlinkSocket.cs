using System.Buffers;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Netlink;

/// <summary>
/// A netlink socket of any protocol, bound for life to the network namespace it was opened in.
/// Requests are matched to replies by sequence number and the sender is checked to be the kernel.
/// Not thread-safe on its own: <see cref="NetlinkHandle"/> serialises access with <see cref="Gate"/>.
/// </summary>
public sealed partial class NetlinkSocket : IDisposable
{
    /// <summary>The receive buffer size: the kernel never builds a dump part larger than 32 KiB for a reader offering more.</summary>
    internal const int ReceiveBufferLength = 64 * 1024;

    // Null while a reclaimable socket is released (see NetlinkSocket.Budget.cs): it is opened again on the next use.
    private SafeFdHandle? _fd;
    private uint _sequence;
    private volatile bool _disposed;

    private NetlinkSocket(SafeFdHandle fd, NetlinkProtocol protocol, uint portId)
    {
        _fd = fd;
        Protocol = protocol;
        PortId = portId;
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>The protocol family.</summary>
    public NetlinkProtocol Protocol { get; }

    /// <summary>The port id the kernel gave this socket (<c>nl_pid</c>); a reclaimable socket opened again gets a new one.</summary>
    public uint PortId { get; private set; }

    /// <summary>Serialises requests on this socket.</summary>
    internal SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsClosed => _disposed;

    /// <summary>Opens a socket in <paramref name="target"/> (or the process's namespace when null).
    /// Opening in another namespace happens on a dedicated short-lived thread.</summary>
    /// <remarks>The process's namespace is the one <c>/proc/self/ns/net</c> names. When the calling thread is somewhere
    /// else (code outside this library called <c>setns</c> on it), the socket is opened on a namespace thread inside
    /// the process's namespace instead, so it is never bound to a stray namespace.</remarks>
    public static NetlinkSocket Open(NetlinkProtocol protocol, NetworkNamespace? target = null, NetlinkSocketOptions? options = null)
    {
        options ??= NetlinkSocketOptions.Default;
        if (target is null)
        {
            if (Libc.InodeOf("/proc/thread-self/ns/net") == Libc.InodeOf("/proc/self/ns/net"))
            {
                return OpenHere(protocol, options, groups: 0);
            }

            using var process = NetworkNamespace.OpenCurrent();
            return Open(protocol, process, options);
        }

        return NamespaceThread.Run(target, static s => OpenHere(s.protocol, s.options, 0), (protocol, options));
    }

    /// <summary>Opens a socket in the namespace of the calling thread. Callers outside a namespace thread use <see cref="Open"/>.</summary>
    internal static NetlinkSocket OpenHere(NetlinkProtocol protocol, NetlinkSocketOptions options, uint groups)
    {
        var (handle, portId) = OpenDescriptorHere(protocol, options, groups);
        return new NetlinkSocket(handle, protocol, portId);
    }

    /// <summary>Opens, tunes and binds a socket in the calling thread's namespace: its descriptor and port id.</summary>
    private static unsafe (SafeFdHandle Handle, uint PortId) OpenDescriptorHere(NetlinkProtocol protocol, NetlinkSocketOptions options, uint groups)
    {
        if (options.ReplyTimeout is { } wait && wait < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"invalid reply timeout {wait}: at least 1 ms, or null to wait for ever", nameof(options));
        }

        if (options.ReceiveBufferSize is <= 0 || options.SendBufferSize is <= 0)
        {
            throw new ArgumentException("socket buffer sizes must be positive", nameof(options));
        }

        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, (int)protocol);
        if (fd < 0)
        {
            throw NetlinkException.FromLastError("open netlink socket", protocol.ToString());
        }

        var handle = new SafeFdHandle(fd);
        try
        {
            SetFlag(fd, NetlinkSockOpt.ExtAck, options.ExtendedAck);
            SetFlag(fd, NetlinkSockOpt.CapAck, options.CappedAck);
            if (options.StrictChecking)
            {
                SetFlag(fd, NetlinkSockOpt.GetStrictChk, true);
            }

            if (options.ReceiveBufferSize is int rcv)
            {
                SetBuffer(fd, Libc.SO_RCVBUFFORCE, Libc.SO_RCVBUF, rcv);
            }

            if (options.SendBufferSize is int snd)
            {
                SetBuffer(fd, Libc.SO_SNDBUFFORCE, Libc.SO_SNDBUF, snd);
            }

            if (options.ReplyTimeout is { } timeout)
            {
                var tv = new Libc.TimeVal { Seconds = (nint)(timeout.Ticks / TimeSpan.TicksPerSecond), Microseconds = (nint)(timeout.Ticks % TimeSpan.TicksPerSecond / 10) };
                if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, &tv, sizeof(Libc.TimeVal)) != 0)
                {
                    throw NetlinkException.FromLastError("set reply timeout", protocol.ToString());
                }
            }

            var addr = new Libc.SockaddrNl { Family = Libc.AF_NETLINK, Groups = groups };
            if (Libc.Bind(fd, &addr, sizeof(Libc.SockaddrNl)) != 0)
            {
                throw NetlinkException.FromLastError("bind netlink socket", protocol.ToString());
            }

            var len = sizeof(Libc.SockaddrNl);
            if (Libc.GetSockName(fd, &addr, &len) != 0)
            {
                throw NetlinkException.FromLastError("getsockname", protocol.ToString());
            }

            return (handle, addr.Pid);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Joins a multicast group (<c>NETLINK_ADD_MEMBERSHIP</c>), such as <c>RTNLGRP_LINK</c>.</summary>
    public unsafe void JoinGroup(uint group)
    {
        var value = group;
        if (Libc.SetSockOpt(Fd, Libc.SOL_NETLINK, NetlinkSockOpt.AddMembership, &value, sizeof(uint)) != 0)
        {
            throw NetlinkException.FromLastError("join multicast group", group.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The next request sequence number.</summary>
    /// <remarks>Thread-safe: a batch being filled and a request on the handle may take numbers at the same time.</remarks>
    public uint NextSequence()
    {
        var next = Interlocked.Increment(ref _sequence);
        return next != 0 ? next : Interlocked.Increment(ref _sequence);
    }

    /// <summary>Sends bytes holding one or more complete messages to the kernel in one <c>sendto</c>.</summary>
    public unsafe void Send(ReadOnlySpan<byte> messages)
    {
        var addr = new Libc.SockaddrNl { Family = Libc.AF_NETLINK };
        fixed (byte* p = messages)
        {
            while (true)
            {
                var n = Libc.SendTo(Fd, p, messages.Length, 0, &addr, sizeof(Libc.SockaddrNl));
                if (n >= 0)
                {
                    return;
                }

                if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw NetlinkException.FromLastError("send netlink message", Protocol.ToString());
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> and returns its length, skipping anything not sent by the
    /// kernel. Throws <see cref="NetlinkException"/> with <c>ENOBUFS</c> when the receive queue overflowed.
    /// </summary>
    public unsafe int Receive(Span<byte> buffer, bool nonBlocking = false)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var addr = default(Libc.SockaddrNl);
                var len = sizeof(Libc.SockaddrNl);
                var n = Libc.RecvFrom(Fd, p, buffer.Length, Libc.MSG_TRUNC | (nonBlocking ? Libc.MSG_DONTWAIT : 0), &addr, &len);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (nonBlocking && errno == Errno.EAGAIN)
                    {
                        return 0;
                    }

                    if (errno == Errno.EAGAIN)
                    {
                        // SO_RCVTIMEO ran out: the kernel (or the family) did not answer in time.
                        throw new NetlinkException(Errno.ETIMEDOUT, "receive netlink reply", Protocol.ToString(), "no answer within the reply timeout");
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

                return (int)n;
            }
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _budget?.Forget(this); // no longer a candidate for release: its gate goes next
        _fd?.Dispose();
        Gate.Dispose();
    }

    /// <summary>The raw descriptor (for poll). A released reclaimable socket is opened again first: the request paths
    /// do that under <see cref="Gate"/> (<see cref="EnterAsync"/>), so nothing releases it while they use it.</summary>
    internal int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (int)(_fd ?? ReopenOutsideGate()).DangerousGetHandle();
        }
    }

    internal static byte[] RentReceiveBuffer() => ArrayPool<byte>.Shared.Rent(ReceiveBufferLength);

    internal static void ReturnReceiveBuffer(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    private static unsafe void SetFlag(int fd, int option, bool on)
    {
        var value = on ? 1 : 0;
        if (Libc.SetSockOpt(fd, Libc.SOL_NETLINK, option, &value, sizeof(int)) != 0 && on)
        {
            throw NetlinkException.FromLastError("set netlink socket option", option.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static unsafe void SetBuffer(int fd, int forced, int plain, int size)
    {
        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, forced, &size, sizeof(int)) == 0)
        {
            return;
        }

        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, plain, &size, sizeof(int)) != 0)
        {
            throw NetlinkException.FromLastError("set socket buffer", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    internal sealed class SafeFdHandle : SafeHandle
    {
        public SafeFdHandle(int fd)
            : base(-1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
    }
}
