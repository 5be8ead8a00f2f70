using Aether.Labs.Store.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Aether.Labs.Store;

/// <summary>What <see cref="LabStore.UpgradeAsync"/> did.</summary>
/// <param name="Applied">The migrations applied now, in order (their names: <c>Initial</c>, <c>AddLinkKey</c>,
/// <c>UniqueLinkKey</c>); empty when the store was up to date.</param>
/// <param name="DuplicatesRemoved">Links deleted as duplicates of an older row with the same identity.</param>
public sealed record LabStoreMigration(IReadOnlyList<string> Applied, int DuplicatesRemoved);

public sealed partial class LabStore
{
    /// <summary>The migrations, by name: the same on both providers (each has its own set, in
    /// <c>Migrations/Sqlite</c> and <c>Migrations/Postgres</c>).</summary>
    internal static class Migrations
    {
        /// <summary>The older store: links as written, with no identity.</summary>
        public const string Initial = "Initial";

        /// <summary>The identity's columns (<c>link_key</c>, <c>source_linux</c>, <c>target_linux</c>, <c>seq</c>),
        /// nullable; <see cref="LinkKeyBackfill"/> fills them and merges duplicates after it.</summary>
        public const string AddLinkKey = "AddLinkKey";

        /// <summary>The columns required and the unique index on (lab, <c>link_key</c>).</summary>
        public const string UniqueLinkKey = "UniqueLinkKey";
    }

    /// <summary>The PostgreSQL advisory lock migrations of the lab store take turns under: the bytes of
    /// <c>"aether:2"</c>.</summary>
    public const long MigrationLockKey = 0x6165746865723A32;

    /// <inheritdoc/>
    public Task MigrateAsync(CancellationToken cancellationToken = default) => UpgradeAsync(cancellationToken);

    /// <summary>Creates the schema or brings it up to date, as <see cref="MigrateAsync"/> does, and says what it
    /// did.</summary>
    /// <exception cref="LabStoreException">The database refused (the message says where and why).</exception>
    public Task<LabStoreMigration> UpgradeAsync(CancellationToken cancellationToken = default) => MigrateToAsync(null, cancellationToken);

    /// <summary>
    /// Applies the migrations up to <paramref name="target"/> (a name in <see cref="Migrations"/>; null for all),
    /// never down. Between <see cref="Migrations.AddLinkKey"/> and <see cref="Migrations.UniqueLinkKey"/> it runs
    /// the data step (<see cref="LinkKeyBackfill"/>): every link's identity from its endpoints as written, normalized
    /// with the node's kind, and duplicates merged (the oldest kept). Each step is its own transaction and each is
    /// safe to repeat, so a run that stopped half-way is finished by the next.
    /// </summary>
    internal Task<LabStoreMigration> MigrateToAsync(string? target, CancellationToken cancellationToken) =>
        RunAsync("migrate", async db =>
        {
            if (Provider == LabStoreProvider.Sqlite)
            {
                // Readers never wait for the writer, and a commit is one fsync of the log (persistent in the file).
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Several processes migrate one PostgreSQL database at once (the agents, the controller, a CLI as
                // they start): they take turns under a session lock on this context's connection, which every step
                // below uses, and each reads what is applied only once it holds the lock.
                await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
                try
                {
                    return await MigrateLockedAsync(db, target, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // Unlocked here: a pooled connection keeps its session (and the lock) until its next use.
                    try
                    {
                        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (StoreErrors.IsDatabase(ex))
                    {
                        // The connection broke: the server ended its session, and the lock with it.
                    }
                }
            }

            return await MigrateLockedAsync(db, target, cancellationToken).ConfigureAwait(false);
        }, cancellationToken, retry: false);

    private async Task<LabStoreMigration> MigrateLockedAsync(LabDbContext db, string? target, CancellationToken cancellationToken)
    {
        var all = db.Database.GetMigrations().ToList();
        var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var last = target is null ? all.Count - 1 : all.FindIndex(id => id.EndsWith("_" + target, StringComparison.Ordinal));
        if (last < 0)
        {
            throw new ArgumentException($"no migration named '{target}'", nameof(target));
        }

        var pending = all.Take(last + 1).Where(id => !applied.Contains(id)).ToList();
        var migrator = db.GetService<IMigrator>();
        var removed = 0;
        var unique = all.FindIndex(id => id.EndsWith("_" + Migrations.UniqueLinkKey, StringComparison.Ordinal));
        if (last >= unique && !applied.Contains(all[unique]))
        {
            await migrator.MigrateAsync(all[unique - 1], cancellationToken).ConfigureAwait(false);
            removed = await LinkKeyBackfill.RunAsync(db, Provider, LinuxName, cancellationToken).ConfigureAwait(false);
        }

        if (pending.Count > 0)
        {
            await migrator.MigrateAsync(all[last], cancellationToken).ConfigureAwait(false);
        }

        return new LabStoreMigration([.. pending.Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..])], removed);
    }
}
