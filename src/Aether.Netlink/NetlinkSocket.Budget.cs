using Aether.Netlink.Namespaces;

namespace Aether.Netlink;

/// <summary>
/// Reclaimable sockets: a session holding a handle in each of thousands of namespaces keeps one descriptor per
/// namespace (its nsfs descriptor) and lets the <see cref="SocketBudget"/> close request sockets that no request is
/// using, once more are open than it allows. A released socket is opened again in its namespace, on a namespace thread, by the next request (under
/// <see cref="Gate"/>, so nothing is released while a request uses it); it gets a new port id.
/// </summary>
public sealed partial class NetlinkSocket
{
    private SocketBudget? _budget;
    private NetworkNamespace? _home;
    private NetlinkSocketOptions? _homeOptions;

    /// <summary>The socket's index in its budget's list of open sockets, -1 when not there (the budget's, under its
    /// lock).</summary>
    internal int BudgetIndex { get; set; } = -1;

    /// <summary>Whether a reclaimable socket's descriptor is closed until its next use.</summary>
    internal bool IsReleased => _fd is null;

    /// <summary>Opens a socket in <paramref name="home"/> that <paramref name="budget"/> may release while it is not
    /// in use. The caller keeps <paramref name="home"/> open for as long as the socket lives: it is where the socket is
    /// opened again.</summary>
    internal static NetlinkSocket OpenReclaimable(NetlinkProtocol protocol, NetworkNamespace home, NetlinkSocketOptions options, SocketBudget budget) =>
        Open(protocol, home, options).Reclaimable(home, options, budget);

    /// <summary>Lets <paramref name="budget"/> release this socket (opened in <paramref name="home"/> with
    /// <paramref name="options"/>) while it is not in use; returns it.</summary>
    internal NetlinkSocket Reclaimable(NetworkNamespace home, NetlinkSocketOptions options, SocketBudget budget)
    {
        _home = home;
        _homeOptions = options;
        _budget = budget;
        budget.Use(this);
        return this;
    }

    /// <summary>Takes <see cref="Gate"/> for a request, with the descriptor open: every request path enters here.</summary>
    internal async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_budget is { } budget)
        {
            try
            {
                budget.Use(this);
            }
            catch
            {
                Gate.Release();
                throw;
            }
        }
    }

    /// <summary>Closes the descriptor until the next use. Only the budget calls it, holding <see cref="Gate"/>.</summary>
    internal void ReleaseDescriptor()
    {
        var fd = _fd;
        _fd = null;
        fd?.Dispose();
    }

    /// <summary>For a caller of <see cref="Fd"/> outside the request paths: opens a released socket again and counts
    /// it as used (nothing keeps the budget from releasing it again later: only the request paths hold the gate).</summary>
    private SafeFdHandle ReopenOutsideGate()
    {
        _budget?.Use(this);
        return _fd ?? Reopen();
    }

    /// <summary>Opens a released socket again in its namespace (the caller holds <see cref="Gate"/>, or is
    /// <see cref="Fd"/>'s).</summary>
    internal SafeFdHandle Reopen()
    {
        if (_fd is { } open)
        {
            return open;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var home = _home ?? throw new InvalidOperationException("only a reclaimable socket is ever released");
        var (handle, portId) = NamespaceThread.Run(home, static s => OpenDescriptorHere(s.Protocol, s.Options, 0), (Protocol, Options: _homeOptions!));
        PortId = portId;
        _fd = handle;
        return handle;
    }
}
