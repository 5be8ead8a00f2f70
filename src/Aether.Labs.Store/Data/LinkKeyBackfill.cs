using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Aether.Labs.Store.Data;

/// <summary>
/// The data step of the identity migration, run between <c>AddLinkKey</c> and <c>UniqueLinkKey</c>: for every
/// stored link, the Linux names of both ends (the interface as written, normalized with the node's kind), its identity
/// (<see cref="LinkId"/>) and its place in the lab; then, per lab and identity, the oldest row (by <c>created_at</c>,
/// then <c>id</c>) is kept and the others are deleted, as the reference's duplicate cleanup does
/// (<c>r1:Ethernet1-r2:ge-0/0/0</c> and a later <c>r2:eth1-r1:eth1</c> are one link). One transaction; on
/// PostgreSQL the table is locked against concurrent writers first. Plain SQL over the connection, not the model: the
/// model is of the finished schema, and migrations must not depend on its later changes.
/// </summary>
internal static class LinkKeyBackfill
{
    private const string Read = """
        SELECT l.id, l.lab_id, l.source_node, l.source_interface, l.target_node, l.target_interface, l.created_at,
               sn.kind, tn.kind
        FROM link_states l
        LEFT JOIN nodes sn ON sn.lab_id = l.lab_id AND sn.name = l.source_node
        LEFT JOIN nodes tn ON tn.lab_id = l.lab_id AND tn.name = l.target_node
        """;

    private static readonly string[] UpdateParameters = ["@key", "@source", "@target", "@seq", "@id"];

    /// <summary>Fills the identity columns and deletes duplicates; returns how many rows were deleted.</summary>
    /// <param name="db">A context on the store at <c>AddLinkKey</c>.</param>
    /// <param name="provider">The store's provider.</param>
    /// <param name="linuxName">(kind, interface as written) → Linux name.</param>
    /// <param name="cancellationToken">Cancels.</param>
    public static async Task<int> RunAsync(LabDbContext db, LabStoreProvider provider, Func<string, string, string> linuxName, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var connection = db.Database.GetDbConnection();
            var dbTransaction = transaction.GetDbTransaction();
            if (provider == LabStoreProvider.Postgres)
            {
                // Another process migrating at the same time waits here, then finds every row keyed.
                await ExecuteAsync(connection, dbTransaction, "LOCK TABLE link_states IN SHARE ROW EXCLUSIVE MODE", cancellationToken).ConfigureAwait(false);
            }

            var rows = await ReadAsync(connection, dbTransaction, linuxName, cancellationToken).ConfigureAwait(false);
            List<Keyed> kept = [];
            List<string> duplicates = [];
            foreach (var group in rows.GroupBy(r => (r.LabId, r.Key)))
            {
                var ordered = group.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
                kept.Add(ordered[0]);
                duplicates.AddRange(ordered.Skip(1).Select(r => r.Id));
            }

            await using (var update = Command(connection, dbTransaction, "UPDATE link_states SET link_key = @key, source_linux = @source, target_linux = @target, seq = @seq WHERE id = @id"))
            {
                var parameters = UpdateParameters.Select(name => Parameter(update, name)).ToArray();
                foreach (var lab in kept.GroupBy(r => r.LabId, StringComparer.Ordinal))
                {
                    var seq = 0;
                    foreach (var row in lab.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal))
                    {
                        parameters[0].Value = row.Key;
                        parameters[1].Value = row.SourceLinux;
                        parameters[2].Value = row.TargetLinux;
                        parameters[3].Value = ++seq;
                        parameters[4].Value = row.Id;
                        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await using (var delete = Command(connection, dbTransaction, "DELETE FROM link_states WHERE id = @id"))
            {
                var id = Parameter(delete, "@id");
                foreach (var duplicate in duplicates)
                {
                    id.Value = duplicate;
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return duplicates.Count;
        }
    }

    private static async Task<List<Keyed>> ReadAsync(DbConnection connection, DbTransaction transaction, Func<string, string, string> linuxName, CancellationToken cancellationToken)
    {
        List<Keyed> rows = [];
        await using var read = Command(connection, transaction, Read);
        var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var sourceNode = reader.GetString(2);
                var sourceInterface = reader.GetString(3);
                var targetNode = reader.GetString(4);
                var targetInterface = reader.GetString(5);
                var sourceKind = reader.IsDBNull(7) ? "" : reader.GetString(7);
                var targetKind = reader.IsDBNull(8) ? "" : reader.GetString(8);
                var source = new LabEndpoint(sourceNode, linuxName(sourceKind, sourceInterface), sourceInterface);
                var target = new LabEndpoint(targetNode, linuxName(targetKind, targetInterface), targetInterface);
                rows.Add(new Keyed(
                    reader.GetString(0),
                    reader.GetString(1),
                    LinkId.Of(source, target).Value,
                    source.Linux,
                    target.Linux,
                    reader.GetFieldValue<DateTimeOffset>(6)));
            }
        }

        return rows;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record Keyed(string Id, string LabId, string Key, string SourceLinux, string TargetLinux, DateTimeOffset CreatedAt);
}
