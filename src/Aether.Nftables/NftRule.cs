using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Nftables;

/// <summary>
/// One nftables rule: its statements in libnftables' JSON schema (the <c>expr</c> array of a rule, as
/// <c>nft -j list ruleset</c> prints it) and an optional comment. The chain that holds it says where it is. The
/// statements are kept in a canonical form (keys sorted, no whitespace), so two spellings of the same JSON compare
/// equal; what the kernel makes of them (nft may print a rule back differently than it was given, <c>in</c> as
/// <c>==</c> for instance) is not known until it is applied and read back.
/// </summary>
public sealed class NftRule
{
    private readonly JsonArray _expressions;
    private readonly JsonObject? _other;

    private NftRule(JsonArray expressions, string? comment, JsonObject? other)
    {
        _expressions = expressions;
        Comment = comment;
        _other = other is { Count: > 0 } ? other : null;
        Expressions = NftJson.Text(expressions);
    }

    /// <summary>The statements, as compact canonical JSON (an array of objects).</summary>
    public string Expressions { get; }

    /// <summary>The rule's comment, or null.</summary>
    public string? Comment { get; }

    /// <summary>
    /// A rule from raw JSON: an array of statements as libnftables' JSON schema writes them, for instance
    /// <c>[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth0"}},{"accept":null}]</c>.
    /// Only the shape is checked here; libnftables and the kernel judge the rest when it is checked or applied.
    /// </summary>
    /// <exception cref="ArgumentException">Not JSON, not a non-empty array of objects with one key each, or the comment
    /// holds NUL or is longer than 128 bytes (<c>NFT_USERDATA_MAXLEN</c> leaves room for 128).</exception>
    public static NftRule FromJson(string expressions, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        var node = NftJson.Parse(expressions, "rule expressions");
        if (node is not JsonArray { Count: > 0 } array)
        {
            throw new ArgumentException($"rule expressions: want a non-empty JSON array of statements, got {Shorten(expressions)}", nameof(expressions));
        }

        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject { Count: 1 })
            {
                throw new ArgumentException($"rule expressions: statement #{i + 1} is not an object with one key (such as {{\"accept\":null}}): {Shorten(NftJson.Text(array[i]))}", nameof(expressions));
            }
        }

        ValidateComment(comment);
        return new NftRule((JsonArray)NftJson.Canonical(array)!, comment, null);
    }

    /// <summary>
    /// Masquerade traffic from <paramref name="source"/> leaving through <paramref name="outInterface"/>: the rule
    /// <c>ip saddr 10.0.0.0/24 oifname "eth0" masquerade</c> (<c>ip6 saddr</c> for an IPv6 prefix). It belongs in a
    /// NAT postrouting chain (<see cref="NftChain.NatPostrouting"/>). Written the way nft prints it back (a host
    /// prefix as a bare address; <c>/0</c> as <c>meta nfproto ipv4</c>), so it reads back unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">The prefix has host bits set, or the interface name is not valid.</exception>
    public static NftRule Masquerade(IPPrefix source, string outInterface)
    {
        if (source.Address is null)
        {
            throw new ArgumentException("masquerade: the source prefix is empty", nameof(source));
        }

        if (!source.Address.Equals(source.Network))
        {
            throw new ArgumentException($"masquerade: source {source} has host bits set (the network is {source.Network}/{source.PrefixLength})", nameof(source));
        }

        if (!Aether.Netlink.Names.InterfaceNameRule.IsValid(outInterface, out var why))
        {
            throw new ArgumentException($"masquerade: output interface {why}", nameof(outInterface));
        }

        var v6 = source.Family == AddressFamily.InterNetworkV6;
        var max = v6 ? 128 : 32;
        JsonObject from;
        if (source.PrefixLength == 0)
        {
            from = Match(new JsonObject { ["meta"] = new JsonObject { ["key"] = "nfproto" } }, v6 ? "ipv6" : "ipv4");
        }
        else
        {
            var saddr = new JsonObject { ["payload"] = new JsonObject { ["protocol"] = v6 ? "ip6" : "ip", ["field"] = "saddr" } };
            JsonNode right = source.PrefixLength == max
                ? JsonValue.Create(Format(source.Address))
                : new JsonObject { ["prefix"] = new JsonObject { ["addr"] = Format(source.Address), ["len"] = source.PrefixLength } };
            from = Match(saddr, right);
        }

        var expressions = new JsonArray(
            from,
            Match(new JsonObject { ["meta"] = new JsonObject { ["key"] = "oifname" } }, outInterface),
            new JsonObject { ["masquerade"] = null });
        return new NftRule((JsonArray)NftJson.Canonical(expressions)!, null, null);
    }

    /// <summary>The rule as an object of libnftables' schema, without its placement (family, table, chain, handle):
    /// <c>{"comment":...,"expr":[...]}</c>, canonical.</summary>
    internal JsonObject ToJson()
    {
        var obj = _other is null ? new JsonObject() : (JsonObject)_other.DeepClone();
        if (Comment is not null)
        {
            obj["comment"] = Comment;
        }

        obj["expr"] = _expressions.DeepClone();
        return NftJson.CanonicalObject(obj, []);
    }

    /// <summary>Reads a rule object of <c>list</c> output: its chain's name and the rule. Keys this library does
    /// not model are kept, so a rule that carries more than it was given does not compare equal.</summary>
    internal static (string Chain, NftRule Rule) FromListJson(JsonObject obj)
    {
        var chain = NftJson.String(obj, "chain") ?? throw new FormatException("nftables rule without a chain: " + Shorten(NftJson.Text(obj)));
        var expressions = obj["expr"] as JsonArray ?? [];
        var other = NftJson.CanonicalObject(obj, [.. NftJson.PlacementKeys, "chain", "expr", "comment"]);
        return (chain, new NftRule((JsonArray)NftJson.Canonical(expressions)!, NftJson.String(obj, "comment"), other));
    }

    /// <summary>Two rules are equal when their canonical JSON is.</summary>
    internal string Key => NftJson.Text(ToJson());

    /// <inheritdoc/>
    public override string ToString() => Comment is null ? Expressions : string.Create(CultureInfo.InvariantCulture, $"{Expressions} comment \"{Comment}\"");

    private static JsonObject Match(JsonNode left, JsonNode right) =>
        new() { ["match"] = new JsonObject { ["op"] = "==", ["left"] = left, ["right"] = right } };

    private static string Format(IPAddress address) => address.ToString();

    private static void ValidateComment(string? comment)
    {
        if (comment is null)
        {
            return;
        }

        if (comment.Contains('\0', StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetByteCount(comment) > 128)
        {
            throw new ArgumentException($"rule comment '{Shorten(comment)}': must be at most 128 bytes without NUL", nameof(comment));
        }
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";
}
