using Aether.Netlink.Protocol;

namespace Aether.Netlink.Generic;

/// <summary>Requests of a family's own protocol (WireGuard's get and set), serialised on the handle's socket.</summary>
public sealed partial class GenericNetlinkHandle
{
    /// <summary>Sends one request carrying <c>NLM_F_ACK</c>, written by <paramref name="write"/>, and waits for its
    /// acknowledgement.</summary>
    /// <exception cref="NetlinkException">The kernel refused: errno, extended-ack text, operation and target.</exception>
    public Task ExecuteAsync<TState>(TState state, WriteRequest<TState> write, string operation, string? target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        ObjectDisposedException.ThrowIf(Socket.IsClosed, this);
        return Socket.ExchangeAsync<TState, bool>(state, write, parse: null, operation, target, cancellationToken);
    }

    /// <summary>Sends a dump request written by <paramref name="write"/> and decodes every reply message until
    /// <c>NLMSG_DONE</c> (whose error, if any, is thrown).</summary>
    /// <exception cref="NetlinkException">The kernel refused; <see cref="DumpInterruptedException{T}"/> when it marked
    /// the dump interrupted.</exception>
    public async Task<IReadOnlyList<T>> DumpAsync<TState, T>(TState state, WriteRequest<TState> write, MessageParser<T> parse, string operation, string? target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(parse);
        ObjectDisposedException.ThrowIf(Socket.IsClosed, this);
        await Socket.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = new NetlinkWriter(256);
            try
            {
                var sequence = Socket.NextSequence();
                write(ref writer, state, sequence, Socket.PortId);
                return Socket.Dump(writer.WrittenSpan, sequence, parse, operation, target);
            }
            finally
            {
                writer.Dispose();
            }
        }
        finally
        {
            Socket.Gate.Release();
        }
    }
}
