using Aether.Netlink;

namespace Aether.WireGuard;

/// <summary>
/// A WireGuard device refused a request or could not be reached: the errno it reported (the UAPI's <c>errno=N</c>,
/// or the system call's), the operation and the device (<c>set wireguard device wg0: EINVAL (Invalid argument)</c>).
/// Kernel refusals arrive as <see cref="NetlinkException"/> with the kernel's extended-ack text; this derives from
/// it so one catch handles both backends.
/// </summary>
public class WireGuardException : NetlinkException
{
    /// <summary>Creates the exception.</summary>
    public WireGuardException(int errno, string operation, string device, string? detail = null)
        : base(errno, operation, device, detail)
    {
    }
}

/// <summary>
/// A userspace device name is already in use in another namespace. The UAPI socket
/// (<c>/var/run/wireguard/NAME.sock</c>) lives in the file system, which all namespaces share, so two userspace
/// devices can never have the same name, whichever namespaces they are in.
/// </summary>
public sealed class WireGuardNameCollisionException : WireGuardException
{
    /// <summary>Creates the exception.</summary>
    public WireGuardNameCollisionException(string device, string socketPath, string otherNamespace, int? otherPid)
        : base(
            Netlink.Errno.EADDRINUSE,
            "create wireguard device",
            device,
            $"a userspace WireGuard device named '{device}' already runs in {otherNamespace}" + (otherPid is int pid ? $" (pid {pid})" : string.Empty)
            + $", and its UAPI socket {socketPath} is global to the machine: userspace WireGuard device names must be unique across namespaces")
    {
        SocketPath = socketPath;
        OtherNamespace = otherNamespace;
        OtherPid = otherPid;
    }

    /// <summary>The socket both devices would use.</summary>
    public string SocketPath { get; }

    /// <summary>The namespace the existing device is in, as a person would name it.</summary>
    public string OtherNamespace { get; }

    /// <summary>The process that serves the existing device, when known.</summary>
    public int? OtherPid { get; }
}
