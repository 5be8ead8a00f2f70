using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Netlink.Monitoring;

/// <summary>What a <see cref="NetlinkReactor"/> hands a registered socket's datagrams to. Called on the reactor's
/// thread, one call at a time per registration; it must not block (it writes to a channel).</summary>
internal interface IReactorClient
{
    /// <summary>One received datagram, valid only during the call (it lives in the reactor's single buffer).</summary>
    void OnDatagram(ReadOnlySpan<byte> datagram);

    /// <summary>The socket's receive queue overflowed (<c>ENOBUFS</c>): announcements were lost. Reading goes on.</summary>
    void OnOverrun();

    /// <summary>Reading failed for good; the registration is already removed.</summary>
    void OnFailure(Exception error);
}

/// <summary>A client of a <c>NETLINK_LISTEN_ALL_NSID</c> socket: each datagram comes with the nsid of the namespace
/// that announced it (<see cref="Rtnl.NsId.NotAssigned"/> for the socket's own), and
/// <see cref="IReactorClient.OnDatagram"/> is not called.</summary>
internal interface IAllNamespacesReactorClient : IReactorClient
{
    /// <summary>One received datagram and its namespace's nsid, valid only during the call.</summary>
    void OnDatagram(ReadOnlySpan<byte> datagram, int nsid);
}

/// <summary>
/// One epoll loop on one thread that reads every monitor socket of the process (rtnetlink monitors, nf_tables
/// and other multicast readers), instead of a thread and a wake eventfd per socket. The sockets are opened wherever
/// their namespace is (a namespace thread) and read here: a netlink socket stays bound to the namespace it was opened
/// in, whichever thread reads it.
/// <list type="bullet">
/// <item>The epoll data of a socket is its registration id, never its descriptor: an event for a descriptor that was
/// closed and reused by another registration finds no registration (or the new one, which then reads its own
/// socket) and is dropped.</item>
/// <item>Each readiness is read until <c>EAGAIN</c> into the reactor's one receive buffer (no buffer per socket).</item>
/// <item><see cref="Registration.Dispose"/> guarantees that no datagram is dispatched after it returns; only then may
/// the owner close the socket.</item>
/// </list>
/// </summary>
internal sealed class NetlinkReactor : IDisposable
{
    /// <summary>The registration id of the reactor's own wake eventfd (only <see cref="Dispose"/> uses it).</summary>
    private const ulong WakeId = 0;
    private const int MaxEvents = 256;
    private static readonly Lazy<NetlinkReactor> SharedInstance = new(() => new NetlinkReactor(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Registration> _registrations = [];
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(NetlinkSocket.ReceiveBufferLength, pinned: true);
    private readonly Thread _thread;
    private ulong _nextId;

    /// <summary>Starts a reactor of its own (tests; the process uses <see cref="Shared"/>).</summary>
    internal unsafe NetlinkReactor()
    {
        _epoll = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw NetlinkException.FromLastError("epoll_create1", "netlink reactor");
        }

        _wakeFd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        var ev = stackalloc byte[16];
        *(uint*)ev = Libc.EPOLLIN;
        *(ulong*)(ev + Libc.EpollDataOffset) = WakeId;
        if (_wakeFd < 0 || Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, _wakeFd, ev) != 0)
        {
            var error = NetlinkException.FromLastError("eventfd", "netlink reactor");
            Libc.Close(_epoll);
            throw error;
        }

        _thread = new Thread(Run, 256 * 1024) { IsBackground = true, Name = "aether-reactor" };
        _thread.UnsafeStart();
    }

    /// <summary>The process's reactor, started on first use; it lives as long as the process.</summary>
    public static NetlinkReactor Shared => SharedInstance.Value;

    /// <summary>How many sockets are registered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _registrations.Count;
            }
        }
    }

    /// <summary>Whether the calling thread is the reactor's.</summary>
    public bool IsReactorThread => Thread.CurrentThread == _thread;

    /// <summary>Starts reading <paramref name="socket"/> for <paramref name="client"/>. The caller keeps owning the
    /// socket: it disposes the registration first, then closes the socket.</summary>
    /// <exception cref="NetlinkException"><c>epoll_ctl</c> refused (errno).</exception>
    public unsafe Registration Register(NetlinkSocket socket, IReactorClient client)
    {
        Registration registration;
        lock (_lock)
        {
            registration = new Registration(this, ++_nextId, socket, client);
            _registrations.Add(registration.Id, registration);
        }

        var ev = stackalloc byte[16];
        *(uint*)ev = Libc.EPOLLIN;
        *(ulong*)(ev + Libc.EpollDataOffset) = registration.Id;
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, socket.Fd, ev) != 0)
        {
            var error = NetlinkException.FromLastError("epoll_ctl add", socket.Protocol + " monitor");
            lock (_lock)
            {
                _registrations.Remove(registration.Id);
            }

            throw error;
        }

        return registration;
    }

    /// <summary>Removes a registration; once it returns, nothing more is dispatched to it (a dispatch under way on the
    /// reactor's thread is waited for, unless it is the caller).</summary>
    private unsafe void Unregister(Registration registration)
    {
        bool removed;
        lock (_lock)
        {
            removed = _registrations.Remove(registration.Id);
        }

        registration.Stopping = true; // a drain under way stops at its next datagram
        if (removed && !registration.Socket.IsClosed)
        {
            var ev = stackalloc byte[16];
            Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, registration.Socket.Fd, ev); // failure: the socket is closed next anyway
        }

        lock (registration.Gate)
        {
            registration.Closed = true;
        }
    }

    private unsafe void Run()
    {
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Libc.EpollEventSize));
        try
        {
            while (true)
            {
                var n = Libc.EpollWait(_epoll, events, MaxEvents, -1);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }

                    FailAll(NetlinkException.FromLastError("epoll_wait", "netlink reactor"));
                    return;
                }

                for (var i = 0; i < n; i++)
                {
                    var id = *(ulong*)(events + (i * Libc.EpollEventSize) + Libc.EpollDataOffset);
                    if (id == WakeId)
                    {
                        return; // disposed
                    }

                    Registration? registration;
                    lock (_lock)
                    {
                        _registrations.TryGetValue(id, out registration);
                    }

                    if (registration is not null)
                    {
                        Drain(registration);
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    /// <summary>Reads one registration's socket until <c>EAGAIN</c>.</summary>
    private void Drain(Registration registration)
    {
        lock (registration.Gate)
        {
            while (!registration.Closed && !registration.Stopping)
            {
                int n;
                var nsid = Rtnl.NsId.NotAssigned;
                var all = registration.Client as IAllNamespacesReactorClient;
                try
                {
                    n = all is null ? registration.Socket.Receive(_buffer, nonBlocking: true) : registration.Socket.ReceiveWithNsid(_buffer, nonBlocking: true, out nsid);
                }
                catch (NetlinkException ex) when (ex.Errno == Errno.ENOBUFS)
                {
                    registration.Client.OnOverrun();
                    continue;
                }
                catch (Exception ex) when (ex is NetlinkException or ObjectDisposedException)
                {
                    Unregister(registration);
                    registration.Client.OnFailure(ex);
                    return;
                }

                if (n == 0)
                {
                    return;
                }

                if (all is null)
                {
                    registration.Client.OnDatagram(_buffer.AsSpan(0, n));
                }
                else
                {
                    all.OnDatagram(_buffer.AsSpan(0, n), nsid);
                }
            }
        }
    }

    /// <summary>Stops the thread and closes the reactor's descriptors (a reactor of its own; the shared one lives as
    /// long as the process). Registrations left are failed.</summary>
    public unsafe void Dispose()
    {
        ulong one = 1;
        Libc.Write(_wakeFd, &one, sizeof(ulong));
        if (!IsReactorThread)
        {
            _thread.Join();
        }

        FailAll(new ObjectDisposedException(nameof(NetlinkReactor)));
        Libc.Close(_wakeFd);
        Libc.Close(_epoll);
    }

    private void FailAll(Exception error)
    {
        List<Registration> all;
        lock (_lock)
        {
            all = [.. _registrations.Values];
        }

        foreach (var registration in all)
        {
            Unregister(registration);
            registration.Client.OnFailure(error);
        }
    }

    /// <summary>One socket read by the reactor; disposing it stops the reading.</summary>
    internal sealed class Registration : IDisposable
    {
        private readonly NetlinkReactor _reactor;

        public Registration(NetlinkReactor reactor, ulong id, NetlinkSocket socket, IReactorClient client)
        {
            _reactor = reactor;
            Id = id;
            Socket = socket;
            Client = client;
        }

        public ulong Id { get; }

        public NetlinkSocket Socket { get; }

        public IReactorClient Client { get; }

        /// <summary>Held while the registration's datagrams are dispatched.</summary>
        public Lock Gate { get; } = new();

        /// <summary>Set first by an unregistering thread: the drain stops before its next datagram.</summary>
        public volatile bool Stopping;

        /// <summary>Set (under <see cref="Gate"/>) when nothing more may be dispatched.</summary>
        public bool Closed { get; set; }

        /// <summary>Stops the reading: no dispatch after it returns. The socket stays open (its owner closes it).</summary>
        public void Dispose() => _reactor.Unregister(this);
    }
}
