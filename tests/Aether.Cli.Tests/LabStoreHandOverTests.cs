using System.Diagnostics;
using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary>
/// Which store a lab command gets: a SQLite file at the last migration (the default) is read and written by the
/// plain-SQL store; a file at an older migration and PostgreSQL go to the EF Core store (in the native build, by the
/// ReadyToRun build it becomes for that command), which migrates the file first. Checked with <c>sqlite3</c> and
/// <c>psql</c>.
/// </summary>
public sealed class LabStoreHandOverTests : SandboxTest
{
    /// <summary>The first migration's schema, as EF Core's script for it reads: a store written by an older
    /// Aether.</summary>
    private const string InitialSchema = """
        CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
            "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
            "ProductVersion" TEXT NOT NULL
        );

        BEGIN TRANSACTION;
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
            "lab_id" TEXT NOT NULL,
            "link_name" TEXT NOT NULL,
            "source_node" TEXT NOT NULL,
            "source_interface" TEXT NOT NULL,
            "target_node" TEXT NOT NULL,
            "target_interface" TEXT NOT NULL,
            "actual_state" TEXT NOT NULL,
            "error_message" TEXT NULL,
            "vlan_tag" INTEGER NULL,
            "mtu" INTEGER NULL,
            "checked_at" TEXT NULL,
            "created_at" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL,
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

        CREATE UNIQUE INDEX "ux_nodes_lab_name" ON "nodes" ("lab_id", "name");

        INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
        VALUES ('20261206021048_Initial', '10.0.14');

        COMMIT;
        """;

    private string _dir = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        foreach (var node in new[] { "a", "b" })
        {
            Box.TrackNamespace($"{Box.Token}-{node}");
        }

        return Task.CompletedTask;
    }

    private string Lab()
    {
        var path = Path.Combine(_dir, "lab.yaml");
        File.WriteAllText(path, $$"""
            name: {{Box.Token}}
            nodes:
              a: { kind: arista_ceos }
              b: { kind: linux }
            links:
              - endpoints: ["a:Ethernet1", "b:eth1"]
            """);
        return path;
    }

    [Fact]
    public async Task An_older_SQLite_store_is_migrated_then_used()
    {
        var state = Path.Combine(_dir, "state");
        Directory.CreateDirectory(state);
        var db = Path.Combine(state, "labs.db");
        Assert.Equal(string.Empty, await SqliteAsync(db, InitialSchema));
        Assert.Equal("20261206021048_Initial", await SqliteAsync(db, "SELECT group_concat(MigrationId) FROM __EFMigrationsHistory"));

        var deployed = await Cli.RunAsync(["lab", "deploy", "-f", Lab(), "--state-dir", state]);
        Assert.True(deployed.Code == 0, deployed.ToString());
        Assert.Contains("up       a:Ethernet1 ↔ b:eth1", deployed.Stdout, StringComparison.Ordinal);
        Assert.Equal("20261206021048_Initial,20261206021127_AddLinkKey,20261206021206_UniqueLinkKey", await SqliteAsync(db, "SELECT group_concat(MigrationId) FROM (SELECT MigrationId FROM __EFMigrationsHistory ORDER BY 1)"));
        Assert.Equal($"{Box.Token}|a:eth1-b:eth1|up", await SqliteAsync(db, "SELECT b.name, l.link_key, l.actual_state FROM link_states l JOIN labs b ON b.id = l.lab_id"));

        // The migrated file is the plain store's now: the next commands read it.
        var links = await Cli.RunAsync(["lab", "links", Box.Token, "--state-dir", state]);
        Assert.True(links.Code == 0, links.ToString());
        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", Lab(), "--state-dir", state]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.Equal(string.Empty, await SqliteAsync(db, "SELECT name FROM labs"));
    }

    [Fact]
    public async Task A_PostgreSQL_store_is_the_EF_Core_store()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var database = await server.CreateDatabaseAsync();
        string[] db = ["--db", server.Url(database), "--state-dir", Path.Combine(_dir, "state")];

        var deployed = await Cli.RunAsync(["lab", "deploy", "-f", Lab(), .. db]);
        Assert.True(deployed.Code == 0, deployed.ToString());
        Assert.Equal([[Box.Token, "a:eth1-b:eth1", "up"]], await server.QueryAsync(database, "SELECT b.name, l.link_key, l.actual_state FROM link_states l JOIN labs b ON b.id = l.lab_id"));
        Assert.False(File.Exists(Path.Combine(_dir, "state", "labs.db")), "a SQLite file was made beside the PostgreSQL store");

        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", Lab(), .. db]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.Empty(await server.QueryAsync(database, "SELECT name FROM labs"));
    }

    /// <summary>Runs <paramref name="sql"/> with the <c>sqlite3</c> CLI on <paramref name="file"/>: its output,
    /// trimmed; throws with its error when it fails.</summary>
    private static async Task<string> SqliteAsync(string file, string sql)
    {
        using var process = Process.Start(new ProcessStartInfo("sqlite3", ["-batch", file]) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.StandardInput.WriteAsync(sql);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? (await output).Trim() : throw new InvalidOperationException($"sqlite3 exited {process.ExitCode}: {error}");
    }
}
