using Microsoft.EntityFrameworkCore;

namespace Aether.Labs.Cluster;

/// <summary>The end of a migration's turn under its advisory lock.</summary>
internal static class MigrationLock
{
    /// <summary>Unlocks <paramref name="key"/> on <paramref name="db"/>'s connection: a pooled connection keeps its
    /// session, and the lock, until its next use. A broken connection needs nothing: the server ended its session
    /// and the lock with it.</summary>
    public static async Task ReleaseAsync(DbContext db, long key)
    {
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({key})", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
        {
            // Nothing to release: see above.
        }
    }
}
