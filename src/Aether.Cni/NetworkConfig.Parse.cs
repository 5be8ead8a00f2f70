using System.Globalization;
using System.Net;
using System.Text.Json;
using Aether.Netlink;
using Aether.Netlink.Names;

namespace Aether.Cni;

public sealed partial record NetworkConfig
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "cniVersion", "name", "type", "args", "ipam", "dns", "runtimeConfig", "capabilities", "prevResult", "disableCheck", "disableGC",
        "socket", "networkId", "index", "privateKey", "privateKeyFile", "listenPort", "peers", "networkCidr", "gateway", "natPolicy",
    };

    /// <summary>Reads the configuration; every bad field is reported at once.</summary>
    /// <param name="json">The bytes on stdin.</param>
    /// <param name="command">What it is read for (VERSION needs nothing; CHECK needs <c>prevResult</c>).</param>
    /// <exception cref="CniException">Code 6 (not JSON), 1 (a version not spoken), 2 (a field not supported) or 7
    /// (bad fields), naming each.</exception>
    public static NetworkConfig Parse(ReadOnlyMemory<byte> json, CniCommand command)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new CniException(CniCodes.DecodeFailure, "the network configuration on stdin is not JSON: " + e.Message.Split(" Path:", 2)[0]);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CniException(CniCodes.DecodeFailure, "the network configuration on stdin must be a JSON object");
            }

            var reader = new FieldReader(root);
            var version = reader.String("cniVersion", required: true);
            if (version is not null && !SupportedVersions.Contains(version, StringComparer.Ordinal))
            {
                throw new CniException(CniCodes.IncompatibleVersion, $"cniVersion: '{NameText.Printable(version)}' is not supported: this plugin speaks {string.Join(", ", SupportedVersions)}");
            }

            var unsupported = root.EnumerateObject().Where(p => !Known.Contains(p.Name)).Select(p => new FieldError(p.Name, "is not a field of this plugin's configuration (see docs/cni.md)")).ToList();
            if (root.TryGetProperty("ipam", out var ipam) && ipam.ValueKind == JsonValueKind.Object)
            {
                unsupported.AddRange(ipam.EnumerateObject().Where(p => !string.Equals(p.Name, "address", StringComparison.Ordinal)).Select(p => new FieldError("ipam." + p.Name,
                    string.Equals(p.Name, "type", StringComparison.Ordinal) ? "delegating to an IPAM plugin is not supported: give ipam.address, CNI_ARGS IP=, or nothing (the hub allocates)" : "is not a field of ipam: the only one is address")));
            }

            if (unsupported.Count > 0)
            {
                throw CniException.Fields(CniCodes.UnsupportedField, "network configuration", unsupported);
            }

            var config = Read(reader, root, version!, command);
            if (reader.Errors.Count > 0)
            {
                throw CniException.Fields(CniCodes.InvalidNetworkConfig, "network configuration", reader.Errors);
            }

            return config!;
        }
    }

    private static NetworkConfig? Read(FieldReader reader, JsonElement root, string version, CniCommand command)
    {
        var name = reader.String("name", required: true);
        if (name is not null && !ValidId(name))
        {
            reader.Error("name", $"'{NameText.Printable(name)}' is not allowed: it must be 1 to 64 of A-Z a-z 0-9 . _ - (or give networkId)");
        }

        var type = reader.String("type", required: true);
        if (type is { Length: 0 })
        {
            reader.Error("type", "must name the plugin (aether-cni)");
        }

        var socket = reader.String("socket", required: false) ?? DefaultSocket;
        if (!socket.StartsWith('/'))
        {
            reader.Error("socket", $"'{NameText.Printable(socket)}' is not an absolute path: it must be the daemon's unix socket ({DefaultSocket})");
        }

        var networkId = reader.String("networkId", required: false);
        if (networkId is not null && !ValidId(networkId))
        {
            reader.Error("networkId", $"'{NameText.Printable(networkId)}' is not allowed: it must be 1 to 64 of A-Z a-z 0-9 . _ -");
        }

        var index = reader.Int("index", required: true, 0, MaxIndex);
        // DEL uses no key: a key file removed before the container's DEL must not keep it from detaching.
        var privateKey = command == CniCommand.Del ? "" : ReadPrivateKey(reader);
        var listenPort = reader.Int("listenPort", required: true, 1, 65535);
        var cidr = reader.Prefix("networkCidr", required: true);
        var gateway = reader.Address("gateway", required: true);
        if (cidr is { } c && gateway is not null && (!c.Contains(gateway) || gateway.Equals(c.Network)))
        {
            reader.Error("gateway", $"{gateway} is not a host address of networkCidr {c}");
        }

        IPAddress? address = null;
        if (root.TryGetProperty("ipam", out var ipam))
        {
            if (ipam.ValueKind != JsonValueKind.Object)
            {
                reader.Error("ipam", "must be an object {\"address\": \"10.1.0.5\"}");
            }
            else
            {
                address = new FieldReader(ipam, "ipam.", reader.Errors).Address("address", required: false);
                if (address is not null && cidr is { } n && !n.Contains(address))
                {
                    reader.Error("ipam.address", $"{address} is not inside networkCidr {n}");
                }
            }
        }

        var natPolicy = reader.String("natPolicy", required: false);
        if (natPolicy is not null && natPolicy is not ("warn" or "require"))
        {
            reader.Error("natPolicy", $"'{NameText.Printable(natPolicy)}' is not a policy: it must be warn (a NAT failure is logged and reported) or require (a NAT failure fails the network's creation)");
        }

        var peers = ReadPeers(reader, root);
        var dns = ReadDns(reader, root);
        reader.Bool("disableCheck");
        reader.Bool("disableGC");
        foreach (var field in (string[])["args", "runtimeConfig", "capabilities"])
        {
            if (root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Object)
            {
                reader.Error(field, "must be a JSON object");
            }
        }

        JsonElement? prev = null;
        if (root.TryGetProperty("prevResult", out var prevResult))
        {
            if (prevResult.ValueKind != JsonValueKind.Object)
            {
                reader.Error("prevResult", "must be a JSON object (a result)");
            }
            else
            {
                prev = prevResult.Clone();
            }
        }
        else if (command == CniCommand.Check)
        {
            reader.Error("prevResult", "is missing: CHECK compares with the result of ADD, which the runtime passes here");
        }

        if (reader.Errors.Count > 0)
        {
            return null;
        }

        return new NetworkConfig
        {
            CniVersion = version, Name = name!, Socket = socket, NetworkId = networkId ?? name!, Index = index!.Value, PrivateKey = privateKey!,
            ListenPort = listenPort!.Value, Peers = peers, NetworkCidr = cidr!.Value, Gateway = gateway!, Address = address, Dns = dns, PrevResult = prev,
            NatPolicy = natPolicy,
        };
    }

    private static string? ReadPrivateKey(FieldReader reader)
    {
        var inline = reader.String("privateKey", required: false);
        var file = reader.String("privateKeyFile", required: false);
        if (inline is not null && file is not null)
        {
            reader.Error("privateKey", "give privateKey or privateKeyFile, not both");
            return null;
        }

        if (inline is null && file is null)
        {
            reader.Error("privateKey", "is missing: give privateKey (wg(8)'s base64) or privateKeyFile (a file holding it)");
            return null;
        }

        var key = inline;
        var field = "privateKey";
        if (file is not null)
        {
            field = "privateKeyFile";
            if (!file.StartsWith('/'))
            {
                reader.Error(field, $"'{NameText.Printable(file)}' is not an absolute path");
                return null;
            }

            try
            {
                key = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reader.Error(field, $"cannot read {file}: {e.Message}");
                return null;
            }
        }

        if (!IsKey(key!))
        {
            reader.Error(field, file is null ? "is not a WireGuard key: it must be 32 bytes in base64 (wg genkey)" : $"{file} does not hold a WireGuard key: 32 bytes in base64 (wg genkey)");
            return null;
        }

        return key;
    }

    private static List<CniPeer> ReadPeers(FieldReader reader, JsonElement root)
    {
        var peers = new List<CniPeer>();
        if (!root.TryGetProperty("peers", out var list))
        {
            return peers;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            reader.Error("peers", "must be a JSON array of {publicKey, endpoint, allowedIps, persistentKeepalive, presharedKey}");
            return peers;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"peers[{i++}]");
            if (item.ValueKind != JsonValueKind.Object)
            {
                reader.Error(prefix, "must be an object {publicKey, endpoint, allowedIps, persistentKeepalive, presharedKey}");
                continue;
            }

            var r = new FieldReader(item, prefix + ".", reader.Errors);
            foreach (var p in item.EnumerateObject().Where(p => p.Name is not ("publicKey" or "endpoint" or "allowedIps" or "persistentKeepalive" or "presharedKey")))
            {
                r.Error(p.Name, "is not a field of a peer: they are publicKey, endpoint, allowedIps, persistentKeepalive, presharedKey");
            }

            var key = r.String("publicKey", required: true);
            if (key is not null && !IsKey(key))
            {
                r.Error("publicKey", "is not a WireGuard key: it must be 32 bytes in base64");
            }

            var endpoint = r.String("endpoint", required: false);
            if (endpoint is not null && (!IPEndPoint.TryParse(endpoint, out var ep) || ep.Port == 0 || !endpoint.Contains(':', StringComparison.Ordinal)))
            {
                r.Error("endpoint", $"'{NameText.Printable(endpoint)}' is not IP:PORT ([IPv6]:PORT)");
            }

            var allowed = r.Strings("allowedIps");
            foreach (var a in allowed ?? [])
            {
                if (!IPPrefix.TryParse(a, out _, out var why))
                {
                    r.Error("allowedIps", $"'{NameText.Printable(a)}': {why}");
                }
            }

            var keepalive = r.Int("persistentKeepalive", required: false, 0, 65535);
            var psk = r.String("presharedKey", required: false);
            if (psk is not null && !IsKey(psk))
            {
                r.Error("presharedKey", "is not a WireGuard key: it must be 32 bytes in base64");
            }

            if (key is not null)
            {
                peers.Add(new CniPeer(key, endpoint, allowed, keepalive, psk));
            }
        }

        return peers;
    }

    private static CniDns? ReadDns(FieldReader reader, JsonElement root)
    {
        if (!root.TryGetProperty("dns", out var dns))
        {
            return null;
        }

        if (dns.ValueKind != JsonValueKind.Object)
        {
            reader.Error("dns", "must be an object {nameservers, domain, search, options}");
            return null;
        }

        var r = new FieldReader(dns, "dns.", reader.Errors);
        foreach (var p in dns.EnumerateObject().Where(p => p.Name is not ("nameservers" or "domain" or "search" or "options")))
        {
            r.Error(p.Name, "is not a field of dns: they are nameservers, domain, search, options");
        }

        var servers = r.Strings("nameservers") ?? [];
        foreach (var s in servers.Where(s => !IPAddress.TryParse(s, out _)))
        {
            r.Error("nameservers", $"'{NameText.Printable(s)}' is not an IP address");
        }

        return new CniDns(servers, r.String("domain", required: false), r.Strings("search") ?? [], r.Strings("options") ?? []);
    }

    /// <summary>The hub's rule for ids: 1 to 64 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    internal static bool ValidId(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static bool IsKey(string text)
    {
        Span<byte> bytes = stackalloc byte[33];
        return text.Length == 44 && Convert.TryFromBase64String(text, bytes, out var n) && n == 32;
    }
}
