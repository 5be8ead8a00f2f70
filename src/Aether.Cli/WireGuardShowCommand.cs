using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;

namespace Aether.Cli;

/// <summary>One peer as <c>wg show -o json</c> prints it.</summary>
internal sealed record JsonWgPeer(string PublicKey, string? Endpoint, IReadOnlyList<string> AllowedIPs, DateTimeOffset? LatestHandshake, ulong ReceivedBytes, ulong SentBytes, int PersistentKeepalive, bool PresharedKey);

/// <summary>One device as <c>wg show -o json</c> prints it.</summary>
internal sealed record JsonWgDevice(string Name, string? Namespace, string Owner, string Backend, string? PublicKey, int ListenPort, uint Fwmark, IReadOnlyList<JsonWgPeer> Peers);

/// <summary><c>wg show -o json</c>: every device Aether runs, and the namespaces it could not read.</summary>
internal sealed record JsonWgShow(IReadOnlyList<JsonWgDevice> Devices, IReadOnlyList<string> Errors);

/// <summary>The JSON of <c>wg show</c>, generated at build time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JsonWgShow))]
internal sealed partial class WgShowJson : JsonSerializerContext
{
    /// <summary>Keys as wg prints them (<c>+</c> and <c>/</c> unescaped).</summary>
    public static WgShowJson Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary><c>wg show</c>: the WireGuard devices Aether runs (those marked <c>aether:OWNER/wg</c>, in the host and
/// every named namespace), read through the same backends and status the hub and the reconcile source read.</summary>
internal static class WireGuardShowCommand
{
    private const string MarkPrefix = "aether:";
    private const string MarkSuffix = "/wg";

    public static Command Create()
    {
        var output = Output.FormatOption("text: one block per device, as wg show prints; json: one object {devices, errors}.");
        var command = new Command("show", """
            Show the WireGuard devices Aether runs: those of topologies and of the hub, in the host and in every named
            namespace. Per device its namespace, owner, public key and port; per peer its endpoint, allowed IPs,
            latest handshake and transfer. Private and preshared keys are never printed.

            Examples:
              aether wg show
              aether wg show -o json | jq '.devices[].peers[].latestHandshake'
            """) { output };
        command.SetAction((parse, ct) => TopologyCommands.Guard(() => ShowAsync(string.Equals(parse.GetValue(output), "json", StringComparison.Ordinal), ct)));
        return command;
    }

    private static async Task<int> ShowAsync(bool json, CancellationToken cancellationToken)
    {
        var devices = new List<JsonWgDevice>();
        var errors = new List<string>();
        foreach (var name in (IEnumerable<string?>)[null, .. NetworkNamespace.List().Order(StringComparer.Ordinal)])
        {
            try
            {
                devices.AddRange(await ReadAsync(name, cancellationToken).ConfigureAwait(false));
            }
            catch (NetlinkException ex) when (name is not null && ex.Errno is Errno.EINVAL or Errno.ENOENT)
            {
                // An entry that is not a namespace yet (`ip netns add` makes the file, then mounts it) or is gone
                // meanwhile: there is nothing to read in it, and nothing of Aether's.
            }
            catch (Exception ex) when (ex is NetlinkException or WireGuardException or IOException)
            {
                errors.Add($"{(name is null ? "the host" : "namespace " + name)}: {ex.Message}");
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new JsonWgShow(devices, errors), WgShowJson.Readable.JsonWgShow));
        }
        else
        {
            foreach (var device in devices)
            {
                Output.Line(Text(device));
            }

            foreach (var error in errors)
            {
                Console.Error.WriteLine("aether: " + error);
            }

            if (devices.Count == 0 && errors.Count == 0)
            {
                Output.Line("no WireGuard devices of Aether's");
            }
        }

        return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Aether's devices in one namespace (null: the host).</summary>
    private static async Task<List<JsonWgDevice>> ReadAsync(string? name, CancellationToken cancellationToken)
    {
        using var ns = name is null ? null : NetworkNamespace.Open(name);
        using var handle = ns is null ? NetlinkHandle.Open() : NetlinkHandle.OpenAt(ns);
        var marked = (await handle.ListLinksAsync(cancellationToken).ConfigureAwait(false))
            .Where(l => l.Alias is { } alias && alias.StartsWith(MarkPrefix, StringComparison.Ordinal) && alias.EndsWith(MarkSuffix, StringComparison.Ordinal))
            .OrderBy(l => l.Name, StringComparer.Ordinal)
            .ToList();
        var found = new List<JsonWgDevice>();
        if (marked.Count == 0)
        {
            return found;
        }

        await using var backend = await WireGuardBackends.OpenAsync(ns, new WireGuardBackendOptions { Detached = true }, cancellationToken).ConfigureAwait(false);
        foreach (var link in marked)
        {
            if (await backend.GetDeviceAsync(link.Name, cancellationToken).ConfigureAwait(false) is not { } device)
            {
                continue; // marked, but no WireGuard device answers for it (its wireguard-go died): the source remakes it
            }

            var owner = link.Alias![MarkPrefix.Length..^MarkSuffix.Length];
            found.Add(new JsonWgDevice(
                device.Name,
                name,
                owner,
                backend.Kind == WireGuardBackendKind.Kernel ? "kernel" : "wireguard-go",
                device.PublicKey?.ToString(),
                device.ListenPort,
                device.FirewallMark,
                [.. device.Peers.Select(p => new JsonWgPeer(
                    p.PublicKey.ToString(),
                    p.Endpoint?.ToString(),
                    [.. p.AllowedIPs.Select(a => a.ToString())],
                    p.LatestHandshake,
                    p.ReceivedBytes,
                    p.SentBytes,
                    p.PersistentKeepaliveInterval,
                    !p.PresharedKey.IsZero))]));
        }

        return found;
    }

    private static string Text(JsonWgDevice device)
    {
        var lines = new List<string>
        {
            $"interface: {device.Name} ({(device.Namespace is null ? "host namespace" : "namespace " + device.Namespace)}, owner {device.Owner}, {device.Backend})",
            $"  public key: {device.PublicKey ?? "(none)"}",
            string.Create(CultureInfo.InvariantCulture, $"  listening port: {device.ListenPort}"),
        };
        if (device.Fwmark != 0)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  fwmark: 0x{device.Fwmark:x}"));
        }

        foreach (var peer in device.Peers)
        {
            lines.Add("");
            lines.Add($"  peer: {peer.PublicKey}");
            if (peer.PresharedKey)
            {
                lines.Add("    preshared key: (hidden)");
            }

            lines.Add($"    endpoint: {peer.Endpoint ?? "(none)"}");
            lines.Add($"    allowed ips: {(peer.AllowedIPs.Count == 0 ? "(none)" : string.Join(", ", peer.AllowedIPs))}");
            lines.Add("    latest handshake: " + (peer.LatestHandshake is { } at ? Ago(DateTimeOffset.UtcNow - at) : "never"));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"    transfer: {peer.ReceivedBytes} B received, {peer.SentBytes} B sent"));
            if (peer.PersistentKeepalive != 0)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"    persistent keepalive: every {peer.PersistentKeepalive} seconds"));
            }
        }

        lines.Add("");
        return string.Join('\n', lines);
    }

    private static string Ago(TimeSpan span) =>
        span < TimeSpan.Zero ? "just now" : string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalSeconds} seconds ago");
}
