using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Aether.Bench;

/// <summary>One request as bytes on the wire, what it is for the report, and whether it asks for a change.</summary>
/// <param name="Kind">Its family (<c>hub-json</c>, <c>lab-yaml</c>, <c>path</c>…).</param>
/// <param name="Bytes">The request line, headers and body.</param>
/// <param name="Mutating">Whether a 2xx answer may have changed the kernel.</param>
/// <param name="Tcp">Sent over loopback TCP (with or without a token) instead of the unix socket.</param>
internal sealed record FuzzRequest(string Kind, byte[] Bytes, bool Mutating, bool Tcp);

/// <summary>
/// Hostile HTTP requests for the daemon: mutated JSON bodies of valid hub-network requests, mutated lab files as YAML
/// and as JSON, link requests, bad paths and methods, headers and content types, chunked (well and badly), bodies over
/// the limit, and over TCP no token or a wrong one. Deterministic for a seed.
/// </summary>
internal sealed class FuzzHttpRequests
{
    private static readonly string[] Paths =
    [
        "/", "/v1", "/v1/", "/v1/hub", "/v1/hub/networks/", "/v1/hub/networks/%00", "/v1/hub/networks/..%2f..%2fetc",
        "/v1/hub/networks/%ff%fe", "/v1/hub/status/x", "/v1/labs/%ff", "/v1/labs/" + new string('a', 5000), "/v1/labs/..",
        "/v1/labs/x/links/a/b/c", "/v1/labs/x/links/%0a", "/v1/labs/x/nodes/%2e%2e/interfaces", "/metrics", "/v1/status",
        "/v1/health", "//v1//labs", "/v1/labs?x=%", "/v1/labs/%E2%80%AE", "/v1/labs/x%00y", "/v1/labs/A", "/v1/labs/x/interface-mappings",
        "/v1/labs/x/interface-mappings/sync", "/v1/hub/networks/" + new string('n', 300), "/v1/labs/%25d", "/v1/labs/-",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO", "get", "POST "];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "application/yaml", "text/yaml",
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json;;", "*/*", "", "\u00e9/x",
        "application/problem+json", "application/merge-patch+json",
    ];

    private readonly Random _random;
    private readonly FuzzMutator _labs;
    private readonly string _container;
    private readonly string _key;
    private readonly string _peer;
    private readonly string _token;
    private readonly string _labPrefix;

    public FuzzHttpRequests(int seed, string prefix, string container, string key, string peer, string token, IEnumerable<string> labSeeds)
    {
        _random = new Random(seed);
        _labPrefix = prefix;
        _labs = new FuzzMutator(labSeeds, seed + 7);
        _container = container;
        _key = key;
        _peer = peer;
        _token = token;
    }

    public FuzzRequest Next()
    {
        var tcp = _random.Next(20) == 0;
        var auth = !tcp ? null : _random.Next(3) switch
        {
            0 => null,
            1 => "Bearer " + (_random.Next(2) == 0 ? "wrong-token-0123456789abcdef0123456789" : _token + "x"),
            _ => "Bearer " + _token,
        };
        return _random.Next(20) switch
        {
            < 8 => Hub(tcp, auth),
            < 12 => Lab(tcp, auth),
            < 14 => Link(tcp, auth),
            < 16 => Build("path", Pick(Methods), Pick(Paths), tcp, auth, _random.Next(2) == 0 ? null : HubBody(), Pick(ContentTypes), mutating: true),
            < 18 => Headers(tcp, auth),
            _ => Oversized(tcp, auth),
        };
    }

    private FuzzRequest Hub(bool tcp, string? auth)
    {
        var method = _random.Next(10) == 0 ? "DELETE" : "POST";
        if (method == "DELETE")
        {
            return Build("hub-delete", method, "/v1/hub/networks/" + Uri.EscapeDataString(Odd()), tcp, auth, null, null, mutating: true);
        }

        return Build("hub-json", method, "/v1/hub/networks", tcp, auth, HubBody(), "application/json", mutating: true);
    }

    private byte[] HubBody()
    {
        var index = _random.Next(4);
        var body = new JsonObject
        {
            ["networkId"] = "fz" + index.ToString(CultureInfo.InvariantCulture),
            ["index"] = index,
            ["container"] = _container,
            ["privateKey"] = _key,
            ["listenPort"] = 47000 + index,
            ["peerEndpoint"] = "192.0.2.2:51820",
            ["peerPublicKey"] = _peer,
            ["address"] = $"10.{200 + index}.0.2",
            ["networkCidr"] = $"10.{200 + index}.0.0/24",
            ["gateway"] = $"10.{200 + index}.0.1",
        };
        return MutateJson(body);
    }

    private byte[] MutateJson(JsonObject body)
    {
        var count = 1 + _random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var keys = body.Select(kv => kv.Key).ToList();
            var key = keys.Count > 0 ? keys[_random.Next(keys.Count)] : "x";
            switch (_random.Next(10))
            {
                case 0: body.Remove(key); break;
                case 1: body[key] = null; break;
                case 2 or 3: body[key] = Odd(); break;
                case 4: body[key] = JsonValue.Create(Pick([0L, -1L, 1L, 65535L, 65536L, 4095L, 4096L, int.MaxValue, (long)int.MaxValue + 1, int.MinValue, long.MaxValue, long.MinValue])); break;
                case 5: body[key] = _random.Next(2) == 0 ? new JsonArray(Odd(), 1) : new JsonObject { ["x"] = Odd() }; break;
                case 6: body["unknown" + _random.Next(3).ToString(CultureInfo.InvariantCulture)] = Odd(); break;
                case 7: body[key.ToUpperInvariant()] = body[key]?.DeepClone(); body.Remove(key); break;
                case 8: body[key] = _random.Next(2) == 0; break;
                default: body[key] = Nest(_random.Next(2) == 0 ? 10 : 70 + _random.Next(500)); break;
            }
        }

        var text = body.ToJsonString();
        text = _random.Next(8) switch
        {
            0 => "{\"networkId\":\"dup\"," + text[1..],                        // a duplicate key
            1 => text[.._random.Next(text.Length)],                            // truncated
            2 => text.Replace("\"", "'", StringComparison.Ordinal),            // single quotes
            3 => text + " trailing",
            4 => "\uFEFF" + text,
            5 => text.Replace(":", ": /* c */ ", StringComparison.Ordinal),
            6 => _random.Next(2) == 0 ? "[]" : _random.Next(2) == 0 ? "null" : "NaN",
            _ => text,
        };
        var bytes = Encoding.UTF8.GetBytes(text);
        if (_random.Next(6) == 0 && bytes.Length > 0)
        {
            bytes[_random.Next(bytes.Length)] = (byte)_random.Next(256);
        }

        return bytes;
    }

    private JsonNode Nest(int depth)
    {
        JsonNode node = JsonValue.Create("deep");
        for (var i = 0; i < depth; i++)
        {
            node = _random.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["k"] = node };
        }

        return node;
    }

    private FuzzRequest Lab(bool tcp, string? auth)
    {
        var yaml = _labs.Next();
        if (_random.Next(3) == 0)
        {
            var json = new JsonObject { ["definition"] = Encoding.UTF8.GetString(yaml) };
            return Build("lab-json", "POST", "/v1/labs", tcp, auth, MutateJson(json), "application/json", mutating: true);
        }

        return Build("lab-yaml", "POST", "/v1/labs", tcp, auth, yaml, Pick(["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"]), mutating: true);
    }

    private FuzzRequest Link(bool tcp, string? auth)
    {
        var lab = _random.Next(4) == 0 ? Uri.EscapeDataString(Odd()) : _labPrefix + "m";
        var id = Pick(["a:eth1--b:eth1", "a:eth1", "%00", "a%3Aeth1--b%3Aeth1", "x/y/z", Uri.EscapeDataString(Odd())]);
        return _random.Next(3) switch
        {
            0 => Build("link-post", "POST", $"/v1/labs/{lab}/links", tcp, auth, MutateJson(new JsonObject
            {
                ["endpoints"] = new JsonArray("a:eth2", "b:eth2"),
                ["mtu"] = 1500,
            }), "application/json", mutating: true),
            1 => Build("link-patch", "PATCH", $"/v1/labs/{lab}/links/{id}", tcp, auth, MutateJson(new JsonObject { ["state"] = "down" }), "application/json", mutating: true),
            _ => Build("link-delete", "DELETE", $"/v1/labs/{lab}/links/{id}", tcp, auth, null, null, mutating: true),
        };
    }

    private FuzzRequest Headers(bool tcp, string? auth)
    {
        var body = HubBody();
        var head = new StringBuilder("POST /v1/hub/networks HTTP/1.1\r\n");
        switch (_random.Next(8))
        {
            case 0: break; // no Host
            case 1: head.Append("Host: aether\r\nX-Big: ").Append('x', 20_000 + _random.Next(40_000)).Append("\r\n"); break;
            case 2: head.Append("Host: aether\r\nHost: other\r\n"); break;
            case 3: head.Append("Host: aether\r\nContent-Length: 5\r\nContent-Length: 7\r\n"); break;
            case 4: head.Append("Host: aether\r\nX-Ctl: a\u0001b\r\n"); break;
            case 5: head.Append("Host: aether\r\nTransfer-Encoding: gzip, chunked\r\n"); break;
            case 6: head.Append("Host: aether\r\n").Append(string.Concat(Enumerable.Range(0, 200 + _random.Next(200)).Select(i => $"X-H{i}: v\r\n"))); break;
            default: head.Append("Host: aether\r\nContent-Length: -1\r\n"); break;
        }

        head.Append("Content-Type: ").Append(Pick(ContentTypes)).Append("\r\nConnection: close\r\n");
        if (auth is not null)
        {
            head.Append("Authorization: ").Append(auth).Append("\r\n");
        }

        // A Content-Length no larger than the body: the server never waits for bytes that do not come.
        head.Append("Content-Length: ").Append(_random.Next(body.Length + 1)).Append("\r\n\r\n");
        return new FuzzRequest("headers", [.. Encoding.Latin1.GetBytes(head.ToString()), .. body], Mutating: true, tcp);
    }

    private FuzzRequest Oversized(bool tcp, string? auth)
    {
        var path = _random.Next(2) == 0 ? "/v1/hub/networks" : "/v1/labs";
        var size = _random.Next(10) == 0 ? (1024 * 1024) + 1 + _random.Next(1024) : (64 * 1024) + _random.Next(1024);
        var body = new byte[size];
        Array.Fill(body, (byte)' ');
        var valid = HubBody();
        valid.CopyTo(body, size - valid.Length);
        var chunked = _random.Next(2) == 0;
        var request = Build("oversized", "POST", path, tcp, auth, body, path.EndsWith("labs", StringComparison.Ordinal) ? "application/yaml" : "application/json", mutating: true, chunked);
        if (chunked && _random.Next(3) == 0)
        {
            // A malformed chunk: a size line that is not hex, or a chunk longer than it says.
            var text = Encoding.Latin1.GetString(request.Bytes);
            var at = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            return request with { Bytes = Encoding.Latin1.GetBytes(text[..at] + Pick(["zz\r\nab\r\n0\r\n\r\n", "2\r\nabcdef\r\n0\r\n\r\n", "ffffffffffffffff\r\nab\r\n"])) };
        }

        return request;
    }

    private FuzzRequest Build(string kind, string method, string path, bool tcp, string? auth, byte[]? body, string? contentType, bool mutating, bool chunked = false)
    {
        // A read cannot change anything: its 2xx does not keep the batch from the kernel comparison.
        mutating &= method is not ("GET" or "HEAD" or "OPTIONS" or "TRACE");
        var head = new StringBuilder().Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: aether\r\nConnection: close\r\n");
        if (auth is not null)
        {
            head.Append("Authorization: ").Append(auth).Append("\r\n");
        }

        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        body ??= [];
        if (chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n\r\n");
            var chunks = new List<byte>();
            for (var offset = 0; offset < body.Length; offset += 65536)
            {
                var n = Math.Min(65536, body.Length - offset);
                chunks.AddRange(Encoding.ASCII.GetBytes(n.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
                chunks.AddRange(body.AsSpan(offset, n).ToArray());
                chunks.AddRange("\r\n"u8.ToArray());
            }

            chunks.AddRange("0\r\n\r\n"u8.ToArray());
            return new FuzzRequest(kind, [.. Encoding.UTF8.GetBytes(head.ToString()), .. chunks], mutating, tcp);
        }

        head.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        return new FuzzRequest(kind, [.. Encoding.UTF8.GetBytes(head.ToString()), .. body], mutating, tcp);
    }

    private string Odd() => FuzzMutator.OddScalars[_random.Next(FuzzMutator.OddScalars.Length)];

    private T Pick<T>(T[] values) => values[_random.Next(values.Length)];
}
