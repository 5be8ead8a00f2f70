using System.Globalization;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>Placement: <c>host:</c> on the nodes, <c>cross_host:</c> on the lab, and the rules that join them (all
/// nodes placed or none, MTUs that leave room for VXLAN).</summary>
internal sealed partial class LabReader
{
    /// <summary><c>cross_host</c> as read: how cross-host links make room for their overhead, and what carries them
    /// by default.</summary>
    private sealed record CrossHostDraft(CrossHostMtu Mtu, CrossHostTransport Transport);

    private void ReadHost(Fields fields, NodeDraft draft)
    {
        if (!fields.Has("host"))
        {
            return;
        }

        draft.HostGiven = true;
        if (fields.String("host") is not { } text)
        {
            return;
        }

        if (string.Equals(text, HostId.Auto, StringComparison.Ordinal))
        {
            draft.AutoHost = true;
            return;
        }

        if (HostId.TryParse(text, out var host))
        {
            draft.Host = host;
            return;
        }

        HostId.IsValid(text, out var why);
        _problems.Add(fields.PathOf("host"), $"invalid host id {NameText.Quote(text)}: {why}; allowed: {HostId.Allowed}, or auto (the controller places it)");
    }

    /// <summary><c>cross_host: { mtu: lower | underlay, transport: vxlan | wireguard }</c>; null when absent (or
    /// reported).</summary>
    private CrossHostDraft? ReadCrossHost(Fields root)
    {
        if (root.Value("cross_host") is not { } node)
        {
            return null;
        }

        var fields = _problems.Mapping(node, root.PathOf("cross_host"), LabLoader.CrossHostKeys);
        if (fields is null)
        {
            return null;
        }

        var mtu = fields.OneOf("mtu", LabLoader.CrossHostMtus);
        return new CrossHostDraft(
            mtu is null ? CrossHostMtu.Lower : (CrossHostMtu)IndexOf(LabLoader.CrossHostMtus, mtu),
            TransportOf(fields) ?? CrossHostTransport.Vxlan);
    }

    /// <summary>The <c>transport</c> of a link or of <c>cross_host</c>: <c>vxlan</c> or <c>wireguard</c>; null when
    /// absent (or reported).</summary>
    private static CrossHostTransport? TransportOf(Fields fields) =>
        fields.OneOf("transport", LabLoader.Transports) is { } text ? (CrossHostTransport)IndexOf(LabLoader.Transports, text) : null;

    /// <summary>
    /// The lab's placement as a whole: every node placed or none; <c>cross_host</c> only in a placed lab; the MTU of
    /// each cross-host link leaves room for its transport's overhead under the chosen setting (either fabric);
    /// <c>transport: wireguard</c> only on the veth fabric.
    /// </summary>
    private void CheckPlacement(Fields root, CrossHostDraft? crossHost, LabFabric fabric)
    {
        var placed = _nodes.Where(n => n.HostGiven).ToList();
        if (placed.Count == 0)
        {
            if (root.Has("cross_host"))
            {
                _problems.Add(root.PathOf("cross_host"), "applies to a lab whose nodes are placed on hosts (host: ID on every node); no node here has a host");
            }

            foreach (var link in _links.Where(l => l.TransportGiven))
            {
                _problems.Add(link.Path + ".transport", "applies to a link between hosts (a lab whose nodes are placed with host: ID); no node here has a host");
            }

            return;
        }

        if (fabric == LabFabric.Ovs)
        {
            // The ovs fabric carries every link between two hosts through one VTEP of the lab's switch.
            var wireguard = "the ovs fabric carries links between hosts through its VTEPs (VXLAN); transport: wireguard is for the veth fabric";
            if (crossHost?.Transport == CrossHostTransport.WireGuard)
            {
                _problems.Add(root.PathOf("cross_host") + ".transport", wireguard);
            }

            foreach (var link in _links.Where(l => l.Transport == CrossHostTransport.WireGuard))
            {
                _problems.Add(link.Path + ".transport", wireguard);
            }
        }

        var first = placed[0];

        var unplaced = _nodes.Where(n => !n.HostGiven).ToList();
        if (unplaced.Count > 0)
        {
            _problems.Add(unplaced[0].Path, string.Create(CultureInfo.InvariantCulture,
                $"has no host while {first.Path} has one ({_problems.LineOf(first.Path + ".host")}): a lab places every node (host: ID, or host: auto to let the controller choose) or none; unplaced: {string.Join(", ", unplaced.Select(n => n.Name))}"));
        }

        CheckCrossHostMtus(crossHost?.Mtu ?? CrossHostMtu.Lower, crossHost?.Transport ?? CrossHostTransport.Vxlan);
    }

    /// <summary>A cross-host link's MTU under <c>lower</c> must leave at least <see cref="LabLoader.MinMtu"/> after
    /// the overhead; under <c>underlay</c> the underlay must be able to carry it plus the overhead. The IPv4 overhead
    /// is the one checked here (the underlay's family is known only to the hosts).</summary>
    private void CheckCrossHostMtus(CrossHostMtu setting, CrossHostTransport transport)
    {
        foreach (var link in _links)
        {
            // A link with an end the controller places may cross: it must fit either way.
            if (link is not { Mtu: { } mtu, A: { } a, B: { } b } || HostTextOf(a) is not { } ha || HostTextOf(b) is not { } hb
                || (string.Equals(ha, hb, StringComparison.Ordinal) && !string.Equals(ha, HostId.Auto, StringComparison.Ordinal)))
            {
                continue;
            }

            var over = link.Transport ?? transport;
            var overhead = CrossHost.Overhead(System.Net.Sockets.AddressFamily.InterNetwork, over);
            var (min, max) = setting == CrossHostMtu.Lower ? (LabLoader.MinMtu + overhead, LabLoader.MaxMtu) : (LabLoader.MinMtu, LabLoader.MaxMtu - overhead);
            if (mtu >= min && mtu <= max)
            {
                continue;
            }

            var why = setting == CrossHostMtu.Lower
                ? $"cross_host.mtu lower takes {(over == CrossHostTransport.WireGuard ? "VXLAN in WireGuard" : "VXLAN")}'s {overhead} bytes off it, leaving {mtu - overhead}, below {LabLoader.MinMtu}"
                : $"cross_host.mtu underlay needs the underlay to carry {mtu + overhead}, above {LabLoader.MaxMtu}";
            _problems.Add(link.Path + ".mtu", string.Create(CultureInfo.InvariantCulture,
                $"{mtu} does not fit a cross-host link ({a.Endpoint.Node} on {ha}, {b.Endpoint.Node} on {hb}): {why}; allowed here: {min}..{max}"));
        }
    }

    /// <summary>The host id of the end's node, <c>auto</c>, or null (no host, or an invalid one).</summary>
    private string? HostTextOf(EndpointDraft end) =>
        !_nodesByName.TryGetValue(end.Endpoint.Node, out var node) ? null : node.AutoHost ? HostId.Auto : node.Host?.Value;
}
