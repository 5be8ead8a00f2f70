using Aether.Labs.Store.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Store.Tests;

/// <summary>The contract on SQLite: a <c>labs.db</c> in a temporary state directory per test, read back with the
/// <c>sqlite3</c> CLI.</summary>
public sealed class SqliteLabStoreTests(ITestOutputHelper output) : LabStoreContract(output)
{
    protected override Task<StoreTarget> NewTargetAsync() => Task.FromResult<StoreTarget>(new SqliteTarget());

    [Fact]
    public async Task The_default_database_is_labs_db_in_the_state_directory_mode_0600()
    {
        await using var target = new SqliteTarget();
        var state = Path.Combine(target.StateDirectory, "state");
        await using (var store = LabStore.Open(null, state))
        {
            Assert.Equal(Path.Combine(state, "labs.db"), store.Location);
            await store.MigrateAsync();
            await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "labs.db")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
        Assert.Equal(["wal"], await new SqliteFile(Path.Combine(state, "labs.db")).QueryColumnAsync("PRAGMA journal_mode"));
        Assert.Equal(["aetlab"], await new SqliteFile(Path.Combine(state, "labs.db")).QueryColumnAsync("SELECT name FROM labs"));
    }

    [Fact]
    public async Task A_sqlite_path_argument_names_the_file()
    {
        await using var target = new SqliteTarget();
        var file = Path.Combine(target.StateDirectory, "elsewhere", "my.db");
        await using (var store = LabStore.Open("sqlite:" + file, target.StateDirectory))
        {
            Assert.Equal((LabStoreProvider.Sqlite, file), (store.Provider, store.Location));
            await store.MigrateAsync();
            await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        }

        Assert.Equal(["aetlab"], await new SqliteFile(file).QueryColumnAsync("SELECT name FROM labs"));
        Assert.False(File.Exists(target.FilePath));
    }

    [Fact]
    public async Task An_unwritable_file_is_an_error_naming_the_file_and_sqlites_reason()
    {
        await using var target = new SqliteTarget();
        var file = Path.Combine(target.StateDirectory, "labs.db");
        await File.WriteAllTextAsync(file, "this is not a database, it is text long enough to have a header of one hundred bytes: ................................................");

        await using var store = target.Open();
        var error = await Assert.ThrowsAsync<LabStoreException>(() => store.MigrateAsync());

        Assert.Equal(file, error.Location);
        Assert.Equal("migrate", error.Operation);
        Assert.Contains("file is not a database", error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"lab store {file}: migrate: ", error.Message, StringComparison.Ordinal);
    }
}
