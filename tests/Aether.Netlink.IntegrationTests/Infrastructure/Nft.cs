using System.Text.Json;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// The nftables oracle: the <c>nft</c> program run inside a test namespace with <c>ip netns exec</c>, its JSON parsed
/// with System.Text.Json. Nothing here goes through Aether, and nothing here ever runs <c>nft</c> in the host
/// namespace except to read the host's ruleset (which the tests check is unchanged).
/// </summary>
internal static class Nft
{
    /// <summary>Runs <c>nft ARGS</c> inside <paramref name="ns"/>; throws when it exits non-zero.</summary>
    public static async Task<string> RunAsync(string ns, params string[] args)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        var (code, stdout, stderr) = await Ip.RunInAsync(ns, "nft", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"`ip netns exec {ns} nft {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
        }

        return stdout;
    }

    /// <summary>Feeds <paramref name="script"/> (nft syntax, one transaction) to <c>nft -f</c> inside <paramref name="ns"/>.</summary>
    public static async Task ScriptAsync(string ns, string script)
    {
        var file = Path.Combine(Path.GetTempPath(), "aether-nft-" + Guid.NewGuid().ToString("N") + ".nft");
        await File.WriteAllTextAsync(file, script);
        try
        {
            await RunAsync(ns, "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary><c>nft -j list ruleset</c> inside <paramref name="ns"/>: every item but the metainfo.</summary>
    public static async Task<JsonElement[]> RulesetAsync(string ns) => Items(await RunAsync(ns, "-j", "list", "ruleset"));

    /// <summary>The items of <paramref name="ns"/>'s ruleset that belong to table <paramref name="family"/>
    /// <paramref name="table"/> (the table itself, its chains, rules and other objects).</summary>
    public static async Task<JsonElement[]> TableItemsAsync(string ns, string family, string table) =>
        [.. (await RulesetAsync(ns)).Where(item => BelongsTo(item, family, table))];

    /// <summary>The rules of one chain, in order, each as its <c>expr</c> array's raw JSON.</summary>
    public static async Task<List<JsonElement>> RulesAsync(string ns, string family, string table, string chain) =>
        [.. (await TableItemsAsync(ns, family, table))
            .Where(i => i.TryGetProperty("rule", out var r) && r.GetProperty("chain").GetString() == chain)
            .Select(i => i.GetProperty("rule"))];

    /// <summary>The names of every table in <paramref name="ns"/>, as <c>family name</c>.</summary>
    public static async Task<List<string>> TablesAsync(string ns) =>
        [.. (await RulesetAsync(ns)).Where(i => i.TryGetProperty("table", out _)).Select(i => i.GetProperty("table")).Select(t => t.GetProperty("family").GetString() + " " + t.GetProperty("name").GetString())];

    /// <summary>The host's ruleset as <c>nft -j list ruleset</c> prints it (read only, to show it did not change);
    /// null when nft cannot read it.</summary>
    public static async Task<string?> HostRulesetAsync()
    {
        var (code, stdout, _) = await Ip.ExecAsync("nft", "-j", "list", "ruleset");
        return code == 0 ? stdout : null;
    }

    /// <summary>The packets counted by the first rule with a counter in <paramref name="chain"/>.</summary>
    public static async Task<long> CounterPacketsAsync(string ns, string family, string table, string chain)
    {
        foreach (var rule in await RulesAsync(ns, family, table, chain))
        {
            foreach (var expr in rule.GetProperty("expr").EnumerateArray())
            {
                if (expr.TryGetProperty("counter", out var counter) && counter.ValueKind == JsonValueKind.Object)
                {
                    return counter.GetProperty("packets").GetInt64();
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"nft: no counter in {family} {table} {chain} in {ns}");
    }

    private static bool BelongsTo(JsonElement item, string family, string table)
    {
        foreach (var property in item.EnumerateObject())
        {
            var body = property.Value;
            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("family", out var f) || f.GetString() != family)
            {
                return false;
            }

            return property.Name == "table"
                ? body.GetProperty("name").GetString() == table
                : body.TryGetProperty("table", out var t) && t.GetString() == table;
        }

        return false;
    }

    private static JsonElement[] Items(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("nftables").EnumerateArray().Where(i => !i.TryGetProperty("metainfo", out _)).Select(i => i.Clone())];
    }
}
