using System.Globalization;

namespace Aether.Labs.Cluster;

/// <summary>The controller holding the leader lock, as the database sees it.</summary>
/// <param name="BackendPid">The server process of the leader's connection.</param>
/// <param name="Name">The <c>application_name</c> the leader connected with (<c>aether serve HOST pid N</c>), or null.</param>
/// <param name="Client">The address the leader connected from, or null for a unix socket.</param>
/// <param name="Since">When the leader's connection began (the database's clock).</param>
public sealed record LeaderInfo(int BackendPid, string? Name, string? Client, DateTimeOffset Since);

public sealed partial class ClusterStore
{
    /// <summary>Who holds the advisory lock <paramref name="key"/> in this database (<c>pg_locks</c> joined with
    /// <c>pg_stat_activity</c>), or null when nobody does. The name and address are visible to the lock holder's own
    /// role or a member of <c>pg_read_all_stats</c>; to others they read null.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<LeaderInfo?> FindLeaderAsync(long key = LeaderElector.LockKey, CancellationToken cancellationToken = default) =>
        RunAsync(string.Create(CultureInfo.InvariantCulture, $"find the holder of lock {key}"), async (connection, transaction) =>
        {
            // A bigint advisory key is stored as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
            var rows = await QueryAsync(connection, transaction, """
                SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.classid::bigint = $1 AND l.objid::bigint = $2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, r => new LeaderInfo(
                    r.GetInt32(0),
                    r.IsDBNull(1) || r.GetString(1).Length == 0 ? null : r.GetString(1),
                    r.IsDBNull(2) ? null : r.GetString(2),
                    r.IsDBNull(3) ? DateTimeOffset.MinValue : r.GetFieldValue<DateTimeOffset>(3)),
                cancellationToken, (key >> 32) & 0xFFFF_FFFF, key & 0xFFFF_FFFF).ConfigureAwait(false);
            return rows.FirstOrDefault();
        }, cancellationToken);
}
