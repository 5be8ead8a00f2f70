using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink;

/// <summary>
/// A route-family (rtnetlink) handle bound to one network namespace for its whole life: links, addresses, routes,
/// neighbours, namespace ids and monitors. The socket is opened inside the namespace at construction, on a dedicated
/// thread; afterwards the handle works from any thread and never changes any thread's namespace.
/// Safe for concurrent use: requests on one handle are serialised, handles are independent.
/// </summary>
public sealed partial class NetlinkHandle : IDisposable
{
    /// <summary>The loopback's ifindex, the same in every network namespace.</summary>
    internal const int LoopbackIndex = 1;

    private readonly NetlinkSocket _socket;
    private readonly NetlinkSocketOptions _options;
    private readonly bool _ownsNamespace;

    private NetlinkHandle(NetlinkSocket socket, NetworkNamespace? ns, NetlinkSocketOptions options, bool ownsNamespace = true)
    {
        _socket = socket;
        Namespace = ns;
        _options = options;
        _ownsNamespace = ownsNamespace;
    }

    /// <summary>The namespace the handle is bound to (its own duplicate), or null for the process's namespace.</summary>
    public NetworkNamespace? Namespace { get; }

    /// <summary>The underlying socket, for requests this class does not wrap.</summary>
    public NetlinkSocket Socket => _socket;

    /// <summary>Opens a handle in the process's own network namespace.</summary>
    /// <remarks>The process's namespace is the one <c>/proc/self/ns/net</c> names. When the calling thread is
    /// somewhere else (code outside this library called <c>setns</c> on it), the socket is opened on a namespace
    /// thread inside the process's namespace instead, so the handle is never bound to a stray namespace.</remarks>
    public static NetlinkHandle Open(NetlinkSocketOptions? options = null)
    {
        options ??= NetlinkSocketOptions.Default;
        return new NetlinkHandle(NetlinkSocket.Open(NetlinkProtocol.Route, target: null, options), null, options);
    }

    /// <summary>Opens a handle bound to <paramref name="target"/>. The handle keeps its own duplicate of the namespace.</summary>
    public static NetlinkHandle OpenAt(NetworkNamespace target, NetlinkSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ObjectDisposedException.ThrowIf(target.IsClosed, target);
        options ??= NetlinkSocketOptions.Default;
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, target, options);
        return new NetlinkHandle(socket, target.Duplicate(), options);
    }

    /// <summary>Opens a handle bound to <paramref name="target"/> without a duplicate of it, on a socket the process's
    /// <see cref="SocketBudget"/> may close while it is idle (opened again by the next request): the caller keeps
    /// <paramref name="target"/> open until the handle is disposed. A session over thousands of namespaces holds
    /// about one descriptor per namespace, not three.</summary>
    internal static NetlinkHandle OpenBorrowing(NetworkNamespace target, NetlinkSocketOptions? options = null, SocketBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ObjectDisposedException.ThrowIf(target.IsClosed, target);
        options ??= NetlinkSocketOptions.Default;
        return new NetlinkHandle(NetlinkSocket.OpenReclaimable(NetlinkProtocol.Route, target, options, budget ?? SocketBudget.Shared), target, options, ownsNamespace: false);
    }

    /// <summary>Opens a handle in each of <paramref name="targets"/> as <see cref="OpenBorrowing"/> does, the sockets
    /// opened by the namespace threads in a few jobs (a session reading a thousand namespaces: a few hand-offs between
    /// threads instead of a thousand). Each slot holds the handle, or the error opening it gave.</summary>
    internal static (NetlinkHandle? Handle, Exception? Error)[] OpenManyBorrowing(IReadOnlyList<NetworkNamespace> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var options = NetlinkSocketOptions.Default;
        var sockets = NamespaceThread.RunEach(targets, static o => OpenHere(o), options);
        var handles = new (NetlinkHandle? Handle, Exception? Error)[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            handles[i] = sockets[i] is ({ } socket, null)
                ? (new NetlinkHandle(socket.Reclaimable(targets[i], options, SocketBudget.Shared), targets[i], options, ownsNamespace: false), null)
                : (null, sockets[i].Error);
        }

        return handles;

        static NetlinkSocket OpenHere(NetlinkSocketOptions options) => NetlinkSocket.OpenHere(NetlinkProtocol.Route, options, groups: 0);
    }

    /// <summary>Creates each named namespace as <see cref="CreateNamespace"/> does, several at once (see
    /// <see cref="NetworkNamespace.CreateEach"/>), each with a handle that borrows it (as <see cref="OpenBorrowing"/>'s
    /// does): the caller disposes the handle, then the namespace. After the first failure no name is started; a name
    /// not started has neither a namespace nor an error.</summary>
    internal static ((NetworkNamespace Namespace, NetlinkHandle Handle)? Made, Exception? Error)[] CreateNamespacesBorrowing((string Name, NamespaceBatch? Batch)[] names, string? mark)
    {
        var options = NetlinkSocketOptions.Default;
        var results = new ((NetworkNamespace Namespace, NetlinkHandle Handle)? Made, Exception? Error)[names.Length];
        // In shares of a quarter of the socket budget: each share's sockets join the budget (which closes the ones
        // over it) before the next share opens more. All at once, 10,000 new namespaces held 10,000 sockets besides
        // their 10,000 descriptors, past a limit of 20,000 (EMFILE).
        var share = Math.Max(1, SocketBudget.Shared.Limit / 4);
        for (var start = 0; start < names.Length; start += share)
        {
            var part = share >= names.Length ? names : names[start..Math.Min(names.Length, start + share)];
            var made = NetworkNamespace.CreateEach(part, static s => OpenMarked(s.options, s.mark), (options, mark));
            var failed = false;
            for (var i = 0; i < made.Length; i++)
            {
                results[start + i] = made[i] is (NetworkNamespace ns, NetlinkSocket socket, null)
                    ? ((ns, new NetlinkHandle(socket.Reclaimable(ns, options, SocketBudget.Shared), ns, options, ownsNamespace: false)), null)
                    : (null, made[i].Error);
                failed |= made[i].Error is not null;
            }

            if (failed)
            {
                break; // as within a share: after the first failure no name is started
            }
        }

        return results;
    }

    /// <summary>Creates the named namespace as <see cref="NetworkNamespace.Create(string)"/> does, and opens a handle
    /// bound to it on the same trip into it (a namespace about to be configured is entered once, not twice: for a
    /// thousand, about 45 ms less). The handle holds its own duplicate of the namespace, as <see cref="OpenAt"/>'s does.
    /// With <paramref name="batch"/>, the namespace is made on the file the batch prepared for it. With
    /// <paramref name="mark"/>, the namespace's loopback gets it as its alias before the namespace is given its name:
    /// whoever finds the namespace by name finds the mark in it, for as long as the namespace lives (a process killed
    /// in between leaves a namespace nobody can reach, which the kernel frees with the thread).</summary>
    /// <exception cref="NetlinkException"><c>EEXIST</c> when the name is taken; the kernel's errno otherwise (the
    /// namespace is removed again when the socket cannot be opened).</exception>
    public static (NetworkNamespace Namespace, NetlinkHandle Handle) CreateNamespace(string name, NamespaceBatch? batch = null, NetlinkSocketOptions? options = null, string? mark = null)
    {
        options ??= NetlinkSocketOptions.Default;
        var ns = NetworkNamespace.Create(name, static s => OpenMarked(s.options, s.mark), (options, mark), out var socket, batch);
        try
        {
            return (ns, new NetlinkHandle(socket, ns.Duplicate(), options));
        }
        catch
        {
            socket.Dispose(); // out of descriptors for the duplicate: the namespace itself stays, made and named
            ns.Dispose();
            throw;
        }
    }

    /// <summary>The mark <see cref="CreateNamespace"/> gave the namespace this handle is in (its loopback's alias), or
    /// null when it has none.</summary>
    public async Task<string?> ReadNamespaceMarkAsync(CancellationToken cancellationToken = default) =>
        (await FindLinkAsync(LoopbackIndex, cancellationToken).ConfigureAwait(false))?.Alias is { Length: > 0 } alias ? alias : null;

    /// <summary>Opens an rtnetlink socket in the calling thread's namespace and, with a mark, sets it on the loopback.</summary>
    private static NetlinkSocket OpenMarked(NetlinkSocketOptions options, string? mark)
    {
        var socket = NetlinkSocket.OpenHere(NetlinkProtocol.Route, options, 0);
        if (mark is null)
        {
            return socket;
        }

        try
        {
            var writer = new NetlinkWriter(256);
            try
            {
                var sequence = socket.NextSequence();
                RtnlRequests.ChangeLink(ref writer, (LoopbackIndex, new LinkChange { Alias = mark }), sequence, socket.PortId);
                socket.Execute(writer.WrittenSpan, sequence, "mark namespace", "lo");
            }
            finally
            {
                writer.Dispose();
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts a batch: many requests sent in one go, acknowledged together.</summary>
    public RouteBatch CreateBatch()
    {
        ThrowIfClosed();
        return new RouteBatch(_socket);
    }

    /// <summary>Closes the socket and the namespace handle.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        if (_ownsNamespace)
        {
            Namespace?.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "netlink handle in " + (Namespace?.ToString() ?? "the process namespace");

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_socket.IsClosed, this);

    private Task<bool> ExecuteAsync<TState>(TState state, WriteRequest<TState> write, string operation, string? target, CancellationToken cancellationToken) =>
        _socket.ExchangeAsync<TState, bool>(state, write, parse: null, operation, target, cancellationToken);

    private Task<T> RequestAsync<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T> parse, string operation, string? target, CancellationToken cancellationToken) =>
        _socket.ExchangeAsync(state, write, parse, operation, target, cancellationToken);

    /// <summary>A dump the kernel interrupted (its table changed while it was read: a namespace torn down, a burst of
    /// changes elsewhere) is read again: twice at once, then after 1, 2, 4… ms (at most 64, jittered), so that a
    /// burst of changes has room to end; after <see cref="NetlinkSocketOptions.DumpAttempts"/> interruptions in a row
    /// the last one is thrown, with what the last read gave.</summary>
    private async Task<IReadOnlyList<T>> DumpAsync<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T> parse, string operation, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        await _socket.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return DumpOnce(state, write, parse, operation);
                }
                catch (DumpInterruptedException<T>) when (attempt < _options.DumpAttempts)
                {
                }

                if (attempt >= 2)
                {
                    var ms = Math.Min(1 << Math.Min(attempt - 2, 6), 64);
                    await Task.Delay(TimeSpan.FromMilliseconds(ms / 2.0 + Random.Shared.NextDouble() * ms / 2.0), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _socket.Gate.Release();
        }
    }

    private IReadOnlyList<T> DumpOnce<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T> parse, string operation)
    {
        var writer = new NetlinkWriter(128);
        try
        {
            var sequence = _socket.NextSequence();
            write(ref writer, state, sequence, _socket.PortId);
            return _socket.Dump(writer.WrittenSpan, sequence, parse, operation);
        }
        finally
        {
            writer.Dispose();
        }
    }
}
