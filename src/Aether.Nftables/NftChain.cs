using System.Globalization;
using System.Text.Json.Nodes;

namespace Aether.Nftables;

/// <summary>
/// One nftables chain and its rules, in order. A base chain (one with a <see cref="Hook"/>) is attached to a
/// netfilter hook and needs a <see cref="Type"/> and a <see cref="Priority"/>; a regular chain is only reached by a
/// jump or goto. Two chains are equal when their canonical JSON (header and rules) is.
/// </summary>
public sealed class NftChain
{
    /// <summary>The priority nft calls <c>srcnat</c> (NAT in postrouting, <c>NF_IP_PRI_NAT_SRC</c>).</summary>
    public const int SourceNatPriority = 100;

    /// <summary>The priority nft calls <c>dstnat</c> (NAT in prerouting, <c>NF_IP_PRI_NAT_DST</c>).</summary>
    public const int DestinationNatPriority = -100;

    /// <summary>The priority nft calls <c>filter</c>.</summary>
    public const int FilterPriority = 0;

    private static readonly string[] Types = ["filter", "nat", "route"];
    private static readonly string[] Hooks = ["prerouting", "input", "forward", "output", "postrouting", "ingress", "egress"];
    private static readonly string[] Policies = ["accept", "drop"];
    private static readonly string[] ModelledKeys = ["name", "type", "hook", "prio", "policy", "dev"];

    private readonly JsonObject? _other;

    /// <summary>A regular chain (no hook) named <paramref name="name"/> holding <paramref name="rules"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 255 bytes or holds control characters.</exception>
    public NftChain(string name, IEnumerable<NftRule>? rules = null)
        : this(name, rules, other: null)
    {
        if (!NftJson.IsValidName(name, out var why))
        {
            throw new ArgumentException($"chain name '{name}': {why}", nameof(name));
        }
    }

    private NftChain(string name, IEnumerable<NftRule>? rules, JsonObject? other)
    {
        Name = name;
        Rules = rules is null ? [] : [.. rules];
        if (Rules.Any(r => r is null))
        {
            throw new ArgumentException($"chain {name}: a rule is null", nameof(rules));
        }

        _other = other is { Count: > 0 } ? other : null;
    }

    /// <summary>The chain's name.</summary>
    public string Name { get; }

    /// <summary>The same chain (name, header and anything else it holds) with <paramref name="rules"/> instead of its
    /// rules.</summary>
    public NftChain WithRules(IEnumerable<NftRule> rules) =>
        new(Name, rules, _other) { Type = Type, Hook = Hook, Priority = Priority, Policy = Policy, Device = Device };

    /// <summary>The chain type of a base chain: <c>filter</c>, <c>nat</c> or <c>route</c>; null for a regular chain.</summary>
    public string? Type { get; init; }

    /// <summary>The hook of a base chain (<c>prerouting</c>, <c>input</c>, <c>forward</c>, <c>output</c>,
    /// <c>postrouting</c>, <c>ingress</c>, <c>egress</c>); null for a regular chain.</summary>
    public string? Hook { get; init; }

    /// <summary>The priority of a base chain (<see cref="SourceNatPriority"/>, <see cref="FilterPriority"/>, ...).</summary>
    public int? Priority { get; init; }

    /// <summary>The policy of a base chain, <c>accept</c> or <c>drop</c>; null is <c>accept</c>, as nft prints it.</summary>
    public string? Policy { get; init; }

    /// <summary>The device of a <c>netdev</c> base chain, or null.</summary>
    public string? Device { get; init; }

    /// <summary>The rules, in the order they are evaluated.</summary>
    public IReadOnlyList<NftRule> Rules { get; }

    /// <summary>Whether the chain is attached to a hook.</summary>
    public bool IsBaseChain => Hook is not null;

    /// <summary>The chain NAT rules for leaving traffic go in: <c>type nat hook postrouting priority srcnat; policy
    /// accept</c>, named <paramref name="name"/>.</summary>
    public static NftChain NatPostrouting(IEnumerable<NftRule> rules, string name = "postrouting") => new(name, rules)
    {
        Type = "nat",
        Hook = "postrouting",
        Priority = SourceNatPriority,
        Policy = "accept",
    };

    /// <summary>Throws when the header is not one libnftables could accept: a base chain without type or priority,
    /// a type, hook or policy nft does not know, a policy or priority on a regular chain.</summary>
    /// <exception cref="ArgumentException">Naming the chain and the field.</exception>
    public void Validate()
    {
        string Fail(string why) => $"chain {Name}: {why}";
        if (Hook is null)
        {
            if (Type is not null || Priority is not null || Policy is not null || Device is not null)
            {
                throw new ArgumentException(Fail("type, priority, policy and device belong to a base chain: give its hook too"), nameof(Hook));
            }

            return;
        }

        if (Array.IndexOf(Hooks, Hook) < 0)
        {
            throw new ArgumentException(Fail($"hook '{Hook}' is not one of {string.Join(", ", Hooks)}"), nameof(Hook));
        }

        if (Type is null || Array.IndexOf(Types, Type) < 0)
        {
            throw new ArgumentException(Fail($"a base chain needs a type: one of {string.Join(", ", Types)}" + (Type is null ? string.Empty : $", not '{Type}'")), nameof(Type));
        }

        if (Priority is null)
        {
            throw new ArgumentException(Fail("a base chain needs a priority (srcnat is 100, dstnat -100, filter 0)"), nameof(Priority));
        }

        if (Policy is not null && Array.IndexOf(Policies, Policy) < 0)
        {
            throw new ArgumentException(Fail($"policy '{Policy}' is not accept or drop"), nameof(Policy));
        }
    }

    /// <summary>The chain's header as an object of libnftables' schema, without its placement (family, table,
    /// handle), canonical. A base chain's policy is written even when left to its default, as nft prints it.</summary>
    internal JsonObject HeaderJson()
    {
        var obj = _other is null ? new JsonObject() : (JsonObject)_other.DeepClone();
        obj["name"] = Name;
        if (Hook is not null)
        {
            obj["type"] = Type;
            obj["hook"] = Hook;
            obj["prio"] = Priority;
            obj["policy"] = Policy ?? "accept";
            if (Device is not null)
            {
                obj["dev"] = Device;
            }
        }

        return NftJson.CanonicalObject(obj, []);
    }

    /// <summary>Reads a chain object of <c>list</c> output (its rules come separately). Keys this library does not
    /// model are kept.</summary>
    internal static NftChain FromListJson(JsonObject obj, IEnumerable<NftRule> rules)
    {
        var name = NftJson.String(obj, "name") ?? throw new FormatException("nftables chain without a name: " + NftJson.Text(obj));
        var other = NftJson.CanonicalObject(obj, [.. NftJson.PlacementKeys, .. ModelledKeys]);
        var priority = NftJson.Integer(obj, "prio");
        return new NftChain(name, rules, other)
        {
            Type = NftJson.String(obj, "type"),
            Hook = NftJson.String(obj, "hook"),
            Priority = priority is long p ? checked((int)p) : null,
            Policy = NftJson.String(obj, "policy"),
            Device = NftJson.String(obj, "dev"),
        };
    }

    /// <summary>The header as <c>nft</c> writes it (<c>type nat hook postrouting priority 100; policy accept</c>),
    /// or <c>regular</c>.</summary>
    public string DescribeHeader()
    {
        if (Hook is null)
        {
            return "regular";
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"type {Type} hook {Hook}{(Device is null ? string.Empty : " device " + Device)} priority {Priority}; policy {Policy ?? "accept"}");
        return _other is null ? text : text + " " + NftJson.Text(_other);
    }

    /// <inheritdoc/>
    public override string ToString() => $"chain {Name} ({DescribeHeader()}, {Rules.Count} rules)";
}
