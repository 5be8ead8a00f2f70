using Aether.Netlink;
using Aether.Netlink.Generic;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.WireGuard.Kernel;

/// <summary>
/// In-kernel WireGuard in one namespace: devices are links of kind <c>wireguard</c> (rtnetlink), configured and read
/// over the <c>wireguard</c> generic netlink family. Both sockets are opened inside the namespace at construction.
/// </summary>
public sealed class KernelWireGuardBackend : IWireGuardBackend
{
    private static readonly WriteRequest<(ushort Family, string Name)> Get =
        static (ref NetlinkWriter w, (ushort Family, string Name) s, uint seq, uint pid) => WgDevice.WriteGet(ref w, s.Family, s.Name, seq, pid);

    private static readonly WriteRequest<(ushort Family, string Name, WireGuardDeviceConfig Config, WgSetMessage Message)> Set =
        static (ref NetlinkWriter w, (ushort Family, string Name, WireGuardDeviceConfig Config, WgSetMessage Message) s, uint seq, uint pid) =>
            WgDevice.WriteSet(ref w, s.Family, s.Name, s.Config, s.Message, seq, pid);

    private static readonly MessageParser<WgDeviceMessage> Parse = WgDevice.TryParse;

    private readonly GenericNetlinkHandle _genl;
    private readonly NetlinkHandle _rtnl;
    private readonly ushort _family;

    private KernelWireGuardBackend(GenericNetlinkHandle genl, NetlinkHandle rtnl, ushort family)
    {
        _genl = genl;
        _rtnl = rtnl;
        _family = family;
    }

    /// <inheritdoc/>
    event EventHandler<WireGuardDeviceEventArgs>? IWireGuardBackend.DeviceChanged
    {
        add { } // kernel devices do not die on their own, and WireGuard sends no events: status is polled
        remove { }
    }

    /// <inheritdoc/>
    public WireGuardBackendKind Kind => WireGuardBackendKind.Kernel;

    /// <inheritdoc/>
    public NetworkNamespace? TargetNamespace => _rtnl.Namespace;

    /// <summary>The generic netlink family id the kernel gave <c>wireguard</c>.</summary>
    public ushort FamilyId => _family;

    /// <summary>Opens the backend in <paramref name="target"/> (null: the process's namespace).</summary>
    /// <exception cref="NetlinkException"><c>ENOENT</c> when the kernel has no <c>wireguard</c> family.</exception>
    public static async Task<KernelWireGuardBackend> OpenAsync(NetworkNamespace? target = null, CancellationToken cancellationToken = default)
    {
        var genl = GenericNetlinkHandle.Open(target);
        try
        {
            var family = await genl.ResolveFamilyAsync(WgGenl.Name, cancellationToken).ConfigureAwait(false);
            var rtnl = target is null ? NetlinkHandle.Open() : NetlinkHandle.OpenAt(target);
            return new KernelWireGuardBackend(genl, rtnl, family.Id);
        }
        catch
        {
            genl.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public bool Supervises(string name) => false;

    /// <inheritdoc/>
    public async Task CreateDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await _rtnl.CreateLinkAsync(new LinkSpec(name, new UnknownLinkKind(WgGenl.Name, [])), cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.EOPNOTSUPP)
        {
            throw new WireGuardException(ex.Errno, "create wireguard device", name, "the kernel has no link kind 'wireguard': " + (ex.KernelMessage ?? "no WireGuard module"));
        }
    }

    /// <inheritdoc/>
    public async Task DeleteDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        var link = await _rtnl.FindLinkAsync(name, cancellationToken).ConfigureAwait(false);
        if (link is null || !string.Equals(link.Kind, WgGenl.Name, StringComparison.Ordinal))
        {
            throw new WireGuardException(Errno.ENODEV, "delete wireguard device", name, link is null ? "no such link" : $"it is a {link.Kind ?? "plain device"}, not a wireguard link");
        }

        await _rtnl.DeleteLinkAsync(link.Index, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<WireGuardDevice?> GetDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        try
        {
            var messages = await _genl.DumpAsync((_family, name), Get, Parse, "get wireguard device", name, cancellationToken).ConfigureAwait(false);
            return WgDevice.Coalesce(messages);
        }
        catch (NetlinkException ex) when (ex.Errno is Errno.ENODEV or Errno.EOPNOTSUPP)
        {
            return null; // no such link, or a link that is not WireGuard
        }
    }

    /// <inheritdoc/>
    public async Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        foreach (var message in WgDevice.Plan(name, config))
        {
            await _genl.ExecuteAsync((_family, name, config, message), Set, "set wireguard device", name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes both sockets.</summary>
    public ValueTask DisposeAsync()
    {
        _genl.Dispose();
        _rtnl.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override string ToString() => "kernel WireGuard in " + (_rtnl.Namespace?.ToString() ?? "the process namespace");
}
