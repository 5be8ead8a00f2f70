using System.Globalization;
using System.Text;

namespace Aether.Bench;

/// <summary>
/// Structure-aware mutation of valid definition files: each input is a seed's tree with one to four mutations (types
/// swapped, keys duplicated or removed, deep nesting, huge and odd scalars, names with control characters, unicode and
/// <c>%d</c> templates, numbers at their boundaries, anchors and aliases, subtrees from other seeds), written as YAML,
/// and one input in four is then mutated as bytes too. Deterministic for a seed.
/// </summary>
internal sealed class FuzzMutator
{
    /// <summary>Scalars at the edges of what the readers take: numbers at boundaries, names of 15/16 and 48/49
    /// bytes, control characters, unicode, templates, YAML's special words, address shapes.</summary>
    public static readonly string[] OddScalars =
    [
        "", "~", "null", "Null", "true", "yes", "off", "0", "-0", "-1", "1", "67", "68", "65535", "65536", "4094", "4095",
        "16777215", "16777216", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "99999999999999999999999999", "1e309", "-1e309", ".inf", "-.inf",
        ".nan", "NaN", "0x10", "0o17", "017", "1_000", "1500.5", "+68", " 68", "68 ",
        "a23456789012345", "a234567890123456", new string('n', 48), new string('n', 49), new string('x', 255),
        "eth%d", "%d", "%s%s%s%n", "{0}", "${HOME}", "$(reboot)", "`id`", "a b", "a\tb", "a\nb", "a\0b", "\u0001", "\u007f",
        "\u0085", "\u00a0", "\u200b", "\u202eevil", "ü", "ethé", "接口", "🙂", "\ud800", "a/b", "a:b", ".", "..", "-", "--",
        "lo", "all", "default", "*", "?", "[", "{", "#x", "&x", "!x", "|", ">", "'", "\"",
        "10.0.0.1", "10.0.0.1/33", "10.0.0.1/-1", "256.0.0.1/24", "10.0.0/24", "::/0", "::1/129", "fe80::1%eth0",
        "0.0.0.0/0", "default", "10.0.0.1:0", "10.0.0.1:65536", "[::1]:51820", "192.0.2.1:51820",
        "r1:", ":eth1", "r1:Ethernet", "r1:Ethernet99999999999", "r1:ge-0/0/", "r1:eth1:eth2", "r9:eth1",
    ];

    /// <summary>The longest input written: over the readers' 4 MiB limit, no further.</summary>
    private const int MaxText = 5 * 1024 * 1024;

    private const string Specials = "\t\r\0:-[{&*!|>'\"#%@`";

    private static readonly string[] Tags = ["!!int", "!!str", "!!bool", "!!float", "!!null", "!!binary", "!!map", "!!seq", "!custom", "!<tag:x>"];

    private readonly Random _random;
    private readonly FuzzNode[] _seeds;
    private readonly string[] _keys;
    private readonly string[] _values;
    private int _anchors;

    public FuzzMutator(IEnumerable<string> seedTexts, int seed)
    {
        _random = new Random(seed);
        _seeds = [.. seedTexts.Select(FuzzNode.Parse)];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in _seeds)
        {
            Collect(s, keys, values);
        }

        _keys = [.. keys.Order(StringComparer.Ordinal)];
        _values = [.. values.Order(StringComparer.Ordinal)];
    }

    public Random Random => _random;

    /// <summary>The mutations that made the last input (their numbers, <c>b</c> for byte-level).</summary>
    public string Trace { get; private set; } = string.Empty;

    /// <summary>The next input, as bytes (byte-level mutations may leave invalid UTF-8).</summary>
    public byte[] Next()
    {
        var pick = _random.Next(_seeds.Length);
        var tree = _seeds[pick].Clone();
        _anchors = 0;
        var count = 1 + _random.Next(4);
        var trace = new StringBuilder().Append(CultureInfo.InvariantCulture, $"seed {pick}:");
        for (var i = 0; i < count; i++)
        {
            tree = Mutate(tree, trace);
            var nodes = new List<FuzzNode>();
            Walk(tree, nodes);
            if (nodes.Count > 20_000)
            {
                break; // big enough: past the readers' node limit, and more would only cost time here
            }
        }

        var text = FuzzYamlWriter.Write(tree, _random);
        var bytes = Encoding.UTF8.GetBytes(text.Length > MaxText ? text[..MaxText] : text);
        if (_random.Next(4) == 0)
        {
            trace.Append(" b");
            bytes = MutateBytes(bytes);
        }

        Trace = trace.ToString();
        return bytes;
    }

    private FuzzNode Mutate(FuzzNode root, StringBuilder trace)
    {
        var nodes = new List<FuzzNode>();
        Walk(root, nodes);
        var target = nodes[_random.Next(nodes.Count)];
        var mutation = _random.Next(16);
        trace.Append(' ').Append(mutation);
        switch (mutation)
        {
            case 0: // swap the type
                return Replace(root, target, target switch
                {
                    FuzzScalar s => _random.Next(2) == 0 ? new FuzzSeq { Items = [s] } : new FuzzMap { Items = [(s, s.Clone())] },
                    FuzzMap m => _random.Next(2) == 0 ? new FuzzSeq { Items = [.. m.Items.Select(kv => kv.Value)] } : Odd(),
                    FuzzSeq q => q.Items.Count > 0 && _random.Next(2) == 0 ? q.Items[0] : new FuzzMap { Items = [.. q.Items.Select(i => (Odd(), i))] },
                    _ => Odd(),
                });
            case 1: // duplicate a key
                if (nodes.OfType<FuzzMap>().Where(m => m.Items.Count > 0).ToList() is { Count: > 0 } maps)
                {
                    var map = maps[_random.Next(maps.Count)];
                    var item = map.Items[_random.Next(map.Items.Count)];
                    map.Items.Insert(_random.Next(map.Items.Count + 1), (item.Key.Clone(), _random.Next(2) == 0 ? item.Value.Clone() : Odd()));
                }

                return root;
            case 2: // remove a field or an item
                foreach (var node in nodes)
                {
                    if (node is FuzzMap { Items.Count: > 0 } m && _random.Next(3) == 0)
                    {
                        m.Items.RemoveAt(_random.Next(m.Items.Count));
                        return root;
                    }

                    if (node is FuzzSeq { Items.Count: > 0 } q && _random.Next(3) == 0)
                    {
                        q.Items.RemoveAt(_random.Next(q.Items.Count));
                        return root;
                    }
                }

                return root;
            case 3: // deep nesting
                return Replace(root, target, Nest(target, _random.Next(4) == 0 ? 100 + _random.Next(5000) : 1 + _random.Next(70)));
            case 4: // a huge scalar
                return Replace(root, target, new FuzzScalar { Text = Huge() });
            case 5 or 6 or 7: // an odd scalar where a value was
                return Replace(root, target, Odd());
            case 8: // an odd or misspelled key
                if (nodes.OfType<FuzzMap>().Where(m => m.Items.Count > 0).ToList() is { Count: > 0 } keyed)
                {
                    var map = keyed[_random.Next(keyed.Count)];
                    var i = _random.Next(map.Items.Count);
                    map.Items[i] = (_random.Next(2) == 0 ? Odd() : new FuzzScalar { Text = _keys[_random.Next(_keys.Length)] }, map.Items[i].Value);
                }

                return root;
            case 9: // a value from elsewhere in the seeds
                return Replace(root, target, new FuzzScalar { Text = _values[_random.Next(_values.Length)] });
            case 10: // an anchor and an alias to it (sometimes to nothing, sometimes to itself)
                {
                    var name = "a" + (++_anchors).ToString(CultureInfo.InvariantCulture);
                    target.Anchor ??= name;
                    var other = nodes[_random.Next(nodes.Count)];
                    return other == root ? root : Replace(root, other, new FuzzAlias { Name = _random.Next(5) == 0 ? "nowhere" : target.Anchor });
                }

            case 11: // aliases that expand a thousandfold (a billion laughs, shortened)
                return Replace(root, target, Laughs(3 + _random.Next(7)));
            case 12: // a subtree of another seed
                {
                    var donors = new List<FuzzNode>();
                    Walk(_seeds[_random.Next(_seeds.Length)], donors);
                    return Replace(root, target, donors[_random.Next(donors.Count)].Clone());
                }

            case 13: // a tag
                target.Tag = Tags[_random.Next(Tags.Length)];
                return root;
            case 14: // duplicate an item many times
                if (nodes.OfType<FuzzSeq>().Where(q => q.Items.Count > 0).ToList() is { Count: > 0 } seqs)
                {
                    var seq = seqs[_random.Next(seqs.Count)];
                    var item = seq.Items[_random.Next(seq.Items.Count)];
                    var size = new List<FuzzNode>();
                    Walk(item, size);
                    var times = _random.Next(3) == 0 && size.Count < 20 ? 500 + _random.Next(3000) : 1 + _random.Next(4);
                    for (var i = 0; i < times; i++)
                    {
                        seq.Items.Add(item.Clone());
                    }
                }

                return root;
            default: // a name made odd: a seed value with a template, a control character or unicode in it
                if (target is FuzzScalar scalar)
                {
                    var cut = _random.Next(scalar.Text.Length + 1);
                    scalar.Text = scalar.Text[..cut] + OddScalars[_random.Next(OddScalars.Length)] + scalar.Text[cut..];
                }

                return root;
        }
    }

    private FuzzScalar Odd() => new() { Text = OddScalars[_random.Next(OddScalars.Length)] };

    private string Huge() => _random.Next(3) switch
    {
        0 => new string('a', 65_536 + _random.Next(2)),
        1 => string.Concat(Enumerable.Repeat("%d\u0001é", 1000 + _random.Next(30_000))),
        _ => "1" + new string('0', 20 + _random.Next(5000)),
    };

    private FuzzNode Nest(FuzzNode inner, int depth)
    {
        for (var i = 0; i < depth; i++)
        {
            inner = _random.Next(2) == 0 ? new FuzzSeq { Items = [inner] } : new FuzzMap { Items = [(new FuzzScalar { Text = "k" }, inner)] };
        }

        return inner;
    }

    /// <summary>Levels of anchored lists of ten aliases to the level below: 10^levels leaves if expanded.</summary>
    private static FuzzMap Laughs(int levels)
    {
        var map = new FuzzMap();
        map.Items.Add((new FuzzScalar { Text = "l0" }, new FuzzScalar { Text = "lol", Anchor = "l0" }));
        for (var i = 1; i <= levels; i++)
        {
            var below = "l" + (i - 1).ToString(CultureInfo.InvariantCulture);
            var name = "l" + i.ToString(CultureInfo.InvariantCulture);
            map.Items.Add((new FuzzScalar { Text = name }, new FuzzSeq { Anchor = name, Items = [.. Enumerable.Range(0, 10).Select(_ => (FuzzNode)new FuzzAlias { Name = below })] }));
        }

        return map;
    }

    private byte[] MutateBytes(byte[] bytes)
    {
        var list = new List<byte>(bytes);
        var count = 1 + _random.Next(8);
        for (var i = 0; i < count && list.Count > 0; i++)
        {
            var at = _random.Next(list.Count);
            switch (_random.Next(8))
            {
                case 0: list[at] ^= (byte)(1 << _random.Next(8)); break;
                case 1: list.Insert(at, (byte)_random.Next(256)); break;
                case 2: list.RemoveRange(at, Math.Min(list.Count - at, 1 + _random.Next(16))); break;
                case 3: list.InsertRange(at, list.GetRange(at, Math.Min(list.Count - at, 1 + _random.Next(64)))); break;
                case 4: list.RemoveRange(at, list.Count - at); break; // truncated
                case 5: list.InsertRange(at, [0xEF, 0xBB, 0xBF]); break; // a BOM
                case 6: list.InsertRange(at, [(byte)Specials[_random.Next(Specials.Length)]]); break;
                default: list.InsertRange(at, [0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80]); break; // invalid UTF-8, a surrogate
            }
        }

        return [.. list];
    }

    private static FuzzNode Replace(FuzzNode root, FuzzNode target, FuzzNode with)
    {
        if (root == target)
        {
            return with;
        }

        switch (root)
        {
            case FuzzMap map:
                for (var i = 0; i < map.Items.Count; i++)
                {
                    map.Items[i] = (Replace(map.Items[i].Key, target, with), Replace(map.Items[i].Value, target, with));
                }

                break;
            case FuzzSeq seq:
                for (var i = 0; i < seq.Items.Count; i++)
                {
                    seq.Items[i] = Replace(seq.Items[i], target, with);
                }

                break;
        }

        return root;
    }

    private static void Walk(FuzzNode node, List<FuzzNode> into)
    {
        var stack = new Stack<FuzzNode>();
        stack.Push(node);
        while (stack.TryPop(out var n))
        {
            into.Add(n);
            if (into.Count > 20_000)
            {
                return;
            }

            switch (n)
            {
                case FuzzMap map:
                    foreach (var (k, v) in map.Items)
                    {
                        stack.Push(k);
                        stack.Push(v);
                    }

                    break;
                case FuzzSeq seq:
                    seq.Items.ForEach(stack.Push);
                    break;
            }
        }
    }

    private static void Collect(FuzzNode node, HashSet<string> keys, HashSet<string> values)
    {
        switch (node)
        {
            case FuzzMap map:
                foreach (var (k, v) in map.Items)
                {
                    if (k is FuzzScalar ks)
                    {
                        keys.Add(ks.Text);
                    }

                    Collect(v, keys, values);
                }

                break;
            case FuzzSeq seq:
                seq.Items.ForEach(i => Collect(i, keys, values));
                break;
            case FuzzScalar s:
                values.Add(s.Text);
                break;
        }
    }
}
