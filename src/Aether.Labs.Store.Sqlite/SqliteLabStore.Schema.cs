using Microsoft.Data.Sqlite;

namespace Aether.Labs.Store;

public sealed partial class SqliteLabStore
{
    /// <summary>EF Core's migrations of the SQLite store, in order (their ids in <c>__EFMigrationsHistory</c>): the
    /// schema below is where they end. A test migrates one file with EF Core and creates another here, and compares
    /// them; a new migration fails it until this list and <see cref="Schema"/> follow.</summary>
    internal static readonly string[] Migrations = ["20261206021048_Initial", "20261206021127_AddLinkKey", "20261206021206_UniqueLinkKey"];

    /// <summary>The EF Core version the history rows name (what EF Core writes there).</summary>
    internal const string ProductVersion = "10.0.14";

    /// <summary>The tables and indexes at the last migration, as EF Core's migrations make them.</summary>
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
            "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
            "ProductVersion" TEXT NOT NULL
        );
        CREATE TABLE "labs" (
            "id" TEXT NOT NULL CONSTRAINT "pk_labs" PRIMARY KEY,
            "name" TEXT NOT NULL,
            "fabric" TEXT NOT NULL,
            "definition" TEXT NOT NULL,
            "source_path" TEXT NULL,
            "created_at" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL
        );
        CREATE TABLE "link_states" (
            "id" TEXT NOT NULL CONSTRAINT "pk_link_states" PRIMARY KEY,
            "actual_state" TEXT NOT NULL,
            "checked_at" TEXT NULL,
            "created_at" TEXT NOT NULL,
            "error_message" TEXT NULL,
            "lab_id" TEXT NOT NULL,
            "link_key" TEXT NOT NULL,
            "link_name" TEXT NOT NULL,
            "mtu" INTEGER NULL,
            "seq" INTEGER NOT NULL,
            "source_interface" TEXT NOT NULL,
            "source_linux" TEXT NOT NULL,
            "source_node" TEXT NOT NULL,
            "target_interface" TEXT NOT NULL,
            "target_linux" TEXT NOT NULL,
            "target_node" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL,
            "vlan_tag" INTEGER NULL,
            CONSTRAINT "fk_link_states_lab" FOREIGN KEY ("lab_id") REFERENCES "labs" ("id") ON DELETE CASCADE
        );
        CREATE TABLE "nodes" (
            "id" TEXT NOT NULL CONSTRAINT "pk_nodes" PRIMARY KEY,
            "lab_id" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "kind" TEXT NOT NULL,
            "namespace" TEXT NOT NULL,
            "created_at" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL,
            CONSTRAINT "fk_nodes_lab" FOREIGN KEY ("lab_id") REFERENCES "labs" ("id") ON DELETE CASCADE
        );
        CREATE TABLE "interface_mappings" (
            "id" TEXT NOT NULL CONSTRAINT "pk_interface_mappings" PRIMARY KEY,
            "lab_id" TEXT NOT NULL,
            "node_id" TEXT NOT NULL,
            "ovs_port" TEXT NULL,
            "ovs_bridge" TEXT NULL,
            "vlan_tag" INTEGER NULL,
            "linux_interface" TEXT NOT NULL,
            "vendor_interface" TEXT NULL,
            "device_type" TEXT NULL,
            "created_at" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL,
            CONSTRAINT "fk_interface_mappings_lab" FOREIGN KEY ("lab_id") REFERENCES "labs" ("id") ON DELETE CASCADE,
            CONSTRAINT "fk_interface_mappings_node" FOREIGN KEY ("node_id") REFERENCES "nodes" ("id") ON DELETE CASCADE
        );
        CREATE INDEX "ix_interface_mappings_lab" ON "interface_mappings" ("lab_id");
        CREATE INDEX "ix_interface_mappings_node" ON "interface_mappings" ("node_id");
        CREATE INDEX "ix_interface_mappings_ovs_port" ON "interface_mappings" ("ovs_port");
        CREATE UNIQUE INDEX "ux_interface_mappings_lab_node_linux" ON "interface_mappings" ("lab_id", "node_id", "linux_interface");
        CREATE UNIQUE INDEX "ux_labs_name" ON "labs" ("name");
        CREATE INDEX "ix_link_states_lab" ON "link_states" ("lab_id");
        CREATE UNIQUE INDEX "ux_link_states_lab_link_key" ON "link_states" ("lab_id", "link_key");
        CREATE UNIQUE INDEX "ux_nodes_lab_name" ON "nodes" ("lab_id", "name");
        """;

    /// <inheritdoc/>
    /// <remarks>An empty file gets the schema at the last migration, with EF Core's history rows for every migration
    /// (one transaction, under the write lock, so two processes creating it at once take turns and the second finds
    /// it made). A file at the last migration is used as it is.</remarks>
    /// <exception cref="LabStoreSchemaException">The file is at another point of the migrations (or holds other
    /// tables): the EF Core store must migrate it.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        // Readers never wait for the writer, and a commit is one fsync of the log (persistent in the file; outside a
        // transaction, as SQLite requires).
        await RunAsync("migrate", write: false, (connection, _) =>
        {
            using var wal = Command(connection, null, "PRAGMA journal_mode=WAL");
            return wal.ExecuteScalar();
        }, cancellationToken).ConfigureAwait(false);
        await RunAsync("migrate", write: true, (connection, transaction) =>
        {
            var applied = History(connection, transaction);
            if (applied is null)
            {
                using var create = Command(connection, transaction, Schema);
                create.ExecuteNonQuery();
                using var insert = Command(connection, transaction, """INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion") VALUES ($id, $version)""");
                var id = insert.Parameters.Add("$id", SqliteType.Text);
                insert.Parameters.AddWithValue("$version", ProductVersion);
                foreach (var migration in Migrations)
                {
                    id.Value = migration;
                    insert.ExecuteNonQuery();
                }
            }
            else if (!applied.SequenceEqual(Migrations, StringComparer.Ordinal))
            {
                throw new LabStoreSchemaException(Location, applied, Migrations);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The migrations applied, in order; null when the file has no tables at all (a new store).</summary>
    private static List<string>? History(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var tables = Command(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
        if (Convert.ToInt64(tables.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return null;
        }

        using var exists = Command(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'");
        if (Convert.ToInt64(exists.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return [];
        }

        using var read = Command(connection, transaction, """SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY "MigrationId" """);
        using var reader = read.ExecuteReader();
        List<string> ids = [];
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
