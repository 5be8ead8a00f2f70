using Aether.Netlink.Rtnl;

namespace Aether.Labs;

/// <summary>What verification read of one link.</summary>
/// <param name="Id">The link.</param>
/// <param name="Problem">Why it is not whole (the first thing found wrong), or null when it is.</param>
public sealed record LinkCheck(LinkId Id, string? Problem)
{
    /// <summary>Whether the link is whole.</summary>
    public bool Valid => Problem is null;
}

/// <summary>What verification reads of the ovs fabric's switch.</summary>
/// <param name="SwitchNamespace">Where the ports (the veths' outer ends) are (<see cref="LabObservation.Host"/> for the
/// host).</param>
/// <param name="Tags">Every link's VLAN tag.</param>
/// <param name="State">The switch as OVSDB holds it, or null when it could not be read.</param>
/// <param name="Error">Why it could not be read.</param>
internal sealed record OvsView(string SwitchNamespace, IReadOnlyDictionary<LinkId, int> Tags, Aether.Ovsdb.OvsSwitchState? State, string? Error);

/// <summary>
/// Reads the truth of a lab's links from the kernel (and, on the ovs fabric, from OVSDB). On the ovs fabric each end's
/// peer is its port in the switch's namespace, both ports are on the lab's bridge with the link's tag, and no other
/// port has that tag. A veth-fabric link is whole when both ends exist in their nodes'
/// namespaces under the mapped Linux names, are veths carrying the lab's mark, are each the other's peer (peer ifindex
/// and the nsid by which each namespace knows the other), have the lab's MTU when it sets one, and are up with carrier
/// (or both down, for a link set administratively down).
/// </summary>
internal static class LinkVerifier
{
    /// <summary>Checks every link of <paramref name="lab"/> against <paramref name="observed"/> (and, on the ovs
    /// fabric, <paramref name="ovs"/>).</summary>
    public static async Task<IReadOnlyList<LinkCheck>> VerifyAsync(LabSpec lab, LabObservation observed, IReadOnlySet<LinkId> down, CancellationToken cancellationToken, OvsView? ovs = null)
    {
        var nodes = lab.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var mark = LabTopology.MarkOf(lab.Name);
        var checks = new LinkCheck[lab.Links.Count];
        for (var i = 0; i < lab.Links.Count; i++)
        {
            var link = lab.Links[i];
            var problem = await ProblemAsync(lab, link, nodes[link.A.Node].Namespace, nodes[link.B.Node].Namespace, observed, mark, down.Contains(link.Id), ovs, cancellationToken).ConfigureAwait(false);
            checks[i] = new LinkCheck(link.Id, problem);
        }

        return checks;
    }

    private static async Task<string?> ProblemAsync(LabSpec lab, LabLink link, string nsA, string nsB, LabObservation observed, string mark, bool down, OvsView? ovs, CancellationToken cancellationToken)
    {
        foreach (var (end, ns) in new[] { (link.A, nsA), (link.B, nsB) })
        {
            if (observed.Missing.TryGetValue(ns, out var why))
            {
                return $"{end.Node}'s namespace {ns} is missing ({why})";
            }

            if (observed.Find(ns, end.Linux) is not { } found)
            {
                return $"{Show(end)} is missing in {ns}";
            }

            if (!string.Equals(found.Kind, "veth", StringComparison.Ordinal))
            {
                return $"{Show(end)} is a {found.Kind ?? "plain device"}, not a veth";
            }

            if (!string.Equals(found.Alias, mark, StringComparison.Ordinal))
            {
                return $"{Show(end)} is not this lab's (alias '{found.Alias}')";
            }
        }

        var a = observed.Find(nsA, link.A.Linux)!;
        var b = observed.Find(nsB, link.B.Linux)!;
        if (ovs is not null)
        {
            if (await OvsFabric.KernelProblemAsync(lab, link.A, nsA, ovs.SwitchNamespace, observed, cancellationToken).ConfigureAwait(false) is { } problemA)
            {
                return problemA;
            }

            if (await OvsFabric.KernelProblemAsync(lab, link.B, nsB, ovs.SwitchNamespace, observed, cancellationToken).ConfigureAwait(false) is { } problemB)
            {
                return problemB;
            }

            if (ovs.State is null)
            {
                return "cannot read the switch: " + ovs.Error;
            }

            if (OvsFabric.Problem(lab, link, ovs.Tags[link.Id], ovs.State) is { } switchProblem)
            {
                return switchProblem;
            }
        }
        else if (!await IsPeerAsync(a, b, nsA, nsB, observed, cancellationToken).ConfigureAwait(false)
            || !await IsPeerAsync(b, a, nsB, nsA, observed, cancellationToken).ConfigureAwait(false))
        {
            return $"{Show(link.A)} and {Show(link.B)} are not each other's peer (peer ifindex {Show(a.LinkIndex)}/{Show(b.LinkIndex)}, found {b.Index}/{a.Index})";
        }

        if (link.Mtu is { } mtu && (a.Mtu != mtu || b.Mtu != mtu))
        {
            return $"MTU {a.Mtu}/{b.Mtu}, want {mtu}";
        }

        if (down)
        {
            return a.IsUp || b.IsUp ? $"{Show(a.IsUp ? link.A : link.B)} is up, want the link down" : null;
        }

        foreach (var (end, found) in new[] { (link.A, a), (link.B, b) })
        {
            if (!found.IsUp)
            {
                return $"{Show(end)} is down";
            }

            if (!found.IsLowerUp)
            {
                return $"{Show(end)} has no carrier";
            }
        }

        return null;
    }

    private static async Task<bool> IsPeerAsync(Link from, Link to, string nsFrom, string nsTo, LabObservation observed, CancellationToken cancellationToken)
    {
        if (from.LinkIndex != to.Index)
        {
            return false;
        }

        if (string.Equals(nsFrom, nsTo, StringComparison.Ordinal))
        {
            return from.LinkNetNsId is null;
        }

        var id = await observed.NsIdAsync(nsFrom, nsTo, cancellationToken).ConfigureAwait(false);
        return id != NsId.NotAssigned && from.LinkNetNsId == id;
    }

    private static string Show(LabEndpoint end) =>
        string.Equals(end.Vendor, end.Linux, StringComparison.Ordinal) ? end.Key : $"{end} ({end.Linux})";

    private static string Show(int? index) => index?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}
