using System.Globalization;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>Placement: <c>host:</c> on the nodes, <c>cross_host:</c> on the lab, and the rules that join them (all
/// nodes placed or none, MTUs that leave room for VXLAN).</summary>
internal sealed partial class LabReader
{
    private const string CrossHostShape = "a mapping { mtu: lower } or { mtu: underlay }";

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

    /// <summary><c>cross_host: { mtu: lower | underlay }</c>; null when absent (or reported).</summary>
    private CrossHostMtu? ReadCrossHost(Fields root)
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
        return mtu is null ? CrossHostMtu.Lower : (CrossHostMtu)IndexOf(LabLoader.CrossHostMtus, mtu);
    }

    /// <summary>
    /// The lab's placement as a whole: every node placed or none; <c>cross_host</c> only in a placed lab; the MTU of
    /// each cross-host link leaves room for VXLAN's overhead under the chosen setting (either fabric).
    /// </summary>
    private void CheckPlacement(Fields root, CrossHostMtu? crossHost)
    {
        var placed = _nodes.Where(n => n.HostGiven).ToList();
        if (placed.Count == 0)
        {
            if (root.Has("cross_host"))
            {
                _problems.Add(root.PathOf("cross_host"), "applies to a lab whose nodes are placed on hosts (host: ID on every node); no node here has a host");
            }

            return;
        }

        var first = placed[0];

        var unplaced = _nodes.Where(n => !n.HostGiven).ToList();
        if (unplaced.Count > 0)
        {
            _problems.Add(unplaced[0].Path, string.Create(CultureInfo.InvariantCulture,
                $"has no host while {first.Path} has one ({_problems.LineOf(first.Path + ".host")}): a lab places every node (host: ID, or host: auto to let the controller choose) or none; unplaced: {string.Join(", ", unplaced.Select(n => n.Name))}"));
        }

        CheckCrossHostMtus(crossHost ?? CrossHostMtu.Lower);
    }

    /// <summary>A cross-host link's MTU under <c>lower</c> must leave at least <see cref="LabLoader.MinMtu"/> after
    /// the overhead; under <c>underlay</c> the underlay must be able to carry it plus the overhead. The IPv4 overhead
    /// is the one checked here (the underlay's family is known only to the hosts).</summary>
    private void CheckCrossHostMtus(CrossHostMtu setting)
    {
        const int Overhead = CrossHost.Ipv4Overhead;
        foreach (var link in _links)
        {
            // A link with an end the controller places may cross: it must fit either way.
            if (link is not { Mtu: { } mtu, A: { } a, B: { } b } || HostTextOf(a) is not { } ha || HostTextOf(b) is not { } hb
                || (string.Equals(ha, hb, StringComparison.Ordinal) && !string.Equals(ha, HostId.Auto, StringComparison.Ordinal)))
            {
                continue;
            }

            var (min, max) = setting == CrossHostMtu.Lower ? (LabLoader.MinMtu + Overhead, LabLoader.MaxMtu) : (LabLoader.MinMtu, LabLoader.MaxMtu - Overhead);
            if (mtu >= min && mtu <= max)
            {
                continue;
            }

            var why = setting == CrossHostMtu.Lower
                ? $"cross_host.mtu lower takes VXLAN's {Overhead} bytes off it, leaving {mtu - Overhead}, below {LabLoader.MinMtu}"
                : $"cross_host.mtu underlay needs the underlay to carry {mtu + Overhead}, above {LabLoader.MaxMtu}";
            _problems.Add(link.Path + ".mtu", string.Create(CultureInfo.InvariantCulture,
                $"{mtu} does not fit a cross-host link ({a.Endpoint.Node} on {ha}, {b.Endpoint.Node} on {hb}): {why}; allowed here: {min}..{max}"));
        }
    }

    /// <summary>The host id of the end's node, <c>auto</c>, or null (no host, or an invalid one).</summary>
    private string? HostTextOf(EndpointDraft end) =>
        !_nodesByName.TryGetValue(end.Endpoint.Node, out var node) ? null : node.AutoHost ? HostId.Auto : node.Host?.Value;
}
