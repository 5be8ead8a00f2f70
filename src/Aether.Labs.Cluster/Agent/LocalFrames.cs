using System.Collections.Concurrent;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Labs.Cluster.Agent;

/// <summary>
/// <c>verify --deep</c> for a lab across hosts, from the machine it runs on, for the links whose two ends' node
/// namespaces are both here (simulated hosts, or a lab whose nodes all sit on this machine's host): a raw frame is
/// sent each way across each (the one-host check's probe), so a cross-host link is proven to carry traffic through
/// its tunnel, VNI and underlay included, without any agent. A link with an end whose namespace is not on this
/// machine is not probed and says so: nothing is claimed for it; <see cref="CrossHostFrames"/> has the agents probe
/// those.
/// </summary>
public static class LocalFrames
{
    /// <summary>Whether both ends' node namespaces of <paramref name="link"/> are on this machine.</summary>
    public static bool BothEndsHere(LabSpec lab, LabLink link)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(link);
        return NetworkNamespace.Exists(lab.Node(link.A.Node).Namespace) && NetworkNamespace.Exists(lab.Node(link.B.Node).Namespace);
    }

    /// <summary>Probes every link of <paramref name="lab"/>, as <see cref="ProbeAsync(LabSpec, IReadOnlyList{LabLink}, TimeSpan, CancellationToken)"/>.</summary>
    public static Task<IReadOnlyList<LinkFrameCheck>> ProbeAsync(LabSpec lab, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return ProbeAsync(lab, lab.Links, timeout, cancellationToken);
    }

    /// <summary>Probes <paramref name="links"/> of <paramref name="lab"/> (up to 8 at once), each direction waiting up
    /// to <paramref name="timeout"/>; one result per link, in their order.</summary>
    public static async Task<IReadOnlyList<LinkFrameCheck>> ProbeAsync(LabSpec lab, IReadOnlyList<LabLink> links, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(links);
        var results = new ConcurrentDictionary<int, LinkFrameCheck>();
        await Parallel.ForAsync(0, links.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            results[i] = await ProbeAsync(lab, links[i], timeout, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return [.. Enumerable.Range(0, links.Count).Select(i => results[i])];
    }

    private static async Task<LinkFrameCheck> ProbeAsync(LabSpec lab, LabLink link, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = link.Id.Value;
        var missing = new[] { link.A, link.B }.Select(e => (End: e, Node: lab.Node(e.Node)))
            .Where(e => !NetworkNamespace.Exists(e.Node.Namespace))
            .Select(e => $"{e.End.Node}'s namespace {e.Node.Namespace} (host {e.Node.Host?.Value ?? "?"})")
            .ToList();
        if (missing.Count > 0)
        {
            return new LinkFrameCheck(id, false, null, $"no frame sent: {string.Join(" and ", missing)} not on this machine (the agents probe such a link: CrossHostFrames)");
        }

        using var a = NetworkNamespace.Open(lab.Node(link.A.Node).Namespace);
        using var b = NetworkNamespace.Open(lab.Node(link.B.Node).Namespace);
        var (endA, whyA) = await EndAsync(a, link.A, cancellationToken).ConfigureAwait(false);
        var (endB, whyB) = await EndAsync(b, link.B, cancellationToken).ConfigureAwait(false);
        if (whyA is not null || whyB is not null)
        {
            return new LinkFrameCheck(id, false, null, "no frame sent: " + string.Join("; ", new[] { whyA, whyB }.OfType<string>()));
        }

        var (latency, problem) = await FrameProbe.ProbeAsync(endA, endB, timeout, cancellationToken).ConfigureAwait(false);
        return new LinkFrameCheck(id, true, latency, problem);
    }

    private static async Task<(FrameProbe.End End, string? Problem)> EndAsync(NetworkNamespace ns, LabEndpoint end, CancellationToken cancellationToken)
    {
        try
        {
            using var handle = NetlinkHandle.OpenAt(ns);
            var found = await handle.FindLinkAsync(end.Linux, cancellationToken).ConfigureAwait(false);
            return found switch
            {
                null => (default, $"{end} ({end.Linux}) is not in {ns.Name}"),
                { IsUp: false } => (default, $"{end} ({end.Linux}) is down"),
                { MacAddress: null } => (default, $"{end} ({end.Linux}) has no MAC address"),
                _ => (new FrameProbe.End(ns, found.Index, found.MacAddress, end.ToString()), null),
            };
        }
        catch (NetlinkException ex)
        {
            return (default, $"{end}: reading it in {ns.Name}: {ex.Message}");
        }
    }
}
