using Aether.Netlink.Rtnl;
using Aether.Reconcile;

namespace Aether.WireGuard;

/// <summary>What a <see cref="WireGuardOperation"/> does.</summary>
public enum WireGuardStep
{
    /// <summary>Create the device, configure it whole, mark it and bring it up; rolled back if any of that fails.</summary>
    CreateDevice,

    /// <summary>Delete the device.</summary>
    DeleteDevice,

    /// <summary>Change the device's private key, listen port or firewall mark.</summary>
    ConfigureDevice,

    /// <summary>Change the device's link: up/down, MTU, mark.</summary>
    UpdateLink,

    /// <summary>Add a peer.</summary>
    AddPeer,

    /// <summary>Change a peer that exists (update-only: never creates it).</summary>
    UpdatePeer,

    /// <summary>Remove a peer.</summary>
    RemovePeer,
}

/// <summary>One step of a WireGuard plan, with what it needs to run.</summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Key">The device (<c>wireguard wg0</c>) or one of its peers (<c>peer AbCdEfGh… on wg0</c>).</param>
/// <param name="Reason">Why.</param>
/// <param name="Step">What it does.</param>
/// <param name="Device">The device's name.</param>
public sealed record WireGuardOperation(OperationKind Kind, ObjectKey Key, string Reason, WireGuardStep Step, string Device)
    : Operation(Kind, Stage.Devices, Key, Reason)
{
    /// <summary>The desired device (create, and link updates).</summary>
    public DesiredWireGuardDevice? Desired { get; init; }

    /// <summary>The change sent to the device (configure and peer steps). Printing it never shows keys.</summary>
    public WireGuardDeviceConfig? Config { get; init; }

    /// <summary>The link change (link updates).</summary>
    public LinkChange? LinkChange { get; init; }

    /// <summary>The device's ifindex (link updates).</summary>
    public int Index { get; init; }
}
