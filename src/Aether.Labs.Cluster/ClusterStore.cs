using System.Globalization;
using System.Net.Sockets;
using Aether.Labs.Cluster.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aether.Labs.Cluster;

/// <summary>
/// The cluster's shared state in PostgreSQL (see docs/cluster.md): hosts and their heartbeats, node placements,
/// per-link VNIs, link-end states reported by agents, and reference-counted VTEPs. Every write is one transaction;
/// the writes that change desired state send a hint on <see cref="Channel"/> (<c>pg_notify</c>) in that same
/// transaction, so a listener hears of a change only once it is committed. Bad input throws
/// <see cref="ArgumentException"/> naming the field before anything is written; the database's errors come as
/// <see cref="ClusterException"/> with the server's message. Each operation takes a pooled connection of its own, so
/// one store serves concurrent callers.
/// </summary>
public sealed partial class ClusterStore : IAsyncDisposable
{
    /// <summary>The channel of the wake-up hints (<c>LISTEN aether_cluster</c>).</summary>
    public const string Channel = "aether_cluster";

    private const int MaxAttempts = 5;

    private readonly NpgsqlDataSource _dataSource;
    private readonly DbContextOptions<ClusterDbContext> _options;

    private ClusterStore(NpgsqlConnectionStringBuilder builder)
    {
        builder.IncludeErrorDetail = true; // the server's DETAIL (which key, which row): the store holds no secrets
        ConnectionString = builder.ConnectionString;
        Location = string.Create(CultureInfo.InvariantCulture, $"postgres://{builder.Username}@{builder.Host}:{(builder.Port == 0 ? 5432 : builder.Port)}/{builder.Database}");
        _dataSource = new NpgsqlDataSourceBuilder(ConnectionString).Build();
        _options = Options(new DbContextOptionsBuilder<ClusterDbContext>(), _dataSource).Options;
    }

    /// <summary>The database as errors name it: <c>postgres://user@host:port/db</c> (never the password).</summary>
    public string Location { get; }

    /// <summary>The Npgsql connection string (for <see cref="ClusterListener"/> and <see cref="LeaderElector"/>).</summary>
    public string ConnectionString { get; }

    /// <summary>Opens the store (nothing is read until the first operation; call <see cref="MigrateAsync"/> first).</summary>
    /// <param name="database">A <c>postgres://user[:password]@host[:port]/db</c> URL or an Npgsql connection string
    /// (<c>Host=...;Database=...</c>).</param>
    /// <exception cref="ArgumentException">Neither form, or no host (the message says which).</exception>
    public static ClusterStore Open(string database) => new(ClusterDatabase.Parse(database));

    /// <summary>The advisory lock migrations of the cluster's tables take turns under: the bytes of <c>"aether:3"</c>.</summary>
    public const long MigrationLockKey = 0x6165746865723A33;

    /// <summary>Creates the cluster's tables or brings them up to date (EF migrations, history in
    /// <c>__aether_cluster_migrations</c>); returns the names of the migrations applied now.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = new ClusterDbContext(_options);
            // Agents, controllers and CLIs migrate one database at once as they start: they take turns under a
            // session lock on this context's connection, and each reads what is pending only once it holds it.
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
            try
            {
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
                await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
                return [.. pending.Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..])];
            }
            finally
            {
                await MigrationLock.ReleaseAsync(db, MigrationLockKey).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsDatabase(ex))
        {
            throw Wrap("migrate", ex);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>The context's options on PostgreSQL with this context's own migrations history table.</summary>
    internal static DbContextOptionsBuilder<ClusterDbContext> Options(DbContextOptionsBuilder<ClusterDbContext> builder, NpgsqlDataSource dataSource) =>
        builder.UseNpgsql(dataSource, o => o.MigrationsHistoryTable(ClusterDbContext.HistoryTable));

    /// <summary>The same for a connection string (design time).</summary>
    internal static DbContextOptionsBuilder<ClusterDbContext> Options(DbContextOptionsBuilder<ClusterDbContext> builder, string connectionString) =>
        builder.UseNpgsql(connectionString, o => o.MigrationsHistoryTable(ClusterDbContext.HistoryTable));

    /// <summary>Runs <paramref name="body"/> in one transaction on a connection of its own and commits; a
    /// serialization failure or deadlock (and, with <paramref name="retryUnique"/>, a unique key taken meanwhile)
    /// is rolled back and run again, and so is a statement refused by a server that was restarted meanwhile (57P01,
    /// 57P02, 57P03: the pool is cleared first). Database errors become <see cref="ClusterException"/>.</summary>
    private async Task<T> RunAsync<T>(string operation, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> body, CancellationToken cancellationToken, bool retryUnique = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var result = await body(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException ex) when (attempt < MaxAttempts && (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                || (retryUnique && string.Equals(ex.SqlState, PostgresErrorCodes.UniqueViolation, StringComparison.Ordinal))))
            {
                await Task.Delay(attempt * 10, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (attempt < MaxAttempts && ex.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow)
            {
                // The server restarted since this pooled connection was opened: it refused the statement (nothing ran
                // or committed). Its pool mates died the same way: drop them all and run again on a new connection.
                _dataSource.Clear();
                await Task.Delay(attempt * 100, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsDatabase(ex))
            {
                throw Wrap(operation, ex);
            }
        }
    }

    /// <summary>A command on <paramref name="connection"/> in <paramref name="transaction"/> with positional
    /// parameters (<c>$1</c>, <c>$2</c>, …).</summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>Runs a command that returns no rows; the number of rows it touched.</summary>
    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a query and reads each row with <paramref name="read"/>.</summary>
    private static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<T> rows = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>Sends <paramref name="hint"/> on <see cref="Channel"/> in the transaction (delivered at commit).</summary>
    private static Task<int> NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ClusterHint hint, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "SELECT pg_notify($1, $2)", cancellationToken, Channel, hint.Payload);

    private static bool IsDatabase(Exception exception) =>
        exception is NpgsqlException or DbUpdateException or SocketException || exception.InnerException is NpgsqlException or SocketException;

    private ClusterException Wrap(string operation, Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException postgres)
            {
                var detail = string.IsNullOrEmpty(postgres.Detail) ? postgres.MessageText : postgres.MessageText + " (" + postgres.Detail + ")";
                return new ClusterException(Location, operation, $"{detail} [SQLSTATE {postgres.SqlState}]", postgres.SqlState, exception);
            }
        }

        List<string> parts = [];
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is not DbUpdateException && !parts.Contains(e.Message, StringComparer.Ordinal))
            {
                parts.Add(e.Message);
            }
        }

        return new ClusterException(Location, operation, string.Join(": ", parts), null, exception);
    }
}
