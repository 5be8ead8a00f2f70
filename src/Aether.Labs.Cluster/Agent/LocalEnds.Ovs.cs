using System.Globalization;
using System.Net;
using Aether.Netlink.Rtnl;
using Aether.Ovsdb;
using Aether.Topology;

namespace Aether.Labs.Cluster.Agent;

/// <summary>The check of link ends on the ovs fabric.</summary>
internal static partial class LocalEnds
{
    /// <summary>
    /// Each local end's problem on the ovs fabric, or null when it verifies: the interface in its node is this lab
    /// part's veth whose peer is its outer end in the host's namespace; that end is up, and a port of the lab's bridge
    /// (which ovs-vswitchd opened) with the link's tag; for a cross-host link, the VTEP towards the other host is a
    /// VXLAN device in the host's namespace with the tunnel's VNI, towards the other host's underlay, up, and its port
    /// on the bridge trunks the link's tag; the MTU is the compiled one, the interface up with a carrier.
    /// </summary>
    public static async Task<Dictionary<LocalEnd, string?>> VerifyOvsAsync(
        LabSpec lab,
        HostId host,
        OvsHostPart part,
        IReadOnlyDictionary<LinkId, int> tags,
        IReadOnlyDictionary<HostId, OvsVtep> vteps,
        IReadOnlyDictionary<HostId, IPAddress> underlays,
        OvsdbEndpoint endpoint,
        string? hostNamespace,
        CancellationToken cancellationToken)
    {
        var ends = Of(lab, host);
        var mark = LabTopology.MarkOf(lab.Name, host);
        var hostNs = hostNamespace ?? LabObservation.Host;
        var bridgeName = OvsFabric.BridgeOf(lab.Name);
        var mtus = part.Topology.Links.Where(l => l.Peer is not null).ToDictionary(l => l.Peer!.Name + "@" + l.Peer.Namespace, l => l.Mtu, StringComparer.Ordinal);
        OvsSwitchState? state = null;
        string? switchWhy = null;
        try
        {
            state = await OvsFabric.ReadAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OvsdbException or IOException or TimeoutException)
        {
            switchWhy = $"the switch at {endpoint} cannot be read: {ex.Message}";
        }

        using var observed = await LabObservation.ReadAsync(lab.NodesOn(host).Select(n => n.Namespace).Append(hostNs), cancellationToken).ConfigureAwait(false);
        var problems = new Dictionary<LocalEnd, string?>();
        foreach (var end in ends)
        {
            problems[end] = await ProblemAsync(end).ConfigureAwait(false);
        }

        return problems;

        async Task<string?> ProblemAsync(LocalEnd end)
        {
            var e = end.Endpoint;
            var ns = lab.Node(e.Node).Namespace;
            foreach (var needed in new[] { ns, hostNs })
            {
                if (observed.Missing.TryGetValue(needed, out var why))
                {
                    return $"namespace {(needed.Length == 0 ? "(host)" : needed)} is missing ({why})";
                }
            }

            if (observed.Find(ns, e.Linux) is not { } inner)
            {
                return $"{e} is missing in {ns}";
            }

            if (!string.Equals(inner.Alias, mark, StringComparison.Ordinal))
            {
                return $"{e} is not this lab's (alias '{inner.Alias}')";
            }

            if (inner.KindData is not Veth)
            {
                return $"{e} is a {inner.Kind ?? "plain device"}, not a veth";
            }

            var portName = OvsFabric.PortOf(lab.Name, e);
            if (observed.Find(hostNs, portName) is not { } outer)
            {
                return $"{e}'s outer end {portName} is missing";
            }

            var id = await observed.NsIdAsync(ns, hostNs, cancellationToken).ConfigureAwait(false);
            if (inner.LinkIndex != outer.Index || id == NsId.NotAssigned || inner.LinkNetNsId != id)
            {
                return $"{e}'s peer is not its port {portName}";
            }

            if (!outer.IsUp)
            {
                return $"{e}'s port {portName} is down";
            }

            if ((outer.Flags & SwitchPorts.Promiscuous) == 0)
            {
                return $"{e}'s port {portName}: ovs-vswitchd does not have the device open";
            }

            if (switchWhy is not null || state is null)
            {
                return switchWhy;
            }

            if (!tags.TryGetValue(end.Link.Id, out var tag))
            {
                return $"link {end.Link.Id} has no VLAN tag";
            }

            if (SwitchPortProblem(state, bridgeName, portName, $"{e}'s port") is { } portWhy)
            {
                return portWhy;
            }

            var at = state.FindPort(portName)!.Value;
            if (at.Port.Tag != tag)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{e}'s port {portName} has VLAN tag {at.Port.Tag?.ToString(CultureInfo.InvariantCulture) ?? "none"}, want {tag}");
            }

            if (lab.IsCrossHost(end.Link) && VtepProblem(end, tag) is { } vtepWhy)
            {
                return vtepWhy;
            }

            if (mtus.TryGetValue(e.Linux + "@" + ns, out var mtu) && mtu is { } want && inner.Mtu != want)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{e} has MTU {inner.Mtu}, want {want}");
            }

            return !inner.IsUp ? $"{e} is down" : !inner.IsLowerUp ? $"{e} has no carrier" : null;
        }

        string? VtepProblem(LocalEnd end, int tag)
        {
            var remote = lab.HostOf(end.Side == LinkEnd.A ? end.Link.B : end.Link.A)!.Value;
            if (!vteps.TryGetValue(remote, out var vtep))
            {
                return $"no VTEP towards host {remote}";
            }

            var what = $"the VTEP {vtep.PortName} towards host {remote}";
            if (observed.Find(hostNs, vtep.PortName) is not { } device)
            {
                return $"{what} is missing";
            }

            if (device.KindData is not Vxlan vxlan)
            {
                return $"{what} is a {device.Kind ?? "plain device"}, not a vxlan";
            }

            if (vxlan.Id != vtep.Vni)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{what} carries VNI {vxlan.Id}, want {vtep.Vni}");
            }

            if (!underlays.TryGetValue(remote, out var address) || !Equals(vxlan.Remote, address))
            {
                return $"{what} tunnels to {vxlan.Remote?.ToString() ?? "nowhere"}, want {address?.ToString() ?? "(no underlay)"}";
            }

            if (!device.IsUp)
            {
                return $"{what} is down";
            }

            if ((device.Flags & SwitchPorts.Promiscuous) == 0)
            {
                return $"{what}: ovs-vswitchd does not have the device open";
            }

            if (SwitchPortProblem(state!, bridgeName, vtep.PortName, what + "'s port") is { } portWhy)
            {
                return portWhy;
            }

            var trunks = state!.FindPort(vtep.PortName)!.Value.Port.Trunks;
            return trunks.Contains(tag)
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"{what} does not trunk VLAN {tag} (trunks [{OvsChanges.ShowTrunks(trunks)}])");
        }
    }

    /// <summary>Why the port is not a working port of the lab's bridge, or null.</summary>
    private static string? SwitchPortProblem(OvsSwitchState state, string bridgeName, string portName, string what)
    {
        if (state.FindBridge(bridgeName) is null)
        {
            return $"the lab's bridge {bridgeName} is missing";
        }

        if (state.FindPort(portName) is not { } at)
        {
            return $"{what} {portName} is not on any bridge";
        }

        if (!string.Equals(at.Bridge.Name, bridgeName, StringComparison.Ordinal))
        {
            return $"{what} {portName} is on bridge {at.Bridge.Name}, not the lab's {bridgeName}";
        }

        var iface = at.Port.Interfaces.Count > 0 ? at.Port.Interfaces[0] : null;
        return iface is { Error: { } error } ? $"{what} {portName}: ovs-vswitchd could not open it ({error})"
            : iface is { OfPort: -1 } ? $"{what} {portName}: ovs-vswitchd could not open it"
            : null;
    }
}
