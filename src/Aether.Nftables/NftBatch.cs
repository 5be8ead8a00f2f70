using System.Text.Json.Nodes;

namespace Aether.Nftables;

/// <summary>
/// Changes to the rules and sets of one existing table, sent as one transaction by <see cref="NftContext.RunBatch"/>:
/// rules deleted by handle and added at the end of their chain, sets added or deleted, elements added or deleted.
/// Nothing else of the table is touched (its base chains stay hooked), so the rules left alone keep their handles.
/// Commands run in the order they were given; the kernel applies all of them or none.
/// </summary>
public sealed class NftBatch
{
    private readonly List<JsonNode?> _commands = [];
    private readonly List<(string Chain, NftRule Rule)> _added = [];
    private readonly List<ulong> _deleted = [];

    /// <summary>A batch for the table <paramref name="family"/> <paramref name="table"/>.</summary>
    public NftBatch(NftFamily family, string table)
    {
        if (!NftJson.IsValidName(table, out var why))
        {
            throw new ArgumentException($"table name '{table}': {why}", nameof(table));
        }

        Family = family;
        Table = table;
    }

    /// <summary>The table's family.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Table { get; }

    /// <summary>How many commands the batch holds.</summary>
    public int Count => _commands.Count;

    /// <summary>The rules added, in order (their handles come back from <see cref="NftContext.RunBatch"/> in this
    /// order).</summary>
    public IReadOnlyList<(string Chain, NftRule Rule)> AddedRules => _added;

    /// <summary>The handles of the rules deleted, in order.</summary>
    public IReadOnlyList<ulong> DeletedRules => _deleted;

    /// <summary>Deletes the rule with <paramref name="handle"/> from <paramref name="chain"/>.</summary>
    public NftBatch DeleteRule(string chain, ulong handle)
    {
        _deleted.Add(handle);
        return Add("delete", "rule", new JsonObject { ["chain"] = chain, ["handle"] = handle });
    }

    /// <summary>Appends <paramref name="rule"/> to <paramref name="chain"/>.</summary>
    public NftBatch AddRule(string chain, NftRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var body = rule.ToJson();
        body["chain"] = chain;
        _added.Add((chain, rule));
        return Add("add", "rule", body);
    }

    /// <summary>Adds <paramref name="set"/> with its elements.</summary>
    public NftBatch AddSet(NftSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Add("add", "set", (JsonObject)set.ToJson()["set"]!.DeepClone());
    }

    /// <summary>Deletes the set <paramref name="name"/> (no rule may still refer to it).</summary>
    public NftBatch DeleteSet(string name) => Add("delete", "set", new JsonObject { ["name"] = name });

    /// <summary>Adds <paramref name="elements"/> to the set <paramref name="name"/>; nothing when there are none.</summary>
    public NftBatch AddElements(string name, IReadOnlyCollection<string> elements) => Elements("add", name, elements);

    /// <summary>Deletes <paramref name="elements"/> from the set <paramref name="name"/>; nothing when there are none.</summary>
    public NftBatch DeleteElements(string name, IReadOnlyCollection<string> elements) => Elements("delete", name, elements);

    /// <summary>The batch as a libnftables JSON document.</summary>
    public string ToJson() => NftJson.Text(new JsonObject { ["nftables"] = new JsonArray([.. _commands.Select(c => c?.DeepClone())]) });

    private NftBatch Elements(string verb, string name, IReadOnlyCollection<string> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        return elements.Count == 0 ? this : Add(verb, "element", new JsonObject { ["name"] = name, ["elem"] = new JsonArray([.. elements.Select(e => (JsonNode?)JsonValue.Create(e))]) });
    }

    private NftBatch Add(string verb, string kind, JsonObject body)
    {
        body["family"] = Family.ToNftName();
        body["table"] = Table;
        _commands.Add(new JsonObject { [verb] = new JsonObject { [kind] = body } });
        return this;
    }
}
