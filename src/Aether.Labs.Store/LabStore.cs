using Aether.Labs.Store.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aether.Labs.Store;

/// <summary>
/// <see cref="ILabStore"/> through EF Core: a SQLite file in the state directory by default, PostgreSQL by connection
/// string (<see cref="Open"/>). Every write is one transaction. Two processes may write the same lab at once: on
/// PostgreSQL a save locks the lab's row first, on SQLite a writer holds the file's write lock for its transaction
/// (<c>BEGIN IMMEDIATE</c>), and a transaction that still collides with another's (a unique key taken meanwhile, a
/// deadlock, a busy file) is rolled back and done again, so that the unique constraints hold and nothing is stored
/// twice. Each operation has a context and a connection of its own (pooled), so one store serves concurrent callers.
/// Errors from the database come as <see cref="LabStoreException"/>, naming the store and carrying the server's message.
/// </summary>
public sealed partial class LabStore : ILabStore
{
    private const int MaxAttempts = 8;

    private readonly LabDatabase _database;
    private readonly Func<string, string, string?> _normalize;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly DbContextOptions<SqliteLabDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresLabDbContext>? _postgres;

    private LabStore(LabDatabase database, Func<string, string, string?> normalize)
    {
        _database = database;
        _normalize = normalize;
        if (database.Provider == LabStoreProvider.Postgres)
        {
            _dataSource = new NpgsqlDataSourceBuilder(database.ConnectionString).Build();
            _postgres = new DbContextOptionsBuilder<PostgresLabDbContext>().UseNpgsql(_dataSource).Options;
        }
        else
        {
            _sqlite = new DbContextOptionsBuilder<SqliteLabDbContext>().UseSqlite(database.ConnectionString).AddInterceptors(new SqliteSynchronousNormal()).Options;
        }
    }

    /// <summary>The database behind the store.</summary>
    public LabStoreProvider Provider => _database.Provider;

    /// <summary>The store as errors name it: <c>postgres://user@host:port/db</c> (never the password) or the SQLite
    /// file's full path.</summary>
    public string Location => _database.Location;

    /// <summary>
    /// Opens the store named by <paramref name="database"/> (nothing is read until the first operation; call
    /// <see cref="MigrateAsync"/> first): null or empty → the SQLite file <c>labs.db</c> in
    /// <paramref name="stateDirectory"/>; a <c>postgres://user[:password]@host[:port]/db</c> URL or a
    /// <c>Host=...;</c> connection string → PostgreSQL; <c>sqlite:PATH</c> → that SQLite file. A SQLite file is created
    /// with mode 0600 in a directory created with mode 0700 when missing.
    /// </summary>
    /// <param name="database">The <c>--db</c> argument.</param>
    /// <param name="stateDirectory">The daemon's state directory.</param>
    /// <param name="normalize">Maps (device kind, interface as written) to the Linux name, or null when it cannot: the
    /// migration that gives an older store's links their identity uses it (the lab engine passes the interface
    /// profiles). Null, and every null it returns, falls back to <see cref="InterfaceNames.DefaultLinuxName"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="database"/> is none of those forms.</exception>
    /// <exception cref="LabStoreException">The SQLite file's directory or file could not be created.</exception>
    public static LabStore Open(string? database, string stateDirectory, Func<string, string, string?>? normalize = null)
    {
        var parsed = LabDatabase.Parse(database, stateDirectory);
        if (parsed.Provider == LabStoreProvider.Sqlite)
        {
            StoreFile.Prepare(parsed.Location);
        }

        return new LabStore(parsed, normalize ?? ((_, _) => null));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            // Pooled connections keep the file (and its -wal) open: close them, so the file can be moved or removed.
            using var connection = new SqliteConnection(_database.ConnectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    /// <summary>A context of its own for one operation.</summary>
    internal LabDbContext CreateContext() => _postgres is not null ? new PostgresLabDbContext(_postgres) : new SqliteLabDbContext(_sqlite!);

    /// <summary>The Linux name of <paramref name="name"/> on a node of <paramref name="kind"/>.</summary>
    internal string LinuxName(string kind, string name) => _normalize(kind, name) ?? InterfaceNames.DefaultLinuxName(kind, name);

    /// <summary>Runs <paramref name="body"/> with a fresh context; a conflict with another writer (see
    /// <see cref="StoreErrors.IsConflict"/>) runs it again, up to <see cref="MaxAttempts"/> times; a database error
    /// becomes a <see cref="LabStoreException"/>.</summary>
    private async Task<T> RunAsync<T>(string operation, Func<LabDbContext, Task<T>> body, CancellationToken cancellationToken, bool retry = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var db = CreateContext();
                await using (db.ConfigureAwait(false))
                {
                    return await body(db).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (retry && attempt < MaxAttempts && !cancellationToken.IsCancellationRequested && StoreErrors.IsConflict(ex))
            {
                // Rolled back (the transaction was disposed uncommitted): wait a little, longer each time, with jitter.
                await Task.Delay(TimeSpan.FromMilliseconds((5 << attempt) + Random.Shared.Next(10)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (StoreErrors.IsDatabase(ex) && !cancellationToken.IsCancellationRequested)
            {
                throw StoreErrors.Wrap(Location, operation, ex);
            }
        }
    }
}
