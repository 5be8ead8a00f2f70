using System.Globalization;

namespace Aether.Labs.Store.Tests.Infrastructure;

/// <summary>A database of the test's own on the class's private server; the oracle is <c>psql</c>.</summary>
public sealed class PostgresTarget(PrivatePostgres server, string name) : StoreTarget
{
    public override LabStoreProvider Provider => LabStoreProvider.Postgres;

    /// <summary>The database's name (<c>aet_…</c>).</summary>
    public string Name { get; } = name;

    public PrivatePostgres Server { get; } = server;

    public override string Database => Server.Url(Name);

    public static async Task<PostgresTarget> CreateAsync(PrivatePostgres server) => new(server, await server.CreateDatabaseAsync());

    public override Task<IReadOnlyList<string?[]>> QueryAsync(string sql) => Server.QueryAsync(Name, sql);

    public override async Task<(int Code, string Error)> TryExecuteAsync(string sql)
    {
        var (code, _, error) = await Server.TryQueryAsync(Name, sql);
        return (code, error);
    }

    public override async Task<IReadOnlyList<string>> IndexesAsync(string table)
    {
        var rows = await QueryAsync($"""
            SELECT i.relname, ix.indisunique, string_agg(a.attname, ',' ORDER BY k.ord)
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_class i ON i.oid = ix.indexrelid
            CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE t.relname = '{table}' AND NOT ix.indisprimary
            GROUP BY i.relname, ix.indisunique
            """);
        return [.. rows.Select(r => $"{r[0]} {(r[1] == "t" ? "unique" : "index")} {r[2]}").Order(StringComparer.Ordinal)];
    }

    public override async Task<IReadOnlyList<string>> ForeignKeysAsync(string table)
    {
        var rows = await QueryAsync($"""
            SELECT a.attname, r.relname, c.confdeltype
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_class r ON r.oid = c.confrelid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND t.relname = '{table}'
            """);
        return [.. rows.Select(r => $"{r[0]} → {r[1]} ON DELETE {(r[2] == "c" ? "CASCADE" : r[2])}").Order(StringComparer.Ordinal)];
    }

    public override async Task<IReadOnlyList<string>> ColumnsAsync(string table) =>
        [.. (await QueryAsync($"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position")).Select(r => r[0]!)];

    public override async Task<bool> IsNullableAsync(string table, string column) =>
        await ScalarAsync($"SELECT is_nullable FROM information_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'") == "YES";

    public override string Timestamp(DateTimeOffset time) =>
        "'" + time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'";
}
