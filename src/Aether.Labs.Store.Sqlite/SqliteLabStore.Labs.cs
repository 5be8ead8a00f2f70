using Microsoft.Data.Sqlite;

namespace Aether.Labs.Store;

public sealed partial class SqliteLabStore
{
    /// <inheritdoc/>
    /// <remarks>As the EF Core store: a row is written only when something in it changed (its <c>updated_at</c> moves
    /// then); a stored link keeps its state, error, VLAN and check time, its endpoints as written and its MTU follow the
    /// lab.</remarks>
    /// <exception cref="ArgumentException">The lab has two nodes of one name or two links of one identity.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SaveLabAsync(LabSpec lab, string definition, CancellationToken cancellationToken = default)
    {
        StoreText.CheckLab(lab, definition);
        return RunAsync($"save lab '{lab.Name}'", write: true, (connection, transaction) => SaveRows(connection, transaction, lab, definition, StoreText.Now()), cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One transaction: the lab's rows, then the mappings and the states from the rows just written (nothing
    /// is read back).</remarks>
    /// <exception cref="ArgumentException">As for <see cref="SaveLabAsync"/> and <see cref="SetMappingsAsync"/>.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<LinkState>> SaveForDeployAsync(LabSpec lab, string definition, Func<IReadOnlyList<LinkState>, DeployIntent> intent, CancellationToken cancellationToken = default)
    {
        StoreText.CheckLab(lab, definition);
        ArgumentNullException.ThrowIfNull(intent);
        return RunAsync<IReadOnlyList<LinkState>>($"save lab '{lab.Name}' for deploy", write: true, (connection, transaction) =>
        {
            var now = StoreText.Now();
            var saved = SaveRows(connection, transaction, lab, definition, now);
            var wanted = intent(InOrder(saved.Links));
            StoreText.CheckUnique(lab.Name, "interface mapping", wanted.Mappings.Select(m => m.Node + ":" + m.Linux));
            WriteMappings(connection, transaction, lab.Name, saved.LabId, saved.Nodes, wanted.Mappings, now);
            WriteStates(connection, transaction, saved.Links.ToDictionary(r => r.Key, StringComparer.Ordinal), wanted.States, now);
            return InOrder(saved.Links);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<StoredLab?> GetLabAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync($"read lab '{name}'", write: false, (connection, _) =>
        {
            using var read = Command(connection, null, "SELECT name, fabric, definition, source_path, created_at FROM labs WHERE name = $name");
            read.Parameters.AddWithValue("$name", name);
            return ReadLabs(read).FirstOrDefault();
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<StoredLab>> ListLabsAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StoredLab>>("list labs", write: false, (connection, _) =>
        {
            using var read = Command(connection, null, "SELECT name, fabric, definition, source_path, created_at FROM labs");
            return [.. ReadLabs(read).OrderBy(l => l.Name, StringComparer.Ordinal)];
        }, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The lab's nodes, links and mappings go with it (<c>ON DELETE CASCADE</c>).</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<bool> DeleteLabAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync($"delete lab '{name}'", write: true, (connection, transaction) =>
        {
            using var delete = Command(connection, transaction, "DELETE FROM labs WHERE name = $name");
            delete.Parameters.AddWithValue("$name", name);
            return delete.ExecuteNonQuery() > 0;
        }, cancellationToken);
    }

    private static List<StoredLab> ReadLabs(SqliteCommand read)
    {
        using var reader = read.ExecuteReader();
        List<StoredLab> labs = [];
        while (reader.Read())
        {
            labs.Add(new StoredLab(reader.GetString(0), StoreText.ParseFabric(reader.GetString(1)), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetDateTimeOffset(4)));
        }

        return labs;
    }

    /// <summary>Adds or updates the lab's row, nodes and links; returns the lab's id, its nodes' ids by name and its
    /// link rows as they now are.</summary>
    private static (string LabId, Dictionary<string, string> Nodes, List<LinkRecord> Links) SaveRows(SqliteConnection connection, SqliteTransaction? transaction, LabSpec lab, string definition, DateTimeOffset now)
    {
        var fabric = StoreText.Fabric(lab.Fabric);
        string labId;
        using (var find = Command(connection, transaction, "SELECT id, fabric, definition, source_path FROM labs WHERE name = $name"))
        {
            find.Parameters.AddWithValue("$name", lab.Name);
            using var reader = find.ExecuteReader();
            if (!reader.Read())
            {
                reader.Close();
                labId = StoreText.NewId();
                using var insert = Command(connection, transaction, "INSERT INTO labs (id, name, fabric, definition, source_path, created_at, updated_at) VALUES ($id, $name, $fabric, $definition, $source, $now, $now)");
                Parameters(insert, ("$id", labId), ("$name", lab.Name), ("$fabric", fabric), ("$definition", definition), ("$source", lab.SourcePath), ("$now", now));
                insert.ExecuteNonQuery();
            }
            else
            {
                labId = reader.GetString(0);
                var changed = !StoreText.Same(reader.GetString(1), fabric) || !StoreText.Same(reader.GetString(2), definition)
                    || !StoreText.Same(reader.IsDBNull(3) ? null : reader.GetString(3), lab.SourcePath);
                reader.Close();
                if (changed)
                {
                    using var update = Command(connection, transaction, "UPDATE labs SET fabric = $fabric, definition = $definition, source_path = $source, updated_at = $now WHERE id = $id");
                    Parameters(update, ("$id", labId), ("$fabric", fabric), ("$definition", definition), ("$source", lab.SourcePath), ("$now", now));
                    update.ExecuteNonQuery();
                }
            }
        }

        return (labId, SaveNodes(connection, transaction, labId, lab.Nodes, now), SaveLinks(connection, transaction, labId, lab.Links, now));
    }

    /// <summary>The lab's nodes' ids by name, after the update.</summary>
    private static Dictionary<string, string> SaveNodes(SqliteConnection connection, SqliteTransaction? transaction, string labId, IReadOnlyList<LabNode> nodes, DateTimeOffset now)
    {
        var stored = new Dictionary<string, (string Id, string Kind, string Namespace)>(StringComparer.Ordinal);
        using (var read = Command(connection, transaction, "SELECT id, name, kind, namespace FROM nodes WHERE lab_id = $lab"))
        {
            read.Parameters.AddWithValue("$lab", labId);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                stored[reader.GetString(1)] = (reader.GetString(0), reader.GetString(2), reader.GetString(3));
            }
        }

        var ids = new Dictionary<string, string>(nodes.Count, StringComparer.Ordinal);
        using var insert = Command(connection, transaction, "INSERT INTO nodes (id, lab_id, name, kind, namespace, created_at, updated_at) VALUES ($id, $lab, $name, $kind, $namespace, $now, $now)");
        using var update = Command(connection, transaction, "UPDATE nodes SET kind = $kind, namespace = $namespace, updated_at = $now WHERE id = $id");
        foreach (var node in nodes)
        {
            if (stored.Remove(node.Name, out var row))
            {
                if (!StoreText.Same(row.Kind, node.Kind) || !StoreText.Same(row.Namespace, node.Namespace))
                {
                    Run(update, ("$id", row.Id), ("$kind", node.Kind), ("$namespace", node.Namespace), ("$now", now));
                }

                ids[node.Name] = row.Id;
            }
            else
            {
                var id = StoreText.NewId();
                Run(insert, ("$id", id), ("$lab", labId), ("$name", node.Name), ("$kind", node.Kind), ("$namespace", node.Namespace), ("$now", now));
                ids[node.Name] = id;
            }
        }

        DeleteByIds(connection, transaction, "nodes", stored.Values.Select(v => v.Id));
        return ids;
    }

    /// <summary>Deletes these rows of <paramref name="table"/> by id.</summary>
    private static void DeleteByIds(SqliteConnection connection, SqliteTransaction? transaction, string table, IEnumerable<string> ids)
    {
        using var delete = Command(connection, transaction, $"DELETE FROM {table} WHERE id = $id");
        foreach (var id in ids)
        {
            Run(delete, ("$id", id));
        }
    }

    /// <summary>Sets the command's parameters (added on its first use, reused after) and runs it.</summary>
    private static void Run(SqliteCommand command, params ReadOnlySpan<(string Name, object? Value)> values)
    {
        Parameters(command, values);
        command.ExecuteNonQuery();
    }

    private static void Parameters(SqliteCommand command, params ReadOnlySpan<(string Name, object? Value)> values)
    {
        foreach (var (name, value) in values)
        {
            if (command.Parameters.Contains(name))
            {
                command.Parameters[name].Value = Db(value);
            }
            else
            {
                command.Parameters.AddWithValue(name, Db(value));
            }
        }
    }
}
