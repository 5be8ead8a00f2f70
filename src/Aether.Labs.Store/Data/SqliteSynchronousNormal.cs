using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aether.Labs.Store.Data;

/// <summary>
/// Sets <c>PRAGMA synchronous=NORMAL</c> on every SQLite connection the store opens (the setting is per connection).
/// With the write-ahead log the store uses, NORMAL syncs the log at checkpoints instead of at every commit: the
/// database cannot be corrupted by a crash or power loss, which may only lose the last commits before it, and a
/// deploy's five transactions stop paying an fsync each.
/// </summary>
internal sealed class SqliteSynchronousNormal : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL";
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = "PRAGMA synchronous=NORMAL";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
