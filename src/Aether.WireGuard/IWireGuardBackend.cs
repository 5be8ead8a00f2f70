using Aether.Netlink.Namespaces;

namespace Aether.WireGuard;

/// <summary>Which implementation of WireGuard serves a namespace's devices.</summary>
public enum WireGuardBackendKind
{
    /// <summary>In-kernel WireGuard: links of kind <c>wireguard</c>, configured over generic netlink.</summary>
    Kernel,

    /// <summary>wireguard-go, one supervised process per device, configured over its UAPI socket.</summary>
    Userspace,
}

/// <summary>
/// WireGuard devices in one network namespace, whichever implementation serves them (see
/// <see cref="WireGuardBackends.OpenAsync"/>). Device names are interface names; the userspace backend's are also
/// socket names, global to the machine.
/// </summary>
public interface IWireGuardBackend : IAsyncDisposable
{
    /// <summary>The implementation.</summary>
    WireGuardBackendKind Kind { get; }

    /// <summary>The namespace (the backend's own duplicate), or null for the process's namespace.</summary>
    NetworkNamespace? TargetNamespace { get; }

    /// <summary>Raised when a device changes without being asked (its wireguard-go died or was restarted): a hint to
    /// look again, raised on a thread-pool thread.</summary>
    event EventHandler<WireGuardDeviceEventArgs>? DeviceChanged;

    /// <summary>Creates device <paramref name="name"/> with an empty configuration, administratively down.</summary>
    /// <exception cref="ArgumentException">The name is not a valid interface name.</exception>
    /// <exception cref="WireGuardNameCollisionException">Userspace: a device of that name runs in another namespace.</exception>
    /// <exception cref="Aether.Netlink.NetlinkException"><c>EEXIST</c> when it exists here already; the kernel's or the
    /// process's error otherwise.</exception>
    Task CreateDeviceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes device <paramref name="name"/>.</summary>
    /// <exception cref="Aether.Netlink.NetlinkException"><c>ENODEV</c> when there is no such WireGuard device here.</exception>
    Task DeleteDeviceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Reads device <paramref name="name"/>: configuration and status. Null when there is no WireGuard
    /// device of that name in this namespace.</summary>
    Task<WireGuardDevice?> GetDeviceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Applies a change to device <paramref name="name"/>. Validated whole before anything is sent.</summary>
    /// <exception cref="ArgumentException">The change is invalid.</exception>
    /// <exception cref="Aether.Netlink.NetlinkException"><c>ENODEV</c> when there is no such device; the device's
    /// refusal otherwise.</exception>
    Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default);

    /// <summary>Whether this backend made device <paramref name="name"/> and keeps it (a supervised wireguard-go). Such
    /// a device is the caller's even when a restart lost the marks it carried.</summary>
    bool Supervises(string name);
}

/// <summary>What happened to a device on its own.</summary>
/// <param name="Device">The device's name.</param>
/// <param name="What">What happened, for logs (<c>wireguard-go exited with code 1; restarting in 1 s</c>).</param>
public sealed class WireGuardDeviceEventArgs(string Device, string What) : EventArgs
{
    /// <summary>The device's name.</summary>
    public string Device { get; } = Device;

    /// <summary>What happened.</summary>
    public string What { get; } = What;
}
