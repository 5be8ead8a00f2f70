using System.Text.Json.Nodes;

namespace Aether.Nftables;

/// <summary>
/// One nftables table with everything in it: its chains and their rules, and, for a table read from the kernel,
/// any other objects it holds (sets, maps, named counters, flowtables...) kept as raw JSON. Its canonical form
/// (<see cref="ToCanonicalJson"/>) is a document of libnftables' JSON schema without handles, object keys sorted and
/// chains in name order, so two tables with the same content have the same text, whatever order they were built or
/// listed in.
/// </summary>
public sealed class NftTable
{
    private readonly JsonObject? _other;
    private string? _canonical;

    /// <summary>Creates a table of <paramref name="family"/> named <paramref name="name"/> holding <paramref name="chains"/>.</summary>
    /// <exception cref="ArgumentException">The name is invalid, a chain is invalid (<see cref="NftChain.Validate"/>), or
    /// two chains share a name.</exception>
    public NftTable(NftFamily family, string name, IEnumerable<NftChain> chains)
        : this(family, name, chains, [])
    {
    }

    /// <summary>Creates a table holding <paramref name="chains"/> and the named sets <paramref name="sets"/>.</summary>
    /// <exception cref="ArgumentException">As the constructor without sets, or two sets share a name.</exception>
    public NftTable(NftFamily family, string name, IEnumerable<NftChain> chains, IEnumerable<NftSet> sets)
        : this(family, name, chains, SetObjects(sets, name), null)
    {
        if (!Enum.IsDefined(family))
        {
            throw new ArgumentException($"table {name}: {family} is not an nftables family", nameof(family));
        }

        if (!NftJson.IsValidName(name, out var why))
        {
            throw new ArgumentException($"table name '{name}': {why}", nameof(name));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chain in Chains)
        {
            chain.Validate();
            if (!seen.Add(chain.Name))
            {
                throw new ArgumentException($"table {name}: chain {chain.Name} is given twice", nameof(chains));
            }
        }
    }

    private static List<JsonObject> SetObjects(IEnumerable<NftSet> sets, string table)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var list = sets.ToList();
        if (list.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"table {table}: set {twice.Key} is given twice", nameof(sets));
        }

        var objects = list.ConvertAll(s => s.ToJson());
        objects.Sort((a, b) => string.CompareOrdinal(NftJson.Text(a), NftJson.Text(b)));
        return objects;
    }

    private NftTable(NftFamily family, string name, IEnumerable<NftChain> chains, IReadOnlyList<JsonObject> others, JsonObject? other)
    {
        ArgumentNullException.ThrowIfNull(chains);
        Family = family;
        Name = name;
        Chains = [.. chains.OrderBy(c => c?.Name, StringComparer.Ordinal)];
        if (Chains.Any(c => c is null))
        {
            throw new ArgumentException($"table {name}: a chain is null", nameof(chains));
        }

        OtherObjects = others;
        _other = other is { Count: > 0 } ? other : null;
    }

    /// <summary>The family.</summary>
    public NftFamily Family { get; }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The chains, in name order.</summary>
    public IReadOnlyList<NftChain> Chains { get; }

    /// <summary>What the table holds besides chains and rules (read from the kernel only): one object per item, such
    /// as <c>{"set":{"name":"blocked",...}}</c>, without placement keys.</summary>
    internal IReadOnlyList<JsonObject> OtherObjects { get; }

    /// <summary>The named sets of plain values among the table's objects (see <see cref="NftSet"/>).</summary>
    public IReadOnlyList<NftSet> Sets =>
        [.. OtherObjects.Where(o => o["set"] is JsonObject).Select(o => NftSet.FromJson((JsonObject)o["set"]!)).OfType<NftSet>()];

    /// <summary>For a table read from the kernel, each chain's rule handles in the order of its rules; empty for a
    /// table built here.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ulong>> RuleHandles { get; private init; } = new Dictionary<string, IReadOnlyList<ulong>>(StringComparer.Ordinal);

    /// <summary>Short names of the other objects (<c>set blocked</c>, <c>counter hits</c>).</summary>
    public IReadOnlyList<string> OtherObjectNames =>
        [.. OtherObjects.Select(o => o.First() is { Value: JsonObject body } only && NftJson.String(body, "name") is { } name ? only.Key + " " + name : NftJson.Text(o))];

    /// <summary>The table as <c>nft</c> names it: <c>inet aether-lab</c>.</summary>
    public string QualifiedName => Family.ToNftName() + " " + Name;

    /// <summary>
    /// The table's content as a document of libnftables' JSON schema (<c>{"nftables":[{"table":...},{"chain":...},
    /// {"rule":...}]}</c>) without handles: object keys sorted, chains in name order, other objects in the order
    /// of their text, rules in their chain's order. It is also a document <c>nft -j -f</c> accepts.
    /// </summary>
    public string ToCanonicalJson() => _canonical ??= NftJson.Text(Document());

    /// <summary>The same table with each chain's rules in the order of their text: two tables whose chains hold the
    /// same rules in different orders have the same <see cref="ToCanonicalJson"/> this way (for chains where the
    /// order does not matter).</summary>
    public NftTable WithSortedRules() =>
        new(Family, Name, Chains.Select(c => c.WithRules(c.Rules.OrderBy(r => r.ToString(), StringComparer.Ordinal))), OtherObjects, _other);

    /// <summary>The table without rules and without its sets of plain values (see <see cref="Sets"/>): what has to
    /// be equal for two tables to differ only in rules and set elements.</summary>
    public NftTable Skeleton() =>
        new(Family, Name, Chains.Select(c => c.WithRules([])), [.. OtherObjects.Where(o => o["set"] is not JsonObject body || NftSet.FromJson(body) is null)], _other);

    /// <summary>Whether <paramref name="other"/> has the same family, name and content.</summary>
    public bool ContentEquals(NftTable? other) => other is not null && string.Equals(ToCanonicalJson(), other.ToCanonicalJson(), StringComparison.Ordinal);

    /// <summary>
    /// Reads a table from a libnftables JSON document: the output of <c>nft -j list table</c> or a
    /// <see cref="ToCanonicalJson"/> text. Handles are dropped; the first table in the document is the one read, and
    /// chains, rules and other objects of any other table are ignored.
    /// </summary>
    /// <exception cref="FormatException">The text is not such a document, or it holds no table.</exception>
    public static NftTable Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new FormatException("nftables JSON: " + ex.Message, ex);
        }

        var items = (root as JsonObject)?["nftables"] as JsonArray ?? throw new FormatException("nftables JSON: no \"nftables\" array");
        return FromItems(items, null) ?? throw new FormatException("nftables JSON: no table");
    }

    /// <summary>Reads the table <paramref name="which"/> (the first when null) out of the items of a list
    /// document, or null when the document does not hold it.</summary>
    internal static NftTable? FromItems(JsonArray items, (NftFamily Family, string Name)? which)
    {
        JsonObject? table = null;
        NftFamily family = default;
        foreach (var item in items)
        {
            if (item is JsonObject obj && obj["table"] is JsonObject t
                && NftFamilies.TryParse(NftJson.String(t, "family"), out var f) && NftJson.String(t, "name") is { } n
                && (which is null || (which.Value.Family == f && string.Equals(which.Value.Name, n, StringComparison.Ordinal))))
            {
                table = t;
                family = f;
                break;
            }
        }

        if (table is null)
        {
            return null;
        }

        var name = NftJson.String(table, "name")!;
        var familyName = family.ToNftName();
        bool Mine(JsonObject body) =>
            string.Equals(NftJson.String(body, "family"), familyName, StringComparison.Ordinal) && string.Equals(NftJson.String(body, "table"), name, StringComparison.Ordinal);

        var chainObjects = new List<JsonObject>();
        var rules = new Dictionary<string, List<NftRule>>(StringComparer.Ordinal);
        var handles = new Dictionary<string, List<ulong>>(StringComparer.Ordinal);
        var others = new List<JsonObject>();
        foreach (var item in items)
        {
            if (item is not JsonObject { Count: 1 } obj || obj.First() is not { Value: JsonObject body } only)
            {
                continue;
            }

            var kind = only.Key;
            switch (kind)
            {
                case "metainfo" or "table":
                    break;
                case "chain" when Mine(body):
                    chainObjects.Add(body);
                    break;
                case "rule" when Mine(body):
                    var (chain, rule) = NftRule.FromListJson(body);
                    if (!rules.TryGetValue(chain, out var list))
                    {
                        rules[chain] = list = [];
                        handles[chain] = [];
                    }

                    list.Add(rule);
                    handles[chain].Add(body["handle"] is JsonValue h && h.TryGetValue<ulong>(out var handle) ? handle : 0);
                    break;
                case "chain" or "rule":
                    break;
                default:
                    if (Mine(body))
                    {
                        var canonical = NftJson.CanonicalObject(body, NftJson.PlacementKeys);
                        if (string.Equals(kind, "set", StringComparison.Ordinal) && canonical["elem"] is JsonArray elements && elements.All(e => e is JsonValue v && v.TryGetValue<string>(out _)))
                        {
                            // A hash set's elements come back in no fixed order.
                            canonical["elem"] = new JsonArray([.. elements.Select(e => e!.GetValue<string>()).Order(StringComparer.Ordinal).Select(e => (JsonNode?)JsonValue.Create(e))]);
                        }

                        others.Add(new JsonObject { [kind] = canonical });
                    }

                    break;
            }
        }

        var chains = chainObjects.ConvertAll(c => NftChain.FromListJson(c, rules.GetValueOrDefault(NftJson.String(c, "name")!) ?? []));
        others.Sort((a, b) => string.CompareOrdinal(NftJson.Text(a), NftJson.Text(b)));
        return new NftTable(family, name, chains, others, NftJson.CanonicalObject(table, [.. NftJson.PlacementKeys, "name"]))
        {
            RuleHandles = handles.ToDictionary(h => h.Key, h => (IReadOnlyList<ulong>)h.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The commands that make the kernel's table exactly this one, as one transaction: <c>add table</c> (so the
    /// next command finds it even when it did not exist), <c>delete table</c> (everything in it goes), <c>add
    /// table</c>, then the other objects, the chains, and the rules. The kernel applies all of it or none.
    /// </summary>
    internal JsonArray ReplaceCommands()
    {
        var commands = new List<JsonNode?>
        {
            Command("add", "table", Placement(TableJson(), table: false)),
            Command("delete", "table", Placement(new JsonObject { ["name"] = Name }, table: false)),
            Command("add", "table", Placement(TableJson(), table: false)),
        };
        foreach (var other in OtherObjects)
        {
            var (kind, body) = other.First();
            commands.Add(Command("add", kind, Placement((JsonObject)body!.DeepClone(), table: true)));
        }

        foreach (var chain in Chains)
        {
            commands.Add(Command("add", "chain", Placement(chain.HeaderJson(), table: true)));
        }

        foreach (var chain in Chains)
        {
            foreach (var rule in chain.Rules)
            {
                var body = rule.ToJson();
                body["chain"] = chain.Name;
                commands.Add(Command("add", "rule", Placement(body, table: true)));
            }
        }

        return [.. commands];
    }

    /// <summary>The commands that remove the table whether or not it exists: <c>add table</c>, <c>delete table</c>.</summary>
    internal static JsonArray DeleteCommands(NftFamily family, string name)
    {
        var table = new JsonObject { ["family"] = family.ToNftName(), ["name"] = name };
        return new JsonArray(Command("add", "table", (JsonObject)table.DeepClone()), Command("delete", "table", table)); // not a collection expression: that binds to the generic Add, which Native AOT cannot compile
    }

    /// <inheritdoc/>
    public override string ToString() => $"table {QualifiedName} ({Chains.Count} chains, {Chains.Sum(c => c.Rules.Count)} rules)";

    private static JsonObject Command(string verb, string kind, JsonObject body) => new() { [verb] = new JsonObject { [kind] = body } };

    private JsonObject TableJson()
    {
        var obj = _other is null ? new JsonObject() : (JsonObject)_other.DeepClone();
        obj["name"] = Name;
        return obj;
    }

    private JsonObject Placement(JsonObject body, bool table)
    {
        body["family"] = Family.ToNftName();
        if (table)
        {
            body["table"] = Name;
        }

        return NftJson.CanonicalObject(body, []);
    }

    private JsonObject Document()
    {
        var items = new List<JsonNode?> { new JsonObject { ["table"] = Placement(TableJson(), table: false) } };
        foreach (var other in OtherObjects)
        {
            var (kind, body) = other.First();
            items.Add(new JsonObject { [kind] = Placement((JsonObject)body!.DeepClone(), table: true) });
        }

        foreach (var chain in Chains)
        {
            items.Add(new JsonObject { ["chain"] = Placement(chain.HeaderJson(), table: true) });
        }

        foreach (var chain in Chains)
        {
            foreach (var rule in chain.Rules)
            {
                var body = rule.ToJson();
                body["chain"] = chain.Name;
                items.Add(new JsonObject { ["rule"] = Placement(body, table: true) });
            }
        }

        return new JsonObject { ["nftables"] = new JsonArray([.. items]) };
    }
}
