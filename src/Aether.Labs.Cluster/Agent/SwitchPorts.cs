using Aether.Ovsdb;
using Aether.Reconcile.Sources;

namespace Aether.Labs.Cluster.Agent;

/// <summary>
/// Whether ovs-vswitchd has a port's device open. With the userspace datapath it opens each system device of a port
/// with a packet socket and makes it promiscuous; a device deleted and made again under the same name keeps its port
/// row (and the switch even records the new ifindex), but the switch does not open it again: nothing crosses the
/// port, and the device is not promiscuous. Such a port is taken out and added anew.
/// </summary>
internal static class SwitchPorts
{
    /// <summary><c>IFF_PROMISC</c>.</summary>
    public const uint Promiscuous = 0x100;

    /// <summary>Our ports of <paramref name="bridge"/> whose device exists in the host's namespace but is not
    /// promiscuous (and that the switch has taken: an OpenFlow port given, no error).</summary>
    public static async Task<IReadOnlyList<OvsPortLocation>> StaleAsync(OvsdbEndpoint endpoint, string owner, DesiredOvsBridge bridge, string? hostNamespace, CancellationToken cancellationToken)
    {
        OvsSwitchState state;
        try
        {
            state = await OvsFabric.ReadAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OvsdbException or IOException or TimeoutException)
        {
            return []; // the bridge's pass reports it
        }

        var ns = hostNamespace ?? LabObservation.Host;
        using var observed = await LabObservation.ReadAsync([ns], cancellationToken).ConfigureAwait(false);
        var stale = new List<OvsPortLocation>();
        foreach (var port in bridge.Ports)
        {
            if (state.FindPort(port.Name) is { } at && string.Equals(at.Port.Owner, owner, StringComparison.Ordinal)
                && at.Port.Interfaces.All(i => i is { OfPort: > 0, Error: null })
                && observed.Find(ns, port.Name) is { } device && (device.Flags & Promiscuous) == 0)
            {
                stale.Add(at);
            }
        }

        return stale;
    }

    /// <summary>Waits up to <paramref name="timeout"/> until ovs-vswitchd has taken every port of
    /// <paramref name="bridge"/> (an OpenFlow port given, or an error said), so that a check right after a pass that
    /// added ports sees them as the switch has them.</summary>
    public static async Task WaitOpenedAsync(OvsdbEndpoint endpoint, DesiredOvsBridge bridge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            await using var client = await OvsdbClient.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var database = new OpenVSwitchDatabase(client);
            while (DateTime.UtcNow < deadline)
            {
                var state = await database.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (bridge.Ports.All(p => state.FindPort(p.Name) is { } at && at.Port.Interfaces.All(i => i.OfPort is not null || i.Error is not null)))
                {
                    return;
                }

                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OvsdbException or IOException or TimeoutException)
        {
            // The check that follows reports the switch.
        }
    }
}
