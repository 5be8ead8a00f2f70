using Aether.Server.Store;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Aether.Server.Docker;

/// <summary>
/// The driver's networks and endpoints in the daemon's SQLite file (tables <c>docker_networks</c> and
/// <c>docker_endpoints</c>), on a connection of its own beside the hub's store: the file is in WAL mode, so the two
/// never block each other for long, and a write waits (busy timeout) rather than fails. One operation at a time.
/// </summary>
internal sealed class DriverStore : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly DbContextOptions<HubDbContext> _options;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private DriverStore(SqliteConnection connection)
    {
        _connection = connection;
        _options = new DbContextOptionsBuilder<HubDbContext>().UseSqlite(connection).Options;
    }

    /// <summary>Opens the daemon's database (the hub's store has created it) and brings its schema up to date.</summary>
    public static DriverStore Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(path), Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
                pragma.ExecuteNonQuery();
            }

            Schema.Upgrade(connection);
            return new DriverStore(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Every network and endpoint.</summary>
    public Task<(List<DockerNetworkRow> Networks, List<DockerEndpointRow> Endpoints)> LoadAsync(CancellationToken cancellationToken) =>
        RunAsync(async db => (
            await db.DockerNetworks.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false),
            await db.DockerEndpoints.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false)), cancellationToken);

    /// <summary>Adds a network.</summary>
    public Task AddNetworkAsync(DockerNetworkRow row, CancellationToken cancellationToken) =>
        RunAsync(async db =>
        {
            db.DockerNetworks.Add(row);
            return await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Removes a network and its endpoints.</summary>
    public Task DeleteNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        RunAsync(async db =>
        {
            await db.DockerEndpoints.Where(e => e.NetworkId == networkId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            return await db.DockerNetworks.Where(n => n.NetworkId == networkId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Adds or replaces an endpoint.</summary>
    public Task SaveEndpointAsync(DockerEndpointRow row, CancellationToken cancellationToken) =>
        RunAsync(async db =>
        {
            var found = await db.DockerEndpoints.FindAsync([row.NetworkId, row.EndpointId], cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                db.DockerEndpoints.Add(row);
            }
            else
            {
                found.Address = row.Address;
                found.SandboxKey = row.SandboxKey;
                found.Interface = row.Interface;
            }

            return await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Removes an endpoint.</summary>
    public Task DeleteEndpointAsync(string networkId, string endpointId, CancellationToken cancellationToken) =>
        RunAsync(db => db.DockerEndpoints.Where(e => e.NetworkId == networkId && e.EndpointId == endpointId).ExecuteDeleteAsync(cancellationToken), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private async Task<T> RunAsync<T>(Func<HubDbContext, Task<T>> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            return await action(db).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
