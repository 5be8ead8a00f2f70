using System.Collections.Concurrent;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Labs.Cluster.Agent;

/// <summary>What <c>verify --deep</c> found for one link of a placed lab.</summary>
/// <param name="LinkId">The link.</param>
/// <param name="Probed">Whether a frame was sent: false when an end's namespace is not on this machine (see
/// <paramref name="Problem"/>).</param>
/// <param name="Latency">The slower direction's time for a frame to cross, when it crossed both ways.</param>
/// <param name="Problem">Why the frame did not cross (or was not sent), or null when it crossed both ways.</param>
public sealed record LinkFrameCheck(string LinkId, bool Probed, TimeSpan? Latency, string? Problem)
{
    /// <summary>Whether a frame crossed the link both ways.</summary>
    public bool Crossed => Probed && Problem is null;
}

/// <summary>
/// <c>verify --deep</c> for a lab across hosts, from the machine it runs on: for every link whose two ends' node
/// namespaces are both here (simulated hosts, or a lab whose nodes all sit on this machine's host), a raw frame is
/// sent each way across it (the one-host check's probe), so a cross-host link is proven to carry traffic through its
/// tunnel, VNI and underlay included. A link with an end whose namespace is not on this machine is not probed and
/// says so: nothing is claimed for it.
/// </summary>
public static class CrossHostFrames
{
    /// <summary>Probes the links of <paramref name="lab"/> (up to 8 at once), each direction waiting up to
    /// <paramref name="timeout"/>; one result per link, in the lab's order.</summary>
    public static async Task<IReadOnlyList<LinkFrameCheck>> ProbeAsync(LabSpec lab, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var results = new ConcurrentDictionary<int, LinkFrameCheck>();
        await Parallel.ForAsync(0, lab.Links.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            results[i] = await ProbeAsync(lab, lab.Links[i], timeout, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return [.. Enumerable.Range(0, lab.Links.Count).Select(i => results[i])];
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
            return new LinkFrameCheck(id, false, null, $"no frame sent: {string.Join(" and ", missing)} not on this machine; run verify --deep where both ends are");
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
