using System.Globalization;
using Aether.Netlink.Rtnl;
using Aether.Topology;

namespace Aether.Labs.Cluster.Agent;

/// <summary>One end of a lab link on this host.</summary>
/// <param name="Link">The link.</param>
/// <param name="Side">Which end.</param>
public sealed record LocalEnd(LabLink Link, LinkEnd Side)
{
    /// <summary>The endpoint.</summary>
    public LabEndpoint Endpoint => Side == LinkEnd.A ? Link.A : Link.B;
}

/// <summary>The link ends a host holds, and their check against the kernel.</summary>
internal static partial class LocalEnds
{
    /// <summary>Every end of <paramref name="lab"/>'s links whose node is on <paramref name="host"/>, in link order.</summary>
    public static IReadOnlyList<LocalEnd> Of(LabSpec lab, HostId host) =>
        [.. lab.LinksOn(host).SelectMany(l => new[] { new LocalEnd(l, LinkEnd.A), new LocalEnd(l, LinkEnd.B) }).Where(e => lab.HostOf(e.Endpoint) == host)];

    /// <summary>Each local end's problem as the kernel shows it, or null when it verifies: present, this lab part's,
    /// the right kind (a veth whose peer is the other end; a VXLAN with the link's VNI, towards the other host's
    /// underlay as compiled, its tunnel in another namespace), the MTU compiled, and up with a carrier. An end carried by
    /// WireGuard tunnels to the remote host's inner address, and its tunnel (the WireGuard device in
    /// <paramref name="hostNamespace"/>) verifies too.</summary>
    public static async Task<Dictionary<LocalEnd, string?>> VerifyAsync(LabSpec lab, HostId host, TopologySpec spec, IReadOnlyDictionary<LinkId, uint> vnis, string? hostNamespace, CancellationToken cancellationToken)
    {
        var ends = Of(lab, host);
        var mark = LabTopology.MarkOf(lab.Name, host);
        var compiled = new Dictionary<(string?, string), TopologyLink>();
        foreach (var link in spec.Links)
        {
            compiled[(link.Namespace, link.Name)] = link;
            if (link.Peer is { } peer)
            {
                compiled[(peer.Namespace, peer.Name)] = link;
            }
        }

        var tunnelled = spec.Links.Any(l => l.Kind == TopologyLinkKind.WireGuard);
        using var observed = await LabObservation.ReadAsync(lab.NodesOn(host).Select(n => n.Namespace).Concat(tunnelled ? [TunnelNamespace(hostNamespace)] : []), cancellationToken).ConfigureAwait(false);
        var tunnels = await TunnelProblemsAsync(lab, host, spec, hostNamespace, observed, cancellationToken).ConfigureAwait(false);
        var problems = new Dictionary<LocalEnd, string?>();
        foreach (var end in ends)
        {
            var ns = lab.Node(end.Endpoint.Node).Namespace;
            problems[end] = await ProblemAsync(end, ns).ConfigureAwait(false);
        }

        return problems;

        async Task<string?> ProblemAsync(LocalEnd end, string ns)
        {
            var e = end.Endpoint;
            if (observed.Missing.TryGetValue(ns, out var why))
            {
                return $"{e.Node}'s namespace {ns} is missing ({why})";
            }

            if (observed.Find(ns, e.Linux) is not { } found)
            {
                return $"{e} is missing in {ns}";
            }

            if (!string.Equals(found.Alias, mark, StringComparison.Ordinal))
            {
                return $"{e} is not this lab's (alias '{found.Alias}')";
            }

            if (lab.IsCrossHost(end.Link))
            {
                var remote = lab.HostOf(end.Side == LinkEnd.A ? end.Link.B : end.Link.A)!.Value;
                if (found.KindData is not Vxlan vxlan)
                {
                    return $"{e} is a {found.Kind ?? "plain device"}, not a vxlan";
                }

                if (!vnis.TryGetValue(end.Link.Id, out var vni) || vxlan.Id != vni)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"{e} carries VNI {vxlan.Id}, want {(vnis.TryGetValue(end.Link.Id, out var v) ? v.ToString(CultureInfo.InvariantCulture) : "none")}");
                }

                // The compile says where the tunnel goes: the other host's underlay address, or its WireGuard tunnel
                // address for a link carried by WireGuard.
                var wireguard = lab.TransportOf(end.Link) == CrossHostTransport.WireGuard;
                var want = compiled.TryGetValue((ns, e.Linux), out var link) ? link.Remote : null;
                if (!Equals(vxlan.Remote, want))
                {
                    return $"{e} tunnels to {vxlan.Remote?.ToString() ?? "nowhere"}, want host {remote}{(wireguard ? "'s WireGuard tunnel address " : " at ")}{want?.ToString() ?? "(none compiled)"}";
                }

                if (wireguard && tunnels.GetValueOrDefault(remote, $"no WireGuard tunnel towards host {remote} was compiled") is { } tunnel)
                {
                    return tunnel;
                }

                if (found.LinkNetNsId is null)
                {
                    return $"{e}'s tunnel runs inside {ns}, not in the host's namespace";
                }
            }
            else
            {
                if (found.KindData is not Veth)
                {
                    return $"{e} is a {found.Kind ?? "plain device"}, not a veth";
                }

                var other = end.Side == LinkEnd.A ? end.Link.B : end.Link.A;
                var otherNs = lab.Node(other.Node).Namespace;
                if (observed.Find(otherNs, other.Linux) is not { } peer || found.LinkIndex != peer.Index
                    || (string.Equals(ns, otherNs, StringComparison.Ordinal) ? found.LinkNetNsId is not null : found.LinkNetNsId != await observed.NsIdAsync(ns, otherNs, cancellationToken).ConfigureAwait(false)))
                {
                    return $"{e}'s peer is not {other}";
                }
            }

            if (compiled.TryGetValue((ns, e.Linux), out var compiledLink) && compiledLink.Mtu is { } mtu && found.Mtu != mtu)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{e} has MTU {found.Mtu}, want {mtu}");
            }

            return !found.IsUp ? $"{e} is down" : !found.IsLowerUp ? $"{e} has no carrier" : null;
        }
    }
}
