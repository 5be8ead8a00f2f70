using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Cli;

/// <summary><c>hub attach|detach</c> and <c>hub peer set|remove</c>: a network's containers and peers.</summary>
internal static partial class DaemonCommands
{
    private static Command Attach()
    {
        var socket = ServeCommand.SocketOption();
        var network = new Argument<string>("NET") { Description = "The network's id." };
        var id = new Option<string?>("--id") { Description = "The attachment's id in the network: 1 to 64 of A-Z a-z 0-9 . _ -.", HelpName = "ID" };
        var container = new Option<string?>("--container") { Description = "The container's namespace: a name under /run/netns or a path such as /proc/PID/ns/net.", HelpName = "NS" };
        var pid = new Option<int?>("--container-pid") { Description = "The container's namespace as a process id.", HelpName = "PID" };
        var iface = new Option<string?>("--interface") { Description = "The interface's name in the container (default: the lowest ethK not there).", HelpName = "NAME" };
        var address = new Option<string?>("--address") { Description = "The container's address in the network (default: the lowest free one).", HelpName = "IP" };
        var output = OutputOption();
        var command = new Command("attach", """
            Attach one more container to a network: a veth pair vethN-K (host) to an interface in the container, an
            address in the network and routes via the gateway. The network's containers reach each other through the
            host; nothing crosses to another network. Nothing changes when the same attachment is there already.
            Exit codes: 0 attached or present, 1 failure, conflict or no such network, 2 invalid request.

            Examples:
              aether hub attach net1 --container green --id green-1
              aether hub attach net1 --container-pid 4242 --interface wan0 --address 10.1.0.9 --id web
            """)
        {
            socket, network, id, container, pid, iface, address, output,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            var body = Json(json =>
            {
                Write(json, "attachmentId", parse.GetValue(id));
                Write(json, "container", parse.GetValue(container));
                Write(json, "containerPid", parse.GetValue(pid));
                Write(json, "interface", parse.GetValue(iface));
                Write(json, "address", parse.GetValue(address));
            });
            var response = await client.PostAsync(NetworkPath(parse.GetRequiredValue(network)) + "/attachments", body, ct).ConfigureAwait(false);
            return Print(response, parse.GetValue(output), a => Output.Line((response.Status == 201 ? "+" : "=") + Attachment(a).TrimStart() + (response.Status == 201 ? "" : " (already there)")));
        }));
        return command;
    }

    private static Command Detach()
    {
        var socket = ServeCommand.SocketOption();
        var network = new Argument<string>("NET") { Description = "The network's id." };
        var id = new Argument<string>("ID") { Description = "The attachment's id." };
        var command = new Command("detach", """
            Detach a container from a network: its veth pair, address and routes go; the network and its other
            containers keep working.
            Exit codes: 0 detached, 1 no such network or attachment, or failure, 2 invalid id.

            Example:
              aether hub detach net1 green-1
            """)
        {
            socket, network, id,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            var name = parse.GetRequiredValue(id);
            var response = await client.DeleteAsync(NetworkPath(parse.GetRequiredValue(network)) + "/attachments/" + Uri.EscapeDataString(name), ct).ConfigureAwait(false);
            if (!response.Ok)
            {
                return DaemonClient.Fail(response);
            }

            Output.Line("- attachment " + name);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Peer() => new("peer", """
        A network's peers, keyed by public key: added, updated and removed one at a time on a live network, without
        disturbing the other peers' sessions.

        Examples:
          aether hub peer set net1 --public-key KEY= --endpoint 192.0.2.3:51821 --allowed-ips 10.1.0.128/25
          aether hub peer remove net1 KEY=
        """)
    {
        PeerSet(),
        PeerRemove(),
    };

    private static Command PeerSet()
    {
        var socket = ServeCommand.SocketOption();
        var network = new Argument<string>("NET") { Description = "The network's id." };
        var key = new Option<string?>("--public-key") { Description = "The peer's public key (as wg pubkey prints it).", HelpName = "KEY" };
        var endpoint = new Option<string?>("--endpoint") { Description = "The peer's endpoint, IP:PORT (default: none, the peer connects in).", HelpName = "IP:PORT" };
        var allowed = new Option<string?>("--allowed-ips") { Description = "The peer's allowed IPs, comma-separated prefixes (default: none).", HelpName = "A,B" };
        var keepalive = new Option<int?>("--keepalive", "--persistent-keepalive") { Description = "The persistent keepalive in seconds, 0 (off) to 65535.", HelpName = "N" };
        var pskFile = new Option<string?>("--preshared-key-file") { Description = "The file holding the preshared key (as wg genpsk writes it).", HelpName = "FILE" };
        var output = OutputOption();
        var command = new Command("set", """
            Add a peer to a network, or update it in place (the peer's fields are replaced by those given); the other
            peers keep their sessions, handshakes and counters.
            Exit codes: 0 added or updated, 1 failure or no such network, 2 invalid request (bad key, allowed IPs
            overlapping another peer's, keepalive out of range).

            Example:
              aether hub peer set net1 --public-key KEY= --endpoint 192.0.2.3:51821 --allowed-ips 10.1.0.128/25 --keepalive 25
            """)
        {
            socket, network, key, endpoint, allowed, keepalive, pskFile, output,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            string? psk = null;
            if (parse.GetValue(pskFile) is { } file)
            {
                try
                {
                    psk = (await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Output.Fail($"--preshared-key-file {file}: {e.Message}");
                    return ExitCodes.InvalidInput;
                }
            }

            var body = Json(json =>
            {
                Write(json, "publicKey", parse.GetValue(key));
                Write(json, "endpoint", parse.GetValue(endpoint));
                if (parse.GetValue(allowed) is { } list)
                {
                    json.WriteStartArray("allowedIps");
                    foreach (var prefix in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    {
                        json.WriteStringValue(prefix);
                    }

                    json.WriteEndArray();
                }

                Write(json, "persistentKeepalive", parse.GetValue(keepalive));
                Write(json, "presharedKey", psk);
            });
            var response = await client.PutAsync(NetworkPath(parse.GetRequiredValue(network)) + "/peers", body, ct).ConfigureAwait(false);
            return Print(response, parse.GetValue(output), p => Output.Line(string.Create(
                CultureInfo.InvariantCulture,
                $"{(response.Status == 201 ? "+" : "~")} peer {S(p, "publicKey")} endpoint {S(p, "endpoint") ?? "(none)"}, allowed {string.Join(',', Array(p, "allowedIps").Select(x => x.GetString()))}, keepalive {p.GetProperty("persistentKeepalive").GetInt32()}{(p.GetProperty("hasPresharedKey").GetBoolean() ? ", preshared key" : "")}")));
        }));
        return command;
    }

    private static Command PeerRemove()
    {
        var socket = ServeCommand.SocketOption();
        var network = new Argument<string>("NET") { Description = "The network's id." };
        var key = new Argument<string>("KEY") { Description = "The peer's public key." };
        var command = new Command("remove", """
            Remove a peer from a network; the other peers are not touched.
            Exit codes: 0 removed, 1 no such network or peer, or failure, 2 not a key.

            Example:
              aether hub peer remove net1 KEY=
            """)
        {
            socket, network, key,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            var text = parse.GetRequiredValue(key);
            // base64url in the path: no '/' or '+' to escape.
            var path = NetworkPath(parse.GetRequiredValue(network)) + "/peers/" + Uri.EscapeDataString(text.Replace('+', '-').Replace('/', '_').TrimEnd('='));
            var response = await client.DeleteAsync(path, ct).ConfigureAwait(false);
            if (!response.Ok)
            {
                return DaemonClient.Fail(response);
            }

            Output.Line("- peer " + text);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string NetworkPath(string network) => "v1/hub/networks/" + Uri.EscapeDataString(network);

    private static string Json(Action<Utf8JsonWriter> fields)
    {
        var body = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            fields(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(body.WrittenSpan);
    }

    private static List<JsonElement> Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray()] : [];

    private static string Attachment(JsonElement a) => string.Create(
        CultureInfo.InvariantCulture,
        $"  attachment {S(a, "attachmentId")}: {S(a, "hostInterface")} ↔ {S(a, "container")}/{S(a, "interface")} {S(a, "address")} via {S(a, "gateway")}{(a.TryGetProperty("defaultRoute", out var d) && d.GetBoolean() ? "  default route" : "")}");
}
