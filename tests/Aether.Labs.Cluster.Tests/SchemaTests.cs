using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests;

/// <summary>The migration: the tables, their keys and the history table, as PostgreSQL's catalogue shows them.</summary>
public sealed class SchemaTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task MigrateCreatesTheTablesAndItsOwnHistoryOnly()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server, migrate: false);
        var applied = await db.Store.MigrateAsync();
        Assert.Equal(["Initial", "VlanTags", "FrameProbes", "WireGuardTunnels"], applied);

        var tables = (await db.QueryAsync("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).Select(r => r[0]).ToList();
        Assert.Equal(["__aether_cluster_migrations", "cluster_hosts", "cluster_link_ends", "cluster_placements", "cluster_probes", "cluster_vlan_tags", "cluster_vnis", "cluster_vtep_links", "cluster_vteps", "cluster_wireguard_tunnels"], tables);
        Assert.Equal("20261206103016_Initial,20261206130121_VlanTags,20261206141102_FrameProbes,20261207035832_WireGuardTunnels", await db.ScalarAsync("SELECT string_agg(\"MigrationId\", ',' ORDER BY \"MigrationId\") FROM __aether_cluster_migrations"));
        Assert.Equal("4096|4096|16777215|true", await db.ScalarAsync("SELECT start_value || '|' || min_value || '|' || max_value || '|' || cycle FROM pg_sequences WHERE sequencename = 'cluster_vni_seq'"));

        // Again: nothing to do, nothing changed.
        Assert.Empty(await db.Store.MigrateAsync());
        Assert.Equal("4", await db.ScalarAsync("SELECT count(*) FROM __aether_cluster_migrations"));
    }

    [Fact]
    public async Task ForeignKeysAndChecksAreInTheDatabase()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        var keys = (await db.QueryAsync("SELECT conname, contype FROM pg_constraint WHERE conrelid::regclass::text LIKE 'cluster_%' AND contype IN ('f', 'c') ORDER BY conname"))
            .Select(r => r[0] + " " + r[1]).ToList();
        Assert.Equal(
        [
            "ck_cluster_link_ends_end c", "ck_cluster_link_ends_state c", "ck_cluster_probes_nonce c", "ck_cluster_probes_state c", "ck_cluster_probes_timeout c", "ck_cluster_vlan_tags_tag c", "ck_cluster_vnis_scope c", "ck_cluster_vteps_remote c", "ck_cluster_wireguard_tunnels_hosts c", "ck_cluster_wireguard_tunnels_slot c",
            "fk_cluster_link_ends_host f", "fk_cluster_placements_host f", "fk_cluster_probes_receiver f", "fk_cluster_probes_sender f", "fk_cluster_vtep_links_vtep f", "fk_cluster_vteps_host f", "fk_cluster_vteps_remote_host f", "fk_cluster_wireguard_tunnels_host_a f", "fk_cluster_wireguard_tunnels_host_b f",
        ], keys);

        // The database itself refuses a link row without its VTEP and a VTEP to itself.
        var (code, _, error) = await db.Server.TryQueryAsync(db.Name, "INSERT INTO cluster_vtep_links (vtep_id, link_id) VALUES (42, 'l1')");
        Assert.NotEqual(0, code);
        Assert.Contains("fk_cluster_vtep_links_vtep", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLabStoresTablesBesideAreLeftAsTheyAre()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server, migrate: false);
        await db.QueryAsync("""
            CREATE TABLE labs (id text PRIMARY KEY, name text);
            INSERT INTO labs VALUES ('1', 'aetlab');
            CREATE TABLE "__EFMigrationsHistory" ("MigrationId" text PRIMARY KEY, "ProductVersion" text);
            INSERT INTO "__EFMigrationsHistory" VALUES ('20261206021229_UniqueLinkKey', '10.0.14')
            """);
        Assert.Equal(["Initial", "VlanTags", "FrameProbes", "WireGuardTunnels"], await db.Store.MigrateAsync());
        Assert.Equal("1 aetlab", await db.ScalarAsync("SELECT string_agg(id || ' ' || name, ',') FROM labs"));
        Assert.Equal("20261206021229_UniqueLinkKey", await db.ScalarAsync("SELECT string_agg(\"MigrationId\", ',') FROM \"__EFMigrationsHistory\""));
    }

    [Fact]
    public async Task ServerErrorsCarryTheServersMessageAndSqlState()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await db.QueryAsync("ALTER TABLE cluster_hosts RENAME TO aet_moved");
        var ex = await Assert.ThrowsAsync<ClusterException>(() => db.Store.ListHostsAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("42P01", ex.SqlState);
        Assert.Equal($"cluster store {db.Store.Location}: list hosts: relation \"cluster_hosts\" does not exist [SQLSTATE 42P01]", ex.Message);
    }

    [Fact]
    public void BadDatabaseArgumentsNameTheField()
    {
        foreach (var bad in new[] { "", "  ", "not a url", "postgres://", "Database=x" })
        {
            var ex = Assert.Throws<ArgumentException>(() => ClusterStore.Open(bad));
            Assert.StartsWith("database", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnUnreachableServerIsAClusterExceptionWithTheSocketError()
    {
        await using var store = ClusterStore.Open("Host=127.0.0.1;Port=1;Username=postgres;Database=x;Timeout=2");
        var ex = await Assert.ThrowsAsync<ClusterException>(() => store.ListHostsAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("postgres://postgres@127.0.0.1:1/x", ex.Message, StringComparison.Ordinal);
        Assert.Contains("list hosts", ex.Message, StringComparison.Ordinal);
        Assert.Contains("refused", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Stores_migrating_one_empty_database_at_once_all_succeed_and_apply_each_migration_once()
    {
        await using var db = await ClusterDb.CreateAsync(fixture.Server, migrate: false);
        var stores = Enumerable.Range(0, 8).Select(_ => ClusterStore.Open(db.ConnectionString)).ToList();
        try
        {
            var applied = await Task.WhenAll(stores.Select(s => s.MigrateAsync()));
            Assert.Equal(applied.SelectMany(a => a).Count(), applied.SelectMany(a => a).Distinct(StringComparer.Ordinal).Count()); // each by one store only
            Assert.NotEmpty(applied.SelectMany(a => a));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        Assert.Equal("0", await db.ScalarAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"));
    }
}
