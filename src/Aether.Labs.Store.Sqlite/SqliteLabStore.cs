using Microsoft.Data.Sqlite;

namespace Aether.Labs.Store;

/// <summary>
/// <see cref="ILabStore"/> on a SQLite file in plain SQL: the tables, rules and errors of the EF Core store
/// (<c>LabStore</c> in <c>Aether.Labs.Store</c>, which owns the migrations), in code that needs no code generated at
/// run time, so the native CLI holds it. Rows one store writes, the other reads: the same columns, the same texts for
/// states and fabrics, times as EF Core's SQLite provider writes them (<c>yyyy-MM-dd HH:mm:ss.FFFFFFFzzz</c>, to the
/// microsecond). <see cref="MigrateAsync"/> creates the schema on an empty file and accepts a file at the latest
/// migration; any other file (older, newer, half-migrated) raises <see cref="LabStoreSchemaException"/>, for the EF
/// Core store to migrate. Every write is one transaction that takes the file's write lock first
/// (<c>BEGIN IMMEDIATE</c>); one that collides with another writer anyway (busy, a unique key taken meanwhile) is
/// rolled back and done again.
/// </summary>
public sealed partial class SqliteLabStore : ILabStore
{
    private const int MaxAttempts = 8;

    private readonly string _connectionString;

    private SqliteLabStore(string path)
    {
        Location = path;
        _connectionString = ConnectionString(path);
    }

    /// <summary>The SQLite file's full path (what errors name).</summary>
    public string Location { get; }

    /// <summary>Opens the store on the SQLite file at <paramref name="path"/>, creating the directory (0700) and an
    /// empty file (0600) when missing. Nothing is read until the first operation: call <see cref="MigrateAsync"/>
    /// first.</summary>
    /// <exception cref="LabStoreException">The directory or file could not be created.</exception>
    public static SqliteLabStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        StoreFile.Prepare(full);
        return new SqliteLabStore(full);
    }

    /// <summary>
    /// The SQLite file a <c>--db</c> argument names: null or blank → <c>labs.db</c> in
    /// <paramref name="stateDirectory"/>; <c>sqlite:PATH</c> → PATH; anything else is not SQLite (false).
    /// </summary>
    /// <exception cref="ArgumentException"><c>sqlite:</c> names no file.</exception>
    public static bool TryFile(string? database, string stateDirectory, out string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        if (string.IsNullOrWhiteSpace(database))
        {
            path = Path.GetFullPath(Path.Combine(stateDirectory, DefaultFileName));
            return true;
        }

        database = database.Trim();
        if (database.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var file = database["sqlite:".Length..];
            path = file.Length == 0 ? throw new ArgumentException("database 'sqlite:' names no file: expected sqlite:PATH", nameof(database)) : Path.GetFullPath(file);
            return true;
        }

        path = "";
        return false;
    }

    /// <summary>The file in the state directory when no database is named.</summary>
    public const string DefaultFileName = "labs.db";

    /// <summary>How both stores connect to a SQLite file: read-write-create, foreign keys on (the cascades), pooled,
    /// and a writer waits up to 30 s for another's lock before SQLITE_BUSY.</summary>
    internal static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        ForeignKeys = true,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        // Pooled connections keep the file (and its -wal) open: close them, so the file can be moved or removed.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>An open connection with the store's settings (a commit is one fsync of the log, as in the EF Core
    /// store).</summary>
    private async Task<SqliteConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=NORMAL";
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> on a connection of its own, in a transaction when
    /// <paramref name="write"/> (committed when it returns); a collision with another writer runs it again, up to
    /// <see cref="MaxAttempts"/> times; a database error becomes a <see cref="LabStoreException"/>.</summary>
    private async Task<T> RunAsync<T>(string operation, bool write, Func<SqliteConnection, SqliteTransaction?, T> body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    if (!write)
                    {
                        return body(connection, null);
                    }

                    // Deferred: false, so BEGIN IMMEDIATE (the write lock up front, never an upgrade that deadlocks).
                    using var transaction = connection.BeginTransaction(deferred: false);
                    var result = body(connection, transaction);
                    transaction.Commit();
                    return result;
                }
            }
            catch (SqliteException ex) when (write && attempt < MaxAttempts && !cancellationToken.IsCancellationRequested && IsConflict(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds((5 << attempt) + Random.Shared.Next(10)), cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Wrap(Location, operation, ex);
            }
        }
    }

    /// <summary>SQLITE_BUSY, SQLITE_LOCKED, or a unique or primary key taken by another writer meanwhile.</summary>
    internal static bool IsConflict(SqliteException exception) =>
        exception.SqliteErrorCode is 5 or 6 || exception is { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    /// <summary>SQLite's error as the store's: its message, with the extended code as <c>SqlState</c>.</summary>
    internal static LabStoreException Wrap(string location, string operation, SqliteException exception) =>
        new(location, operation, exception.Message, exception.SqliteExtendedErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture), exception);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static object Db(object? value) => value ?? DBNull.Value;
}
