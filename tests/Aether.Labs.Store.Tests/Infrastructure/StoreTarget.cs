using System.Security.Cryptography;

namespace Aether.Labs.Store.Tests.Infrastructure;

/// <summary>
/// One database a test owns, on one provider, with the provider's independent oracle: the <c>sqlite3</c> CLI for a
/// SQLite file, <c>psql</c> for a PostgreSQL database. Nothing here goes through the store. Disposing removes what it
/// made (the temp directory; the PostgreSQL database goes with its private server).
/// </summary>
public abstract class StoreTarget : IAsyncDisposable
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    protected StoreTarget()
    {
        StateDirectory = Directory.CreateTempSubdirectory("aet" + RandomNumberGenerator.GetString(Alphabet, 5)).FullName;
    }

    /// <summary>The provider under test.</summary>
    public abstract LabStoreProvider Provider { get; }

    /// <summary>The <c>--db</c> argument that names the database.</summary>
    public abstract string Database { get; }

    /// <summary>A state directory of the test's own.</summary>
    public string StateDirectory { get; }

    /// <summary>Opens a store on the database (the caller disposes it).</summary>
    public LabStore Open(Func<string, string, string?>? normalize = null) => LabStore.Open(Database, StateDirectory, normalize);

    /// <summary>Rows of <paramref name="sql"/>, each as its column texts (NULL as null); throws with the tool's
    /// message when it fails.</summary>
    public abstract Task<IReadOnlyList<string?[]>> QueryAsync(string sql);

    /// <summary>Runs <paramref name="sql"/>: exit code and the tool's error text.</summary>
    public abstract Task<(int Code, string Error)> TryExecuteAsync(string sql);

    /// <summary>The table's indexes as <c>name unique|index col,col</c>, sorted.</summary>
    public abstract Task<IReadOnlyList<string>> IndexesAsync(string table);

    /// <summary>The table's foreign keys as <c>column → table ON DELETE action</c>, sorted.</summary>
    public abstract Task<IReadOnlyList<string>> ForeignKeysAsync(string table);

    /// <summary>The table's column names, in order.</summary>
    public abstract Task<IReadOnlyList<string>> ColumnsAsync(string table);

    /// <summary>Whether the column accepts NULL.</summary>
    public abstract Task<bool> IsNullableAsync(string table, string column);

    /// <summary>A SQL literal of <paramref name="time"/> as the provider stores it.</summary>
    public abstract string Timestamp(DateTimeOffset time);

    /// <summary>The first column of the first row of <paramref name="sql"/>.</summary>
    public async Task<string?> ScalarAsync(string sql) => (await QueryAsync(sql)).Single()[0];

    /// <summary>Every row of every store table, ordered, one text a row: what "nothing changed" compares.</summary>
    public async Task<IReadOnlyList<string>> DumpAsync()
    {
        List<string> all = [];
        foreach (var table in new[] { "labs", "nodes", "link_states", "interface_mappings" })
        {
            foreach (var row in await QueryAsync($"SELECT * FROM {table} ORDER BY id"))
            {
                all.Add(table + ": " + string.Join(" | ", row.Select(v => v ?? "NULL")));
            }
        }

        return all;
    }

    public virtual ValueTask DisposeAsync()
    {
        if (Directory.Exists(StateDirectory))
        {
            Directory.Delete(StateDirectory, recursive: true);
        }

        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
