using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Aether.Labs.Store.Tests.Infrastructure;

/// <summary>A SQLite file in the test's state directory; the oracle is the <c>sqlite3</c> CLI.</summary>
public sealed class SqliteTarget : StoreTarget
{
    private const string Null = "\u0001NULL\u0001";

    public override LabStoreProvider Provider => LabStoreProvider.Sqlite;

    /// <summary>The file: <c>labs.db</c> in the state directory (the default, so the argument is empty).</summary>
    public string FilePath => Path.Combine(StateDirectory, "labs.db");

    public override string Database => "";

    public override async Task<IReadOnlyList<string?[]>> QueryAsync(string sql)
    {
        var (code, stdout, stderr) = await RunAsync(sql);
        if (code != 0)
        {
            throw new InvalidOperationException($"sqlite3 \"{sql}\" exited {code}: {stderr.Trim()}");
        }

        return [.. stdout.Split('\u001e', StringSplitOptions.RemoveEmptyEntries).Select(row => row.Split('\u001f').Select(v => v == Null ? null : v).ToArray())];
    }

    public override async Task<(int Code, string Error)> TryExecuteAsync(string sql)
    {
        var (code, _, stderr) = await RunAsync(sql);
        return (code, stderr);
    }

    public override async Task<IReadOnlyList<string>> IndexesAsync(string table)
    {
        var rows = await QueryAsync($"""
            SELECT il.name, il."unique", (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
            FROM pragma_index_list('{table}') il WHERE il.origin = 'c'
            """);
        return [.. rows.Select(r => $"{r[0]} {(r[1] == "1" ? "unique" : "index")} {r[2]}").Order(StringComparer.Ordinal)];
    }

    public override async Task<IReadOnlyList<string>> ForeignKeysAsync(string table)
    {
        var rows = await QueryAsync($"SELECT \"from\", \"table\", on_delete FROM pragma_foreign_key_list('{table}')");
        return [.. rows.Select(r => $"{r[0]} → {r[1]} ON DELETE {r[2]}").Order(StringComparer.Ordinal)];
    }

    public override async Task<IReadOnlyList<string>> ColumnsAsync(string table) =>
        [.. (await QueryAsync($"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")).Select(r => r[0]!)];

    public override async Task<bool> IsNullableAsync(string table, string column) =>
        await ScalarAsync($"SELECT \"notnull\" FROM pragma_table_info('{table}') WHERE name = '{column}'") == "0";

    /// <summary>EF Core's text form of a <see cref="DateTimeOffset"/> on SQLite.</summary>
    public override string Timestamp(DateTimeOffset time) =>
        "'" + time.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture) + "'";

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string sql)
    {
        var psi = new ProcessStartInfo("sqlite3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { "-bail", "-batch", "-ascii", "-nullvalue", Null, "-cmd", ".timeout 10000", FilePath, sql })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
