using System.Diagnostics;

namespace Aether.Labs.Cluster.Agent;

/// <summary>A placed lab's state across its hosts: each link as both ends' agents report it, with the hosts'
/// liveness.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="Links">Every link of the lab, in the lab's order.</param>
/// <param name="Hosts">The lab's hosts.</param>
public sealed record ClusterLabStatus(string Lab, IReadOnlyList<ClusterLinkStatus> Links, IReadOnlyList<HostStatus> Hosts)
{
    /// <summary>Whether every link is up on both ends.</summary>
    public bool AllUp => Links.All(l => l.State == LinkEndState.Up);

    /// <summary>The host of each node (node name → host), the controller's choice for <c>host: auto</c> nodes
    /// included; a node with none yet is absent.</summary>
    public IReadOnlyDictionary<string, HostId> Placements { get; init; } = new Dictionary<string, HostId>(StringComparer.Ordinal);
}

/// <summary>
/// The controller's side of labs across hosts: a deploy writes the lab, its placements and its links' VNIs in the
/// database (the agents wake on the NOTIFY those writes send) and waits until every link end is reported up or a
/// deadline passes; a destroy removes the placements, waits until every agent has removed its part (its reports
/// gone), then the lab.
/// </summary>
public sealed class ClusterLabs
{
    private readonly ClusterStore _cluster;
    private readonly ILabStore _labs;
    private readonly TimeSpan _hostTimeout;

    /// <summary>The labs of <paramref name="cluster"/>, stored in <paramref name="labs"/>.</summary>
    public ClusterLabs(ClusterStore cluster, ILabStore labs, TimeSpan? hostTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(labs);
        _cluster = cluster;
        _labs = labs;
        _hostTimeout = hostTimeout ?? TimeSpan.FromSeconds(10);
    }

    /// <summary>Stores <paramref name="lab"/> for its agents and waits up to <paramref name="wait"/> until every link is
    /// up. A host the lab names that no agent registered is refused before anything is written. Its <c>host: auto</c>
    /// nodes are placed by <see cref="LabPlacer"/> on the hosts alive now (a node keeps the live host it had).</summary>
    /// <exception cref="ArgumentException">The lab is not placed, names hosts no agent registered, or has
    /// <c>host: auto</c> nodes and no host is alive.</exception>
    public async Task<ClusterLabStatus> DeployAsync(LabSpec lab, string definition, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        if (!lab.IsPlaced)
        {
            throw new ArgumentException($"lab {lab.Name} places no node on a host", nameof(lab));
        }

        var registered = await _cluster.ListHostsAsync(_hostTimeout, cancellationToken).ConfigureAwait(false);
        var known = registered.Select(h => h.Id).ToHashSet();
        if (lab.Nodes.Any(n => n.AutoHost))
        {
            var previous = (await _cluster.ListPlacementsAsync(lab.Name, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Node, p => p.Host, StringComparer.Ordinal);
            lab = lab.WithPlacements(LabPlacer.Place(lab, [.. registered.Where(h => h.Alive).Select(h => h.Id)], previous));
        }

        var unknown = lab.Hosts.Where(h => !known.Contains(h)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"no agent registered host {string.Join(", ", unknown)} (start `aether agent --host-id ID` there first)", nameof(lab));
        }

        var tunnels = WireGuardPairs(lab);
        var keyless = tunnels.SelectMany(p => new[] { p.Item1, p.Item2 }).Distinct().Where(h => registered.First(r => r.Id == h).WireGuardKey is null).ToList();
        if (keyless.Count > 0)
        {
            throw new ArgumentException($"links with transport: wireguard need the WireGuard public key of host {string.Join(", ", keyless)}, which its agent has not registered (an agent registers its key when it starts: restart it with this version)", nameof(lab));
        }

        var started = DateTimeOffset.UtcNow;
        await _labs.SaveLabAsync(lab, definition, cancellationToken).ConfigureAwait(false);
        var crossing = lab.CrossHostLinks.Select(l => l.Id.Value).ToHashSet(StringComparer.Ordinal);
        var assigned = await _cluster.ListVnisAsync(lab.Name, cancellationToken).ConfigureAwait(false);
        var gone = assigned.Keys.Where(k => !crossing.Contains(k)).ToList();
        if (gone.Count > 0)
        {
            _ = await _cluster.ReleaseVnisAsync(lab.Name, gone, cancellationToken).ConfigureAwait(false);
        }

        _ = await _cluster.AssignVnisAsync(lab.Name, crossing, cancellationToken).ConfigureAwait(false);
        await AssignTagsAsync(lab, cancellationToken).ConfigureAwait(false);
        await AssignTunnelsAsync(lab.Name, tunnels, cancellationToken).ConfigureAwait(false);
        await _cluster.ForgetLinkEndsExceptAsync(lab.Name, lab.Links.Select(l => l.Id.Value).ToHashSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        await _cluster.SetPlacementsAsync(lab.Name, lab.Nodes.ToDictionary(n => n.Name, n => n.Host!.Value, StringComparer.Ordinal), cancellationToken).ConfigureAwait(false); // the NOTIFY
        return await WaitAsync(lab, s => s.AllUp && s.Links.All(l => l.A!.CheckedAt >= started && l.B!.CheckedAt >= started), wait, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lab's links as their ends' agents last reported them (a silent host makes its links errors).</summary>
    public async Task<ClusterLabStatus> StatusAsync(LabSpec lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        lab = await WithStoredPlacementsAsync(_cluster, lab, cancellationToken).ConfigureAwait(false);
        var reported = (await _cluster.ListLinkStatesAsync(lab.Name, _hostTimeout, cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.LinkId, StringComparer.Ordinal);
        var hosts = (await _cluster.ListHostsAsync(_hostTimeout, cancellationToken).ConfigureAwait(false)).Where(h => lab.Hosts.Contains(h.Id)).ToList();
        var links = lab.Links.Select(l => reported.TryGetValue(l.Id.Value, out var s) ? s : new ClusterLinkStatus(l.Id.Value, null, null, LinkEndState.Error, "no end reported yet")).ToList();
        return new ClusterLabStatus(lab.Name, links, hosts)
        {
            Placements = lab.Nodes.Where(n => n.Host is not null).ToDictionary(n => n.Name, n => n.Host!.Value, StringComparer.Ordinal),
        };
    }

    /// <summary><paramref name="lab"/> with its <c>host: auto</c> nodes on the hosts the controller chose (the stored
    /// placements); unchanged when it has none, or while some of them has no placement (not deployed yet, or being
    /// destroyed).</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public static async Task<LabSpec> WithStoredPlacementsAsync(ClusterStore cluster, LabSpec lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(lab);
        if (!lab.AwaitsPlacement)
        {
            return lab;
        }

        var stored = (await cluster.ListPlacementsAsync(lab.Name, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Node, p => p.Host, StringComparer.Ordinal);
        return lab.Nodes.All(n => !n.AutoHost || stored.ContainsKey(n.Name)) ? lab.WithPlacements(stored) : lab;
    }

    /// <summary>Removes the placements (the agents remove their parts), waits up to <paramref name="wait"/> until every
    /// agent has, then removes the lab and its VNIs. False when agents did not finish in time (the lab stays, without
    /// placements: a later destroy finishes it).</summary>
    public async Task<bool> DestroyAsync(string lab, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        await _cluster.SetPlacementsAsync(lab, new Dictionary<string, HostId>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        while ((await _cluster.ListLinkStatesAsync(lab, _hostTimeout, cancellationToken).ConfigureAwait(false)).Any(l => l.A is not null || l.B is not null))
        {
            if (clock.Elapsed > wait)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        _ = await _cluster.ReleaseVnisAsync(lab, (await _cluster.ListVnisAsync(lab, cancellationToken).ConfigureAwait(false)).Keys, cancellationToken).ConfigureAwait(false);
        _ = await _cluster.ReleaseTagsAsync(lab, (await _cluster.ListTagsAsync(lab, cancellationToken).ConfigureAwait(false)).Keys, cancellationToken).ConfigureAwait(false);
        _ = await _cluster.ReleaseWireGuardTunnelsAsync(lab, cancellationToken: cancellationToken).ConfigureAwait(false);
        _ = await _labs.DeleteLabAsync(lab, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>On the ovs fabric, every link's VLAN tag, lab-wide (both hosts of a cross-host link tag it alike):
    /// those of links gone given back, the others kept, new links given the smallest free. On the veth fabric, any
    /// tags held (the lab was on ovs before) are given back.</summary>
    private async Task AssignTagsAsync(LabSpec lab, CancellationToken cancellationToken)
    {
        var links = lab.Fabric == LabFabric.Ovs ? lab.Links.Select(l => l.Id.Value).ToHashSet(StringComparer.Ordinal) : [];
        var held = await _cluster.ListTagsAsync(lab.Name, cancellationToken).ConfigureAwait(false);
        var gone = held.Keys.Where(k => !links.Contains(k)).ToList();
        if (gone.Count > 0)
        {
            _ = await _cluster.ReleaseTagsAsync(lab.Name, gone, cancellationToken).ConfigureAwait(false);
        }

        if (links.Count > 0)
        {
            _ = await _cluster.AssignTagsAsync(lab.Name, links, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The pairs of hosts that <c>transport: wireguard</c> links cross between, each once.</summary>
    public static IReadOnlyList<(HostId, HostId)> WireGuardPairs(LabSpec lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return [.. lab.CrossHostLinks.Where(l => lab.TransportOf(l) == CrossHostTransport.WireGuard)
            .Select(l => (lab.HostOf(l.A)!.Value, lab.HostOf(l.B)!.Value))
            .Select(p => string.CompareOrdinal(p.Item1.Value, p.Item2.Value) < 0 ? p : (p.Item2, p.Item1))
            .Distinct()];
    }

    /// <summary>The lab's WireGuard tunnels: those of pairs no link crosses between any more given back (their
    /// devices go with the agents' next pass), the others kept, new pairs given a slot.</summary>
    private async Task AssignTunnelsAsync(string lab, IReadOnlyList<(HostId, HostId)> pairs, CancellationToken cancellationToken)
    {
        var gone = (await _cluster.ListWireGuardTunnelsAsync(lab, cancellationToken).ConfigureAwait(false))
            .Select(t => (t.HostA, t.HostB)).Where(p => !pairs.Contains(p)).ToList();
        if (gone.Count > 0)
        {
            _ = await _cluster.ReleaseWireGuardTunnelsAsync(lab, gone, cancellationToken).ConfigureAwait(false);
        }

        if (pairs.Count > 0)
        {
            _ = await _cluster.AssignWireGuardTunnelsAsync(lab, pairs, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ClusterLabStatus> WaitAsync(LabSpec lab, Func<ClusterLabStatus, bool> done, TimeSpan wait, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await StatusAsync(lab, cancellationToken).ConfigureAwait(false);
            if (done(status) || clock.Elapsed > wait)
            {
                return status;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
