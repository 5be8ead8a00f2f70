using System.Text.Json;
using Aether.Hub;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Aether.Server.Store;

/// <summary>
/// The hub's desired state in a SQLite file, through EF Core. The file holds private keys: it is created with mode
/// 0600 (a wider mode found on an existing file is narrowed) in a directory created with mode 0700, and SQLite gives
/// its write-ahead log the file's mode. Every save is one transaction with <c>synchronous=FULL</c>: durable when it
/// returns, with one fsync of the log (WAL) rather than the rollback journal's several (journal, database, journal
/// deleted). Removed and replaced keys do not stay in the files: <c>secure_delete</c> overwrites freed content with
/// zeros, and every write ends with a checkpoint that truncates the log (which held the pages as they were).
/// One connection, one operation at a time (a daemon's writes are few; SQLite serialises writers anyway).
/// </summary>
public sealed class SqliteHubStore : IHubStore, IAsyncDisposable, IDisposable
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly SqliteConnection _connection;
    private readonly DbContextOptions<HubDbContext> _options;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteHubStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
        _options = new DbContextOptionsBuilder<HubDbContext>().UseSqlite(connection).Options;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/> and brings its schema up to
    /// date.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer build.</exception>
    public static SqliteHubStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        PrepareFile(full);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;";
                pragma.ExecuteNonQuery();
            }

            Schema.Upgrade(connection);
            return new SqliteHubStore(full, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>How many networks are stored: a query that reads the file (what the readiness check asks).</summary>
    public async Task<int> CountAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            return await db.Networks.CountAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<HubNetworkRequest>> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            var rows = await db.Networks.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
            return [.. rows.Select(ToRequest)];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task SaveAsync(HubNetworkRequest network, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(network.NetworkId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            var row = await db.Networks.FindAsync([network.NetworkId], cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                row = new NetworkRow { NetworkId = network.NetworkId };
                db.Networks.Add(row);
            }

            Fill(row, network);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await TruncateLogAsync(db).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string networkId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            await db.Attachments.Where(a => a.NetworkId == networkId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await db.Networks.Where(n => n.NetworkId == networkId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await TruncateLogAsync(db).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>Copies the log into the database (whose freed content <c>secure_delete</c> zeroed) and truncates it to
    /// nothing: a key just removed or replaced is in neither file afterwards. Not cancellable: the write is done.</summary>
    private static async Task TruncateLogAsync(HubDbContext db) =>
        await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", CancellationToken.None).ConfigureAwait(false);

    /// <summary>Creates the directory (0700) and an empty file (0600) when missing; narrows a wider file mode.</summary>
    private static void PrepareFile(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode0700);
        }

        try
        {
            // Created with its final mode: never a moment readable by others.
            using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode0600 });
        }
        catch (IOException e) when (File.Exists(path))
        {
            if (new FileInfo(path).LinkTarget is { } target)
            {
                throw new InvalidOperationException($"{path} is a symbolic link (to {target}): not following it to the file that holds the private keys", e);
            }

            if ((File.GetUnixFileMode(path) & ~FileMode0600) != UnixFileMode.None)
            {
                File.SetUnixFileMode(path, FileMode0600);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<HubStoredAttachment>> LoadAttachmentsAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            var rows = await db.Attachments.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
            return [.. rows.Select(r => new HubStoredAttachment(r.NetworkId, new HubAttachRequest
            {
                AttachmentId = r.AttachmentId,
                Container = r.Container,
                ContainerPid = r.ContainerPid,
                Interface = r.Interface,
                Address = r.Address,
            }, r.HostInterface, r.DefaultRoute ?? true))];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task SaveAttachmentAsync(HubStoredAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        var request = attachment.Request;
        ArgumentException.ThrowIfNullOrEmpty(request.AttachmentId);
        ArgumentException.ThrowIfNullOrEmpty(request.Interface);
        ArgumentException.ThrowIfNullOrEmpty(request.Address);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            var row = await db.Attachments.FindAsync([attachment.NetworkId, request.AttachmentId], cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                row = new AttachmentRow { NetworkId = attachment.NetworkId, AttachmentId = request.AttachmentId, Interface = request.Interface, Address = request.Address, HostInterface = attachment.HostInterface };
                db.Attachments.Add(row);
            }

            row.Container = request.Container;
            row.ContainerPid = request.ContainerPid;
            row.Interface = request.Interface;
            row.Address = request.Address;
            row.HostInterface = attachment.HostInterface;
            row.DefaultRoute = attachment.DefaultRoute;
            row.UpdatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await TruncateLogAsync(db).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task DeleteAttachmentAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        ArgumentNullException.ThrowIfNull(attachmentId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = new HubDbContext(_options);
            await db.Attachments.Where(a => a.NetworkId == networkId && a.AttachmentId == attachmentId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await TruncateLogAsync(db).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static HubNetworkRequest ToRequest(NetworkRow row) => new()
    {
        NetworkId = row.NetworkId,
        Index = row.Index,
        Container = row.Container,
        ContainerPid = row.ContainerPid,
        PrivateKey = row.PrivateKey,
        ListenPort = row.ListenPort,
        PeerEndpoint = row.PeerEndpoint,
        PeerPublicKey = row.PeerPublicKey,
        Address = row.Address,
        NetworkCidr = row.NetworkCidr,
        Gateway = row.Gateway,
        PersistentKeepalive = row.PersistentKeepalive,
        Peers = row.Peers is null ? null : JsonSerializer.Deserialize<List<HubPeerRequest>>(row.Peers, PeersJson),
        NatPolicy = row.NatPolicy,
    };

    /// <summary>How the peers column is written: the wire's camelCase.</summary>
    private static readonly JsonSerializerOptions PeersJson = new(JsonSerializerDefaults.Web);

    private static void Fill(NetworkRow row, HubNetworkRequest network)
    {
        row.Index = network.Index;
        row.Container = network.Container;
        row.ContainerPid = network.ContainerPid;
        row.PrivateKey = network.PrivateKey;
        row.ListenPort = network.ListenPort;
        row.PeerEndpoint = network.PeerEndpoint;
        row.PeerPublicKey = network.PeerPublicKey;
        row.Address = network.Address;
        row.NetworkCidr = network.NetworkCidr;
        row.Gateway = network.Gateway;
        row.PersistentKeepalive = network.PersistentKeepalive;
        row.Peers = network.Peers is null ? null : JsonSerializer.Serialize(network.Peers, PeersJson);
        row.NatPolicy = network.NatPolicy;
        row.UpdatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }
}
