using Aether.Labs.Store.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Store.Tests;

/// <summary>
/// The contract on the plain-SQL SQLite store (what the CLI uses), on the same files and with the same oracle as the
/// EF Core store's; then what only it has to prove: the schema it creates is the one EF Core's migrations make, rows
/// either store writes the other reads back the same, and a file at another migration is left to EF Core untouched.
/// </summary>
public sealed class PlainSqliteLabStoreTests(ITestOutputHelper output) : LabStoreContract(output)
{
    protected override Task<StoreTarget> NewTargetAsync() => Task.FromResult<StoreTarget>(new SqliteTarget());

    protected override ILabStore OpenStore(StoreTarget target, Func<string, string, string?>? normalize = null) =>
        SqliteLabStore.Open(((SqliteTarget)target).FilePath);

    [Fact]
    public async Task The_schema_it_creates_is_the_one_EF_Core_migrations_make()
    {
        await using var migrated = new SqliteTarget();
        await using var created = new SqliteTarget();
        await using (var ef = migrated.Open())
        {
            await ef.MigrateAsync();
        }

        await using (var plain = SqliteLabStore.Open(created.FilePath))
        {
            await plain.MigrateAsync();
        }

        foreach (var table in new[] { "labs", "nodes", "link_states", "interface_mappings" })
        {
            Assert.Equal(await ColumnsAsync(migrated, table), await ColumnsAsync(created, table));
            Assert.Equal(await migrated.IndexesAsync(table), await created.IndexesAsync(table));
            Assert.Equal(await migrated.ForeignKeysAsync(table), await created.ForeignKeysAsync(table));
        }

        const string History = "SELECT \"MigrationId\", \"ProductVersion\" FROM \"__EFMigrationsHistory\" ORDER BY 1";
        Assert.Equal(await migrated.QueryAsync(History), await created.QueryAsync(History));
        Assert.Equal(["wal"], await new SqliteFile(created.FilePath).QueryColumnAsync("PRAGMA journal_mode"));

        // And EF Core finds nothing to do on the file the plain store made.
        await using var again = created.Open();
        Assert.Empty((await again.UpgradeAsync()).Applied);
    }

    [Fact]
    public async Task What_one_store_writes_the_other_reads_back_the_same()
    {
        await using var target = new SqliteTarget();
        await using var ef = target.Open();
        await ef.MigrateAsync();
        await using var plain = SqliteLabStore.Open(target.FilePath);
        await plain.MigrateAsync();
        var checkedAt = new DateTimeOffset(2026, 12, 6, 7, 30, 15, TimeSpan.FromHours(2)).AddTicks(1234567);

        foreach (var (writer, reader, name) in new (ILabStore, ILabStore, string)[] { (plain, ef, "aetplain"), (ef, plain, "aetef") })
        {
            var lab = TestLabs.Chain(name, 6);
            var states = await writer.SaveForDeployAsync(lab, "definition of " + name, links => new DeployIntent(
                [.. lab.Nodes.Select((n, i) => new InterfaceMapping(n.Name, "eth1", "Ethernet1", n.Kind) { OvsPort = i % 2 == 0 ? null : "p" + i, VlanTag = i % 3 == 0 ? null : i })],
                [.. links.Take(3).Select(l => l with { Status = LinkStatus.Creating })]));
            await writer.SetLinkStatesAsync(name, [states[0] with { Status = LinkStatus.Error, Error = "kernel said: File exists (EEXIST)", Vlan = 12, Checked = checkedAt }]);

            Assert.Equal(await writer.GetLabAsync(name), await reader.GetLabAsync(name));
            Assert.Equal(Texts(await writer.GetLinksAsync(name)), Texts(await reader.GetLinksAsync(name)));
            Assert.Equal(await writer.GetMappingsAsync(name), await reader.GetMappingsAsync(name));
            var read = (await reader.GetLinksAsync(name))[0];
            Assert.Equal((LinkStatus.Error, 12, checkedAt.ToUniversalTime().AddTicks(-7)), (read.Status, read.Vlan, read.Checked));
        }

        Assert.Equal(await ef.ListLabsAsync(), await plain.ListLabsAsync());

        // The times are stored as EF Core's provider writes them, to the microsecond, in UTC.
        Assert.Equal(
            await target.QueryAsync("SELECT typeof(checked_at), length(checked_at) FROM link_states WHERE checked_at IS NOT NULL ORDER BY 1"),
            [["text", "32"], ["text", "32"]]);
        Assert.True(await plain.DeleteLabAsync("aetef"));
        Assert.Equal(["aetplain"], (await ef.ListLabsAsync()).Select(l => l.Name));
    }

    [Fact]
    public async Task A_file_at_another_migration_is_refused_and_left_as_it_was()
    {
        // An older store (the first migration only, with a lab in it) and a file holding another program's table.
        await using var older = new SqliteTarget();
        await using (var ef = older.Open())
        {
            await ef.MigrateToAsync(LabStore.Migrations.Initial, default);
        }

        Assert.Equal(0, (await older.TryExecuteAsync("INSERT INTO labs VALUES ('1', 'aetold', 'veth', 'x', NULL, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')")).Code);
        await using var foreign = new SqliteTarget();
        Assert.Equal(0, (await foreign.TryExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")).Code);

        foreach (var (target, at) in new[] { (older, "20261206021048_Initial"), (foreign, "(none)") })
        {
            var before = await target.QueryAsync("SELECT type, name, sql FROM sqlite_master ORDER BY name");
            await using var plain = SqliteLabStore.Open(target.FilePath);
            var error = await Assert.ThrowsAsync<LabStoreSchemaException>(() => plain.MigrateAsync());
            Assert.Contains($"at migration {at}, not 20261206021206_UniqueLinkKey", error.Message, StringComparison.Ordinal);
            Assert.Equal(target.FilePath, error.Location);
            Assert.Equal(before, await target.QueryAsync("SELECT type, name, sql FROM sqlite_master ORDER BY name"));
        }

        Assert.Equal("aetold", await older.ScalarAsync("SELECT name FROM labs"));
    }

    [Fact]
    public async Task Processes_creating_the_schema_at_once_take_turns()
    {
        await using var target = new SqliteTarget();
        var stores = Enumerable.Range(0, 6).Select(_ => SqliteLabStore.Open(target.FilePath)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync())));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        Assert.Equal("3", await target.ScalarAsync("SELECT count(*) FROM \"__EFMigrationsHistory\""));
        Assert.Equal("1", await target.ScalarAsync("SELECT count(*) FROM sqlite_master WHERE name = 'link_states'"));
    }

    /// <summary>The table's columns as <c>name type notnull pk</c>, sorted (EF Core rebuilt one table with its
    /// columns in another order).</summary>
    private static async Task<List<string>> ColumnsAsync(SqliteTarget target, string table) =>
        [.. (await target.QueryAsync($"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')")).Select(r => string.Join(' ', r)).Order(StringComparer.Ordinal)];

    private static List<string> Texts(IReadOnlyList<LinkState> links) => [.. links.Select(l => l.ToString())];
}
