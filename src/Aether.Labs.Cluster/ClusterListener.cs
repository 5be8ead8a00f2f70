using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Npgsql;

namespace Aether.Labs.Cluster;

/// <summary>
/// Hears the cluster's wake-up hints: a dedicated connection (not pooled) doing <c>LISTEN aether_cluster</c>, read by
/// <see cref="ReadAllAsync"/>. When the connection drops (the server restarted, the backend was terminated, the
/// network broke) it connects again with backoff (<see cref="MinBackoff"/>, doubling to <see cref="MaxBackoff"/>),
/// listens again and yields a hint with <see cref="ClusterHint.Reconnected"/> set. A hint sent while it was
/// disconnected is lost: PostgreSQL keeps none for a session that was not listening. Hints are an optimization of
/// latency only; the reader's periodic resync (its timer) is what makes a lost hint harmless.
/// </summary>
public sealed class ClusterListener : IAsyncDisposable
{
    /// <summary>The first wait before connecting again.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts to connect.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly string _connectionString;
    private readonly Channel<ClusterHint> _hints = Channel.CreateUnbounded<ClusterHint>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _backendPid;
    private int _connects;

    /// <summary>Creates a listener on the database of <paramref name="connectionString"/> (an Npgsql connection
    /// string, as <see cref="ClusterStore.ConnectionString"/>); <see cref="StartAsync"/> starts it.</summary>
    public ClusterListener(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 10 };
        _connectionString = builder.ConnectionString;
    }

    /// <summary>The server process of the current connection (<c>pg_backend_pid()</c>), or 0 while disconnected.</summary>
    public int BackendPid => Volatile.Read(ref _backendPid);

    /// <summary>How many times it has connected and listened (1 after the start, +1 per reconnect).</summary>
    public int Connects => Volatile.Read(ref _connects);

    /// <summary>The last error that dropped the connection or failed a connect, or null.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Starts listening; returns once the first <c>LISTEN</c> is in place (so a change committed after this
    /// returns is heard) or <paramref name="cancellationToken"/> gives up waiting (the listener keeps trying).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop ??= Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
        await _listening.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The hints as they come, until <paramref name="cancellationToken"/> or disposal.</summary>
    public async IAsyncEnumerable<ClusterHint> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var hint in _hints.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return hint;
        }
    }

    /// <summary>Stops listening and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _hints.Writer.TryComplete();
        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var backoff = MinBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                connection.Notification += (_, e) =>
                {
                    if (string.Equals(e.Channel, ClusterStore.Channel, StringComparison.Ordinal))
                    {
                        _hints.Writer.TryWrite(ClusterHint.Parse(e.Payload));
                    }
                };
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (var listen = new NpgsqlCommand($"LISTEN {ClusterStore.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Volatile.Write(ref _backendPid, connection.ProcessID);
                if (Interlocked.Increment(ref _connects) > 1)
                {
                    _hints.Writer.TryWrite(new ClusterHint(null, null, Reconnected: true));
                }

                _listening.TrySetResult();
                backoff = MinBackoff;
                while (true)
                {
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
            {
                LastError = ex;
                Volatile.Write(ref _backendPid, 0);
            }

            try
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }
}
