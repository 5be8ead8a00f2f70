namespace Aether.Labs;

/// <summary>
/// How the controller chooses a host for each <c>host: auto</c> node of a lab. Deterministic (the same lab, hosts
/// and earlier placements give the same answer), and stable: a node keeps the host it was on while that host is
/// alive, so a re-deploy moves nothing that runs. A new node goes to the host that already holds most of its
/// neighbours (the nodes it has links with), so that fewer links cross between hosts, among the hosts below their
/// fair share (⌈nodes ÷ hosts⌉, nodes the file placed counted too); ties go to the host with fewest of the lab's
/// nodes, then to the smallest id. Nodes are taken in file order.
/// </summary>
public static class LabPlacer
{
    /// <summary>The host of every node of <paramref name="lab"/>: the file's for nodes it placed, a chosen one among
    /// <paramref name="alive"/> for <c>host: auto</c> nodes (kept from <paramref name="previous"/> when that host is
    /// alive).</summary>
    /// <exception cref="ArgumentException">The lab has <c>host: auto</c> nodes and no host is alive.</exception>
    public static IReadOnlyDictionary<string, HostId> Place(LabSpec lab, IReadOnlyCollection<HostId> alive, IReadOnlyDictionary<string, HostId> previous)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(alive);
        ArgumentNullException.ThrowIfNull(previous);
        var placed = new Dictionary<string, HostId>(StringComparer.Ordinal);
        foreach (var node in lab.Nodes.Where(n => !n.AutoHost && n.Host is not null))
        {
            placed[node.Name] = node.Host!.Value;
        }

        var auto = lab.Nodes.Where(n => n.AutoHost).ToList();
        if (auto.Count == 0)
        {
            return placed;
        }

        var hosts = alive.Distinct().Order().ToList();
        if (hosts.Count == 0)
        {
            throw new ArgumentException($"lab {lab.Name}: nodes {string.Join(", ", auto.Select(n => n.Name))} have host: auto, and no agent's host is alive to place them on", nameof(alive));
        }

        var aliveSet = hosts.ToHashSet();
        foreach (var node in auto.Where(n => previous.TryGetValue(n.Name, out var host) && aliveSet.Contains(host)))
        {
            placed[node.Name] = previous[node.Name];
        }

        var share = (lab.Nodes.Count + hosts.Count - 1) / hosts.Count;
        var neighbours = Neighbours(lab);
        foreach (var node in auto.Where(n => !placed.ContainsKey(n.Name)))
        {
            var load = hosts.ToDictionary(h => h, h => placed.Values.Count(p => p == h));
            var below = hosts.Where(h => load[h] < share).ToList();
            var candidates = below.Count > 0 ? below : hosts;
            placed[node.Name] = candidates
                .OrderByDescending(h => neighbours[node.Name].Count(n => placed.TryGetValue(n, out var at) && at == h))
                .ThenBy(h => load[h])
                .ThenBy(h => h)
                .First();
        }

        return placed;
    }

    private static Dictionary<string, List<string>> Neighbours(LabSpec lab)
    {
        var neighbours = lab.Nodes.ToDictionary(n => n.Name, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var link in lab.Links)
        {
            neighbours[link.A.Node].Add(link.B.Node);
            neighbours[link.B.Node].Add(link.A.Node);
        }

        return neighbours;
    }
}
