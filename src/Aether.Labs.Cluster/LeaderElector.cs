using Npgsql;

namespace Aether.Labs.Cluster;

/// <summary>
/// The controllers' leader lock: a session-level advisory lock (<c>pg_try_advisory_lock(</c><see cref="LockKey"/>
/// <c>)</c>) held on a dedicated connection (not pooled), so it is released when that connection ends — the
/// controller died, its backend was terminated, the network broke — and by nobody else. A follower calls
/// <see cref="TryLeadAsync"/> every <see cref="RetryInterval"/> (<see cref="WaitToLeadAsync"/>), so it takes over
/// within about one interval (plus its connect) after the leader's connection is gone. A leader checks it still
/// leads with <see cref="StillLeadingAsync"/> (its connection answers) before acting on its leadership.
/// </summary>
public sealed class LeaderElector : IAsyncDisposable
{
    /// <summary>The advisory lock's key: the bytes of <c>"aether:1"</c> as a 64-bit integer.</summary>
    public const long LockKey = 0x6165746865723A31;

    /// <summary>How often a follower tries to take the lock.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly string _connectionString;
    private readonly long _key;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;

    /// <summary>Creates an elector on the database of <paramref name="connectionString"/> (an Npgsql connection
    /// string, as <see cref="ClusterStore.ConnectionString"/>); <paramref name="key"/> other than
    /// <see cref="LockKey"/> only for tests that need separate elections.</summary>
    public LeaderElector(string connectionString, long key = LockKey)
    {
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 5 }.ConnectionString;
        _key = key;
    }

    /// <summary>Whether this elector holds the lock (as of its last call; see <see cref="StillLeadingAsync"/>).</summary>
    public bool IsLeader { get; private set; }

    /// <summary>The server process of the elector's connection, or 0 without one.</summary>
    public int BackendPid => _connection?.ProcessID ?? 0;

    /// <summary>Takes the lock if it is free; true when this elector leads (now or already). A broken connection
    /// is dropped (losing the lead) and a new one tried.</summary>
    /// <exception cref="NpgsqlException">The database could not be reached.</exception>
    public async Task<bool> TryLeadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsLeader && await AnswersAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (_connection is not { State: System.Data.ConnectionState.Open })
            {
                await DropAsync().ConfigureAwait(false);
                _connection = new NpgsqlConnection(_connectionString);
                await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", _connection) { Parameters = { new() { Value = _key } } };
            IsLeader = (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return IsLeader;
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
        {
            await DropAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether this elector still leads: it did, and its connection (holding the lock) still answers.</summary>
    public async Task<bool> StillLeadingAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsLeader && !await AnswersAsync(cancellationToken).ConfigureAwait(false))
            {
                await DropAsync().ConfigureAwait(false);
            }

            return IsLeader;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Tries every <see cref="RetryInterval"/> until this elector leads (errors reaching the database are
    /// retried the same way).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task WaitToLeadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                if (await TryLeadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
            {
                // the database is away: try again at the next interval
            }

            await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the lead up: closes the connection (the lock goes with it).</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DropAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT 1", _connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    private async Task DropAsync()
    {
        if (IsLeader && _connection is { State: System.Data.ConnectionState.Open })
        {
            // Released now rather than when the server notices the connection closed (a follower's next try wins).
            try
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection) { Parameters = { new() { Value = _key } } };
                await unlock.ExecuteScalarAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
            {
                // the connection is broken: the server releases the lock with the session
            }
        }

        IsLeader = false;
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
    }
}
