using System.Text.Json;
using Aether.Netlink;

namespace Aether.Cni;

internal static partial class Plugin
{
    private static async Task<byte[]> CheckAsync(CniEnvironment env, NetworkConfig config, DaemonClient daemon, CancellationToken ct)
    {
        var (mac, addresses) = Expected(env, config.PrevResult!.Value);
        var id = AttachmentId.For(env.ContainerId!, env.IfName!);
        var answer = await daemon.GetAsync(NetworkPath(config.NetworkId), ct).ConfigureAwait(false);
        if (answer.Status == 404)
        {
            throw new CniException(CniCodes.CheckFailed, $"network {config.NetworkId} is not in the daemon");
        }

        if (answer.Status != 200)
        {
            throw DaemonClient.Failure($"network {config.NetworkId}", answer);
        }

        Attachment? attachment = null;
        try
        {
            using var doc = JsonDocument.Parse(answer.Body);
            if (doc.RootElement.TryGetProperty("attachments", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                attachment = list.EnumerateArray()
                    .Where(a => a.TryGetProperty("attachmentId", out var v) && v.ValueKind == JsonValueKind.String && string.Equals(v.GetString(), id, StringComparison.Ordinal))
                    .Select(Attachment.From).FirstOrDefault();
            }
        }
        catch (JsonException e)
        {
            throw new CniException(CniCodes.DaemonFailed, "the daemon's network is not JSON: " + e.Message, answer.Body);
        }

        if (attachment is null)
        {
            throw new CniException(CniCodes.CheckFailed, $"network {config.NetworkId} has no attachment {id} ({env.IfName} of container {env.ContainerId})");
        }

        var ip = AddressOf(attachment.Address);
        var address = addresses.FirstOrDefault(a => IPPrefix.Parse(a).Address.Equals(ip));
        if (!string.Equals(attachment.Interface, env.IfName, StringComparison.Ordinal) || address is null)
        {
            throw new CniException(CniCodes.CheckFailed,
                $"attachment {id} is {attachment.Interface} {ip} in the daemon, but prevResult says {env.IfName} {string.Join(", ", addresses)}");
        }

        var inside = await Kernel.ReadAsync(env.Netns!, env.IfName!, ct).ConfigureAwait(false)
            ?? throw new CniException(CniCodes.CheckFailed, $"{env.IfName} is not in {env.Netns}");
        if (!inside.Addresses.Any(a => string.Equals(a.ToString(), address, StringComparison.Ordinal)))
        {
            throw new CniException(CniCodes.CheckFailed, $"{env.IfName} in {env.Netns} does not have {address} (it has {(inside.Addresses.Count == 0 ? "none" : string.Join(", ", inside.Addresses))})");
        }

        if (!inside.IsUp)
        {
            throw new CniException(CniCodes.CheckFailed, $"{env.IfName} in {env.Netns} is down");
        }

        if (mac is not null && !string.Equals(mac, inside.Mac, StringComparison.OrdinalIgnoreCase))
        {
            throw new CniException(CniCodes.CheckFailed, $"{env.IfName} in {env.Netns} has MAC {inside.Mac}, but prevResult says {mac}");
        }

        return [];
    }

    /// <summary>What prevResult says of this interface: its MAC and its addresses (the <c>ips</c> that point at it).</summary>
    private static (string? Mac, List<string> Addresses) Expected(CniEnvironment env, JsonElement prev)
    {
        var index = -1;
        string? mac = null;
        if (prev.TryGetProperty("interfaces", out var interfaces) && interfaces.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in interfaces.EnumerateArray())
            {
                if (string.Equals(Text(item, "name"), env.IfName, StringComparison.Ordinal) && string.Equals(Text(item, "sandbox"), env.Netns, StringComparison.Ordinal))
                {
                    index = i;
                    mac = Text(item, "mac");
                    break;
                }

                i++;
            }
        }

        if (index < 0)
        {
            throw new CniException(CniCodes.CheckFailed, $"prevResult has no interface {env.IfName} in sandbox {env.Netns}");
        }

        var addresses = new List<string>();
        if (prev.TryGetProperty("ips", out var ips) && ips.ValueKind == JsonValueKind.Array)
        {
            foreach (var ip in ips.EnumerateArray())
            {
                if (ip.TryGetProperty("interface", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var k) && k == index
                    && Text(ip, "address") is { } a && IPPrefix.TryParse(a, out var p))
                {
                    addresses.Add(p.ToString());
                }
            }
        }

        return (mac, addresses);
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
