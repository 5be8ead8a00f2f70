using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Generic;

/// <summary>
/// A generic netlink (<c>NETLINK_GENERIC</c>) handle bound to one namespace, like <see cref="NetlinkHandle"/>:
/// resolves families by name; family-specific protocols (WireGuard) build on its socket.
/// </summary>
public sealed partial class GenericNetlinkHandle : IDisposable
{
    private static readonly WriteRequest<string> GetFamily = static (ref NetlinkWriter w, string name, uint seq, uint pid) => GenericFamily.WriteGet(ref w, name, seq, pid);
    private static readonly MessageParser<GenericFamily> ParseFamily = GenericFamily.TryParse;

    private GenericNetlinkHandle(NetlinkSocket socket) => Socket = socket;

    /// <summary>The socket.</summary>
    public NetlinkSocket Socket { get; }

    /// <summary>Opens a handle in <paramref name="target"/>, or in the process's namespace when null.</summary>
    public static GenericNetlinkHandle Open(NetworkNamespace? target = null, NetlinkSocketOptions? options = null) =>
        new(NetlinkSocket.Open(NetlinkProtocol.Generic, target, options));

    /// <summary>Looks a family up by name.</summary>
    /// <exception cref="ArgumentException">The name is empty or longer than <c>GENL_NAMSIZ - 1</c> (15) bytes.</exception>
    /// <exception cref="NetlinkException"><c>ENOENT</c> when the kernel has no such family (the module is not loaded, or the feature is missing).</exception>
    public async Task<GenericFamily> ResolveFamilyAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > 15)
        {
            throw new ArgumentException($"invalid generic netlink family name '{name}': over 15 bytes", nameof(name));
        }

        ObjectDisposedException.ThrowIf(Socket.IsClosed, this);
        return await Socket.ExchangeAsync(name, GetFamily, ParseFamily, "resolve generic netlink family", name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => Socket.Dispose();
}
