namespace Aether.Labs.Cluster;

/// <summary>Node <see cref="Node"/> of lab <see cref="Lab"/> runs on <see cref="Host"/>.</summary>
/// <param name="Lab">The lab's name.</param>
/// <param name="Node">The node's name.</param>
/// <param name="Host">The host it is placed on.</param>
public sealed record Placement(string Lab, string Node, HostId Host);

public sealed partial class ClusterStore
{
    /// <summary>
    /// Places lab <paramref name="lab"/>'s nodes: afterwards the lab's placements are exactly
    /// <paramref name="nodes"/> (node → host; empty removes them all), in one transaction. Sends <c>lab=NAME
    /// host=ID</c> for every host that had or has one of its nodes.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid lab or node name, or a host that is not registered (named in
    /// the message); nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task SetPlacementsAsync(string lab, IReadOnlyDictionary<string, HostId> nodes, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(nodes);
        foreach (var (node, host) in nodes)
        {
            ClusterNames.Node(node);
            ClusterNames.Host(host, $"host of node '{node}'");
        }

        var ordered = nodes.OrderBy(n => n.Key, StringComparer.Ordinal).ToList();
        var hosts = ordered.Select(n => n.Value.Value).Distinct(StringComparer.Ordinal).ToArray();
        return RunAsync($"place lab '{lab}'", async (connection, transaction) =>
        {
            // The lab's placements are replaced as a whole: two writers of one lab take turns on this lock.
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('aether_cluster:placements:' || $1))", cancellationToken, lab).ConfigureAwait(false);
            var known = (await QueryAsync(connection, transaction, "SELECT id FROM cluster_hosts WHERE id = ANY($1) FOR KEY SHARE", r => r.GetString(0), cancellationToken, (object)hosts).ConfigureAwait(false))
                .ToHashSet(StringComparer.Ordinal);
            if (ordered.FirstOrDefault(n => !known.Contains(n.Value.Value)) is { Key: not null } missing)
            {
                throw new ArgumentException($"host of node '{missing.Key}': host '{missing.Value}' is not registered", nameof(nodes));
            }

            var before = await QueryAsync(connection, transaction, "DELETE FROM cluster_placements WHERE lab = $1 RETURNING host_id", r => r.GetString(0), cancellationToken, lab).ConfigureAwait(false);
            if (ordered.Count > 0)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO cluster_placements (lab, node, host_id) SELECT $1, n, h FROM unnest($2::text[], $3::text[]) AS u(n, h)",
                    cancellationToken, lab, ordered.Select(n => n.Key).ToArray(), ordered.Select(n => n.Value.Value).ToArray()).ConfigureAwait(false);
            }

            foreach (var host in before.Concat(hosts).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, HostId.Parse(host)), cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken);
    }

    /// <summary>Lab <paramref name="lab"/>'s placements, by node.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<Placement>> ListPlacementsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        return RunAsync<IReadOnlyList<Placement>>($"list placements of lab '{lab}'", async (connection, transaction) =>
            await QueryAsync(connection, transaction, "SELECT lab, node, host_id FROM cluster_placements WHERE lab = $1 ORDER BY node",
                r => new Placement(r.GetString(0), r.GetString(1), HostId.Parse(r.GetString(2))), cancellationToken, lab).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Which (lab, node) are placed on <paramref name="host"/>, by lab then node.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<Placement>> ListPlacementsOnHostAsync(HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Host(host);
        return RunAsync<IReadOnlyList<Placement>>($"list placements on host '{host}'", async (connection, transaction) =>
            await QueryAsync(connection, transaction, "SELECT lab, node, host_id FROM cluster_placements WHERE host_id = $1 ORDER BY lab, node",
                r => new Placement(r.GetString(0), r.GetString(1), HostId.Parse(r.GetString(2))), cancellationToken, host.Value).ConfigureAwait(false),
            cancellationToken);
    }
}
