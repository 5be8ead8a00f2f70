using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Aether.Server.Store;

/// <summary>
/// The schema, created and upgraded by hand: a <c>schema_version</c> table holds the version the file is at, and each
/// step below takes it one further, in one transaction. Hand-written rather than <c>EnsureCreated()</c>, which can
/// create a schema but never change one, and rather than EF migrations, whose design-time tools do not restore here.
/// </summary>
internal static class Schema
{
    /// <summary>The version this build writes.</summary>
    public const int Current = 4;

    private static readonly string[] Steps =
    [
        // 1: the hub's networks, one row per accepted request.
        """
        CREATE TABLE hub_networks (
            network_id TEXT NOT NULL PRIMARY KEY,
            idx INTEGER NULL,
            container TEXT NULL,
            container_pid INTEGER NULL,
            private_key TEXT NULL,
            listen_port INTEGER NULL,
            peer_endpoint TEXT NULL,
            peer_public_key TEXT NULL,
            address TEXT NULL,
            network_cidr TEXT NULL,
            gateway TEXT NULL,
            persistent_keepalive INTEGER NULL,
            updated_at INTEGER NOT NULL
        );
        """,

        // 2: a network's peers (JSON, beside the single-peer columns that rows of version 1 fill) and NAT policy, and
        // the containers attached to networks. Rows of version 1 stay readable: the new columns are null.
        """
        ALTER TABLE hub_networks ADD COLUMN peers TEXT NULL;
        ALTER TABLE hub_networks ADD COLUMN nat_policy TEXT NULL;
        CREATE TABLE hub_attachments (
            network_id TEXT NOT NULL REFERENCES hub_networks (network_id) ON DELETE CASCADE,
            attachment_id TEXT NOT NULL,
            container TEXT NULL,
            container_pid INTEGER NULL,
            interface TEXT NOT NULL,
            address TEXT NOT NULL,
            host_interface TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (network_id, attachment_id)
        );
        """,

        // 3: the Docker network driver's networks and endpoints (dockerd does not resend them after a restart).
        """
        CREATE TABLE docker_networks (
            network_id TEXT NOT NULL PRIMARY KEY,
            cidr TEXT NOT NULL,
            gateway TEXT NOT NULL,
            allocates INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE docker_endpoints (
            network_id TEXT NOT NULL REFERENCES docker_networks (network_id) ON DELETE CASCADE,
            endpoint_id TEXT NOT NULL,
            address TEXT NOT NULL,
            sandbox_key TEXT NULL,
            interface TEXT NULL,
            PRIMARY KEY (network_id, endpoint_id)
        );
        """,

        // 4: whether an attachment may carry its container's default route (0 when the container had a default route
        // not the hub's at attach time). Null in older rows: it may, as before.
        """
        ALTER TABLE hub_attachments ADD COLUMN default_route INTEGER NULL;
        """,
    ];

    /// <summary>Brings the database to <see cref="Current"/>.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer build.</exception>
    public static void Upgrade(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT max(version) FROM schema_version";
        var found = read.ExecuteScalar() is long v ? (int)v : 0;
        if (found > Current)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{connection.DataSource}: schema version {found} is newer than this build's {Current}"));
        }

        for (var version = found + 1; version <= Current; version++)
        {
            Execute(connection, transaction, Steps[version - 1]);
            Execute(connection, transaction, string.Create(CultureInfo.InvariantCulture, $"INSERT INTO schema_version (version) VALUES ({version})"));
        }

        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
