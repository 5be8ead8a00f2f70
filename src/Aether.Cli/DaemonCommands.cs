using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.WireGuard;

namespace Aether.Cli;

/// <summary><c>status</c> and <c>hub add|remove|list|status|attach|detach|peer</c>: clients of the daemon over its unix socket.</summary>
internal static partial class DaemonCommands
{
    public static Command Status() => Get("status", """
        What the daemon reports: version, uptime, WireGuard backend, and its reconcile loops.
        Exit codes: 0, 1 when no daemon answers.

        Examples:
          aether status
          aether status -o json
        """, "v1/status", PrintStatus);

    public static Command Hub()
    {
        return new Command("hub", """
            The daemon's WireGuard hub: a container joins networks, each with wgN and veth-rootN in the host and
            ethN in the container.

            Examples:
              aether hub add --network-id net1 --index 1 --container blue --private-key-file hub.key \
                --listen-port 51821 --peer-endpoint 192.0.2.2:51821 --peer-public-key KEY= \
                --address 10.1.0.2 --network-cidr 10.1.0.0/24 --gateway 10.1.0.1
              aether hub attach net1 --container green --id green-1
              aether hub peer set net1 --public-key KEY= --endpoint 192.0.2.3:51821 --allowed-ips 10.1.0.128/25
              aether hub list
              aether hub status
              aether hub detach net1 green-1
              aether hub remove net1
            """)
        {
            Add(),
            Remove(),
            List(),
            HubStatus(),
            Attach(),
            Detach(),
            Peer(),
            Conf(),
        };
    }

    private static Command Add()
    {
        var socket = ServeCommand.SocketOption();
        var id = new Option<string?>("--network-id") { Description = "The network's id: 1 to 64 of A-Z a-z 0-9 . _ -.", HelpName = "ID" };
        var index = new Option<int?>("--index") { Description = "The network's index N (0-9999): wgN, veth-rootN, ethN.", HelpName = "N" };
        var container = new Option<string?>("--container") { Description = "The container's namespace: a name under /run/netns or a path such as /proc/PID/ns/net.", HelpName = "NS" };
        var pid = new Option<int?>("--container-pid") { Description = "The container's namespace as a process id.", HelpName = "PID" };
        var keyFile = new Option<string?>("--private-key-file") { Description = "The file holding the hub's private key for wgN (as wg genkey writes it).", HelpName = "FILE" };
        var port = new Option<int?>("--listen-port") { Description = "The UDP port wgN listens on.", HelpName = "PORT" };
        var endpoint = new Option<string?>("--peer-endpoint") { Description = "The peer's endpoint, IP:PORT.", HelpName = "IP:PORT" };
        var peerKey = new Option<string?>("--peer-public-key") { Description = "The peer's public key.", HelpName = "KEY" };
        var address = new Option<string?>("--address") { Description = "The container's address in the network.", HelpName = "IP" };
        var cidr = new Option<string?>("--network-cidr") { Description = "The network, such as 10.1.0.0/24.", HelpName = "CIDR" };
        var gateway = new Option<string?>("--gateway") { Description = "The gateway: veth-rootN's address in the network.", HelpName = "IP" };
        var keepalive = new Option<int?>("--persistent-keepalive") { Description = "The peer's keepalive in seconds (0: off).", HelpName = "N" };
        var natPolicy = new Option<string?>("--nat-policy") { Description = "What a NAT failure does: warn (the default: logged and reported) or require (the add fails).", HelpName = "POLICY" };
        var fromConf = new Option<string?>("--from-conf") { Description = "A wg-quick configuration of the hub's side: its PrivateKey, ListenPort and [Peer] sections (the options above win over it).", HelpName = "FILE" };
        var output = OutputOption();
        var command = new Command("add", """
            Add a network to the daemon's hub (nothing changes when the same network is there already). Every field
            is checked by the daemon before anything is touched; the bad ones are named.
            Exit codes: 0 added or present, 1 failure or conflict, 2 invalid request.

            Examples:
              aether hub add --network-id net1 --index 1 --container blue --private-key-file hub.key \
                --listen-port 51821 --peer-endpoint 192.0.2.2:51821 --peer-public-key KEY= \
                --address 10.1.0.2 --network-cidr 10.1.0.0/24 --gateway 10.1.0.1
              aether hub add --from-conf wg1.conf --network-id net1 --index 1 --container blue \
                --address 10.1.0.2 --network-cidr 10.1.0.0/24 --gateway 10.1.0.1
            """)
        {
            socket, id, index, container, pid, keyFile, port, endpoint, peerKey, address, cidr, gateway, keepalive, natPolicy, fromConf, output,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            WgQuickConfig? conf = null;
            if (parse.GetValue(fromConf) is { } confFile && (conf = ReadConf(confFile)) is null)
            {
                return ExitCodes.InvalidInput;
            }

            string? key = conf?.PrivateKey?.ToBase64();
            if (parse.GetValue(keyFile) is { } file)
            {
                try
                {
                    key = (await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Output.Fail($"--private-key-file {file}: {e.Message}");
                    return ExitCodes.InvalidInput;
                }
            }

            var body = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                Write(json, "networkId", parse.GetValue(id));
                Write(json, "index", parse.GetValue(index));
                Write(json, "container", parse.GetValue(container));
                Write(json, "containerPid", parse.GetValue(pid));
                Write(json, "privateKey", key);
                Write(json, "listenPort", parse.GetValue(port) ?? conf?.ListenPort);
                Write(json, "peerEndpoint", parse.GetValue(endpoint));
                Write(json, "peerPublicKey", parse.GetValue(peerKey));
                Write(json, "address", parse.GetValue(address));
                Write(json, "networkCidr", parse.GetValue(cidr));
                Write(json, "gateway", parse.GetValue(gateway));
                Write(json, "persistentKeepalive", parse.GetValue(keepalive));
                Write(json, "natPolicy", parse.GetValue(natPolicy));
                if (conf is { Peers.Count: > 0 })
                {
                    WritePeers(json, conf);
                }

                json.WriteEndObject();
            }

            var response = await client.PostAsync("v1/hub/networks", Encoding.UTF8.GetString(body.WrittenSpan), ct).ConfigureAwait(false);
            return Print(response, parse.GetValue(output), n => Output.Line(string.Create(
                CultureInfo.InvariantCulture,
                $"{(response.Status == 201 ? "+" : "=")} network {S(n, "networkId")}: {S(n, "wgInterface")} (port {n.GetProperty("listenPort").GetInt32()}, public key {S(n, "publicKey")}), {S(n, "vethRoot")} ↔ {S(n, "container")}/{S(n, "ethInterface")} {S(n, "address")} via {S(n, "gateway")}{(response.Status == 201 ? "" : " (already there)")}")));
        }));
        return command;
    }

    private static Command Remove()
    {
        var socket = ServeCommand.SocketOption();
        var id = new Argument<string>("ID") { Description = "The network's id." };
        var command = new Command("remove", """
            Remove a network's objects from the daemon's hub; the other networks keep working.
            Exit codes: 0 removed, 1 no such network or failure, 2 invalid id.

            Example:
              aether hub remove net1
            """)
        {
            socket,
            id,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client =>
        {
            var name = parse.GetRequiredValue(id);
            var response = await client.DeleteAsync("v1/hub/networks/" + Uri.EscapeDataString(name), ct).ConfigureAwait(false);
            if (!response.Ok)
            {
                return DaemonClient.Fail(response);
            }

            Output.Line("- network " + name);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List() => Get("list", """
        The hub's networks as accepted.

        Examples:
          aether hub list
          aether hub list -o json
        """, "v1/hub/networks", PrintList);

    private static Command HubStatus() => Get("status", """
        The hub's networks with what their devices report: peers, endpoints, latest handshakes, transfer.

        Examples:
          aether hub status
          aether hub status -o json
        """, "v1/hub/status", PrintHubStatus);

    /// <summary>A command that asks the daemon for <paramref name="path"/> and prints the answer: as text through
    /// <paramref name="text"/>, or as the daemon's JSON with <c>-o json</c>.</summary>
    private static Command Get(string name, string description, string path, Action<JsonElement> text)
    {
        var socket = ServeCommand.SocketOption();
        var output = OutputOption();
        var command = new Command(name, description)
        {
            socket,
            output,
        };
        command.SetAction((parse, ct) => Call(parse, socket, async client => Print(await client.GetAsync(path, ct).ConfigureAwait(false), parse.GetValue(output), text)));
        return command;
    }

    private static Option<string> OutputOption() => Output.FormatOption("text, or json (the daemon's answer as it is).");

    private static Task<int> Call(ParseResult parse, Option<string?> socket, Func<DaemonClient, Task<int>> body) =>
        TopologyCommands.Guard(async () =>
        {
            using var client = new DaemonClient(parse.GetValue(socket) ?? ServeCommand.DefaultSocket);
            try
            {
                return await body(client).ConfigureAwait(false);
            }
            catch (DaemonUnreachableException e)
            {
                Output.Fail(e.Message);
                return ExitCodes.Failure;
            }
        });

    private static int Print(DaemonResponse response, string? output, Action<JsonElement> text)
    {
        if (!response.Ok)
        {
            return DaemonClient.Fail(response);
        }

        if (string.Equals(output, "json", StringComparison.Ordinal))
        {
            Output.Line(response.Body);
            return ExitCodes.Ok;
        }

        using var doc = JsonDocument.Parse(response.Body);
        text(doc.RootElement);
        Output.Flush();
        return ExitCodes.Ok;
    }

    private static void PrintStatus(JsonElement s)
    {
        Output.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"aether {S(s, "version")}: pid {s.GetProperty("pid").GetInt32()}, up {Ago(TimeSpan.FromSeconds(s.GetProperty("uptimeSeconds").GetDouble()))}, WireGuard backend {S(s, "backend")}"));
        Output.Line($"socket {S(s, "socket")}{(S(s, "listen") is { } listen ? ", tcp " + listen : "")}{(S(s, "namespace") is { } ns ? ", hub in namespace " + ns : "")}");
        var loops = s.GetProperty("loops");
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"hub: {s.GetProperty("networks").GetInt32()} network(s), {loops.GetArrayLength()} reconcile loop(s)"));
        foreach (var loop in loops.EnumerateArray())
        {
            var report = loop.GetProperty("lastReport");
            var last = report.ValueKind == JsonValueKind.Object
                ? $"last {S(report, "outcome")}{(S(report, "error") is { } error ? ": " + error : "")}"
                : "no pass yet";
            Output.Line(string.Create(
                CultureInfo.InvariantCulture,
                $"  {S(loop, "source")}: {(loop.GetProperty("running").GetBoolean() ? "running" : "stopped")}, {loop.GetProperty("passes").GetInt64()} passes, {last}"));
        }
    }

    private static void PrintList(JsonElement networks)
    {
        if (networks.GetArrayLength() == 0)
        {
            Output.Line("no networks");
            return;
        }

        foreach (var n in networks.EnumerateArray())
        {
            Output.Line(Network(n));
            foreach (var a in Array(n, "attachments"))
            {
                Output.Line(Attachment(a));
            }
        }
    }

    private static void PrintHubStatus(JsonElement status)
    {
        var networks = status.GetProperty("networks");
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"backend {S(status, "backend")}, {networks.GetArrayLength()} network(s)"));
        foreach (var s in networks.EnumerateArray())
        {
            var n = s.GetProperty("network");
            var device = s.GetProperty("deviceUp").GetBoolean() ? string.Create(CultureInfo.InvariantCulture, $"up, port {s.GetProperty("listenPort").GetInt32()}") : "down";
            var state = S(s, "state") is { } st && !string.Equals(st, "active", StringComparison.Ordinal) ? " " + st : "";
            Output.Line(Network(n) + " [" + device + "]" + state + (S(s, "error") is { } error ? ": " + error : ""));
            if (s.TryGetProperty("nat", out var nat) && nat.ValueKind == JsonValueKind.Object)
            {
                Output.Line($"  nat {S(nat, "state")} (policy {S(nat, "policy")}){(S(nat, "error") is { } natError ? ": " + natError : "")}");
            }

            foreach (var a in Array(n, "attachments"))
            {
                Output.Line(Attachment(a));
            }

            foreach (var p in s.GetProperty("peers").EnumerateArray())
            {
                var handshake = p.GetProperty("latestHandshake").ValueKind == JsonValueKind.String
                    ? Ago(DateTimeOffset.UtcNow - p.GetProperty("latestHandshake").GetDateTimeOffset()) + " ago"
                    : "none";
                var flags = (p.TryGetProperty("configured", out var c) && !c.GetBoolean() ? " (not configured: removed on the next pass)" : "")
                    + (p.TryGetProperty("onDevice", out var d) && !d.GetBoolean() ? " (not on the device yet)" : "");
                Output.Line(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  peer {S(p, "publicKey")} endpoint {S(p, "endpoint") ?? "(none)"}, allowed {string.Join(',', Array(p, "allowedIps").Select(x => x.GetString()))}, handshake {handshake}, rx {p.GetProperty("receivedBytes").GetUInt64()} B, tx {p.GetProperty("sentBytes").GetUInt64()} B{flags}"));
            }
        }
    }

    private static string Network(JsonElement n) => string.Create(
        CultureInfo.InvariantCulture,
        $"{S(n, "networkId")}  {S(n, "wgInterface")}  {S(n, "vethRoot")} ↔ {S(n, "container")}/{S(n, "ethInterface")}  {S(n, "address")} in {S(n, "networkCidr")} via {S(n, "gateway")}  peer {S(n, "peerEndpoint")}{(n.GetProperty("nat").GetBoolean() ? "  nat" : "")}");

    private static string? S(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Ago(TimeSpan t) => t.TotalSeconds < 60
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalSeconds}s")
        : t.TotalHours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}m {t.Seconds}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h {t.Minutes}m");

    private static void Write(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void Write(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int v)
        {
            json.WriteNumber(name, v);
        }
    }
}
