using System.CommandLine;
using System.Text.Json;
using Aether.WireGuard;

namespace Aether.Cli;

/// <summary><c>hub conf</c> (the far side's wg-quick configuration) and what <c>hub add --from-conf</c> reads.</summary>
internal static partial class DaemonCommands
{
    private static Command Conf()
    {
        var socket = ServeCommand.SocketOption();
        var network = new Argument<string>("NET") { Description = "The network's id." };
        var peer = new Option<string?>("--peer") { Description = "The peer's public key (needed when the network has several; default: the key of --private-key-file, else the only peer).", HelpName = "KEY" };
        var endpoint = new Option<string?>("--endpoint") { Description = "The hub's address or DNS name as the far side reaches it: the Endpoint line (otherwise a comment).", HelpName = "HOST" };
        var keyFile = new Option<string?>("--private-key-file") { Description = "The far side's private key (read here, never sent to the daemon): the PrivateKey line, and the peer it belongs to.", HelpName = "FILE" };
        var output = new Option<string?>("--out") { Description = "Write the configuration to FILE (created or replaced with mode 0600) instead of standard output.", HelpName = "FILE" };
        var command = new Command("conf", """
            Print the wg-quick configuration of the far side of a network: the peer's own device, with the hub's wgN as
            its peer (public key, the hub's port, the network as allowed IPs). The peer's private key is filled in from
            --private-key-file, which stays on this machine; without it the line is a comment, as is the preshared key,
            which the hub never prints.
            Exit codes: 0 printed, 1 no such network or peer, or failure, 2 invalid input (a key file that is not the
            private key of --peer, a malformed key or host).

            Examples:
              aether hub conf net1 --endpoint 192.0.2.1 --private-key-file far.key --out /etc/wireguard/hub.conf
              aether hub conf net1 --peer KEY= --endpoint hub.example.net
            """)
        {
            socket, network, peer, endpoint, keyFile, output,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            WireGuardSecretKey? key = null;
            var peerKey = parse.GetValue(peer);
            if (parse.GetValue(keyFile) is { } file)
            {
                if (ReadKey(file, "--private-key-file") is not { } read)
                {
                    return ExitCodes.InvalidInput;
                }

                key = read;
                var mine = read.GetPublicKey().ToString();
                if (peerKey is not null && !string.Equals(peerKey, mine, StringComparison.Ordinal))
                {
                    Output.Fail($"--private-key-file {file}: its public key is {mine}, not the peer {peerKey}");
                    return ExitCodes.InvalidInput;
                }

                peerKey = mine;
            }

            var query = new List<string>();
            if (peerKey is not null)
            {
                query.Add("peer=" + Uri.EscapeDataString(peerKey));
            }

            if (parse.GetValue(endpoint) is { } host)
            {
                query.Add("endpoint=" + Uri.EscapeDataString(host));
            }

            var path = NetworkPath(parse.GetRequiredValue(network)) + "/peer.conf" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            var response = await client.GetAsync(path, ct).ConfigureAwait(false);
            if (!response.Ok)
            {
                return DaemonClient.Fail(response);
            }

            var text = response.Body;
            if (key is { } secret)
            {
                var lines = text.Split('\n').ToList();
                var at = lines.FindIndex(l => l.StartsWith("# PrivateKey = ", StringComparison.Ordinal));
                lines[at] = "PrivateKey = " + secret.ToBase64();
                text = string.Join('\n', lines);
            }

            return WireGuardCommands.Emit(text.TrimEnd('\n'), parse.GetValue(output));
        }));
        return command;
    }

    /// <summary>A private or preshared key from <paramref name="file"/>; null (reported) when it cannot be read or is
    /// not a key.</summary>
    private static WireGuardSecretKey? ReadKey(string file, string option)
    {
        try
        {
            if (WireGuardSecretKey.TryParse(File.ReadAllText(file).Trim(), out var key))
            {
                return key;
            }

            Output.Fail($"{option} {file}: not a WireGuard key (44 characters of base64, as wg genkey prints)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Output.Fail($"{option} {file}: {e.Message}");
        }

        return null;
    }

    /// <summary>The hub side's wg-quick configuration from <paramref name="file"/> (<c>hub add --from-conf</c>); null
    /// (reported, exit 2) when it cannot be read or is malformed. What the hub does not use is named on stderr.</summary>
    private static WgQuickConfig? ReadConf(string file)
    {
        WgQuickConfig conf;
        try
        {
            conf = WgQuickConfig.Parse(File.ReadAllText(file));
        }
        catch (FormatException e)
        {
            Output.Fail($"--from-conf {file}: {e.Message}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Output.Fail($"--from-conf {file}: {e.Message}");
            return null;
        }

        var unused = conf.HostKeys.Select(k => k.Key).ToList();
        if (conf.Addresses.Count > 0)
        {
            unused.Insert(0, "Address");
        }

        if (conf.FwMark is > 0)
        {
            unused.Insert(0, "FwMark");
        }

        if (unused.Count > 0)
        {
            Console.Error.WriteLine($"aether: --from-conf {file}: {string.Join(", ", unused.Distinct(StringComparer.Ordinal))} not used: the hub gives wgN no address or mark and runs no wg-quick hooks (--gateway and --address place the network)");
        }

        return conf;
    }

    /// <summary>The configuration's peers as the request's <c>peers</c>.</summary>
    private static void WritePeers(Utf8JsonWriter json, WgQuickConfig conf)
    {
        json.WriteStartArray("peers");
        foreach (var peer in conf.Peers)
        {
            json.WriteStartObject();
            json.WriteString("publicKey", peer.PublicKey.ToString());
            Write(json, "endpoint", peer.Endpoint);
            json.WriteStartArray("allowedIps");
            foreach (var prefix in peer.AllowedIps)
            {
                json.WriteStringValue(prefix.ToString());
            }

            json.WriteEndArray();
            json.WriteNumber("persistentKeepalive", peer.PersistentKeepalive);
            Write(json, "presharedKey", peer.PresharedKey?.ToBase64());
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
