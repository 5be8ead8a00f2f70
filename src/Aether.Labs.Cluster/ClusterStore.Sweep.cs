namespace Aether.Labs.Cluster;

/// <summary>What one <see cref="ClusterStore.SweepAsync"/> removed.</summary>
/// <param name="Placements">Placements of labs the lab store no longer has (their agents remove their parts).</param>
/// <param name="Vnis">VNIs (links' and tunnels') of labs gone everywhere.</param>
/// <param name="Vteps">VTEP rows of gone labs on hosts that stopped (no agent is there to detach them).</param>
/// <param name="LinkEnds">Link-end reports of gone labs from hosts that stopped.</param>
public sealed record SweepResult(int Placements, int Vnis, int Vteps, int LinkEnds)
{
    /// <summary>Whether anything was removed.</summary>
    public bool Any => Placements + Vnis + Vteps + LinkEnds > 0;
}

public sealed partial class ClusterStore
{
    /// <summary>
    /// The leading controller's clean-up of labs that no longer exist (no row in the lab store's <c>labs</c> table,
    /// which shares this database): their placements are removed (a <c>lab=NAME host=ID</c> hint to each host, whose
    /// agent then removes its part); the VTEP rows and link-end reports left on hosts whose heartbeat is older than
    /// <paramref name="hostTimeout"/> are removed (no agent will detach them); and once a gone lab has no placement,
    /// VTEP or report left, its VNIs are released. Each test of "gone" is made in the statement that deletes, so a
    /// lab saved meanwhile (a deploy stores the lab before its placements) is never swept. One transaction.
    /// </summary>
    /// <exception cref="ClusterException">The database refused (also when the lab store's tables are not there).</exception>
    public Task<SweepResult> SweepAsync(TimeSpan hostTimeout, CancellationToken cancellationToken = default)
    {
        ClusterNames.Timeout(hostTimeout, nameof(hostTimeout));
        return RunAsync("sweep the rows of labs that no longer exist", async (connection, transaction) =>
        {
            static string Gone(string alias) => $"NOT EXISTS (SELECT 1 FROM labs WHERE labs.name = {alias}.lab)";
            var placed = await QueryAsync(connection, transaction, $"DELETE FROM cluster_placements p WHERE {Gone("p")} RETURNING lab, host_id",
                r => (Lab: r.GetString(0), Host: r.GetString(1)), cancellationToken).ConfigureAwait(false);
            foreach (var (lab, host) in placed.Distinct().Order())
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, HostId.Parse(host)), cancellationToken).ConfigureAwait(false);
            }

            const string Dead = "(SELECT id FROM cluster_hosts WHERE now() - last_seen > $1)";
            var stale = await QueryAsync(connection, transaction, $"SELECT v.id FROM cluster_vteps v WHERE {Gone("v")} AND v.host_id IN {Dead} FOR UPDATE OF v",
                r => r.GetInt64(0), cancellationToken, hostTimeout).ConfigureAwait(false);
            _ = await ExecuteAsync(connection, transaction, "DELETE FROM cluster_vtep_links WHERE vtep_id = ANY($1)", cancellationToken, stale.ToArray()).ConfigureAwait(false);
            var vteps = await ExecuteAsync(connection, transaction, "DELETE FROM cluster_vteps WHERE id = ANY($1)", cancellationToken, stale.ToArray()).ConfigureAwait(false);
            var ends = await ExecuteAsync(connection, transaction, $"DELETE FROM cluster_link_ends e WHERE {Gone("e")} AND e.host_id IN {Dead}", cancellationToken, hostTimeout).ConfigureAwait(false);
            var vnis = await ExecuteAsync(connection, transaction, $"""
                DELETE FROM cluster_vnis n WHERE {Gone("n")}
                  AND NOT EXISTS (SELECT 1 FROM cluster_placements p WHERE p.lab = n.lab)
                  AND NOT EXISTS (SELECT 1 FROM cluster_vteps v WHERE v.lab = n.lab)
                  AND NOT EXISTS (SELECT 1 FROM cluster_link_ends e WHERE e.lab = n.lab)
                """, cancellationToken).ConfigureAwait(false);
            return new SweepResult(placed.Count, vnis, vteps, ends);
        }, cancellationToken);
    }
}
