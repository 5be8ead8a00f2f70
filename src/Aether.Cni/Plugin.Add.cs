using System.Text.Json;

namespace Aether.Cni;

/// <summary>An attachment as the daemon reports it (<c>HubAttachmentInfo</c>).</summary>
/// <param name="AttachmentId">Its id.</param>
/// <param name="Container">The container's namespace as given.</param>
/// <param name="HostInterface">The host end of its veth pair.</param>
/// <param name="Interface">The container's interface.</param>
/// <param name="Address">The container's address.</param>
/// <param name="Gateway">The gateway.</param>
/// <param name="DefaultRoute">Whether it carries the container's default route.</param>
internal sealed record Attachment(string AttachmentId, string Container, string HostInterface, string Interface, string Address, string Gateway, bool DefaultRoute)
{
    /// <summary>Reads one from the daemon's JSON.</summary>
    /// <exception cref="CniException">Code 101 when a field is missing.</exception>
    public static Attachment From(JsonElement e)
    {
        string Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new CniException(CniCodes.DaemonFailed, $"the daemon's attachment has no '{name}': {e.GetRawText()}");
        return new Attachment(
            Text("attachmentId"), Text("container"), Text("hostInterface"), Text("interface"), Text("address"), Text("gateway"),
            e.TryGetProperty("defaultRoute", out var d) && d.ValueKind == JsonValueKind.True);
    }
}

internal static partial class Plugin
{
    private static async Task<byte[]> AddAsync(CniEnvironment env, NetworkConfig config, DaemonClient daemon, CancellationToken ct)
    {
        if (env.Address is { } asked && !config.NetworkCidr.Contains(asked))
        {
            throw CniException.Fields(CniCodes.InvalidEnvironment, "environment", [new FieldError("CNI_ARGS", $"IP={asked} is not inside networkCidr {config.NetworkCidr}")]);
        }

        // The network first, alone (no container): 201 made now, 200 there already as configured.
        var network = await daemon.PostAsync("v1/hub/networks", NetworkBody(config), ct).ConfigureAwait(false);
        if (network.Status is not (200 or 201))
        {
            throw DaemonClient.Failure($"network {config.NetworkId}", network);
        }

        var id = AttachmentId.For(env.ContainerId!, env.IfName!);
        var answer = await daemon.PostAsync(NetworkPath(config.NetworkId) + "/attachments", AttachBody(env, config, id), ct).ConfigureAwait(false);
        if (answer.Status is not (200 or 201))
        {
            throw DaemonClient.Failure($"attach {env.IfName} of container {env.ContainerId} to network {config.NetworkId}", answer);
        }

        Attachment attachment;
        try
        {
            using var doc = JsonDocument.Parse(answer.Body);
            attachment = Attachment.From(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new CniException(CniCodes.DaemonFailed, "the daemon's answer to the attachment is not JSON: " + e.Message, answer.Body);
        }

        var inside = await Kernel.ReadAsync(env.Netns!, attachment.Interface, ct).ConfigureAwait(false)
            ?? throw new CniException(CniCodes.DaemonFailed, $"the daemon attached {attachment.AttachmentId}, but {attachment.Interface} is not in {env.Netns}");
        // The address as the interface holds it (the hub gives a container /32 and reaches the network through a
        // route via the gateway on the link), so the result says what the kernel has.
        var ip = AddressOf(attachment.Address);
        var held = inside.Addresses.FirstOrDefault(a => a.Address.Equals(ip));
        if (held.Address is null)
        {
            throw new CniException(CniCodes.DaemonFailed, $"the daemon attached {attachment.AttachmentId}, but {attachment.Interface} in {env.Netns} does not have {ip}");
        }

        List<(string, string?)> routes = [(config.NetworkCidr.ToString(), attachment.Gateway)];
        if (attachment.DefaultRoute)
        {
            routes.Add((config.NetworkCidr.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0", attachment.Gateway));
        }

        var result = new CniResult(
            [new ResultInterface(attachment.HostInterface, null, null), new ResultInterface(attachment.Interface, inside.Mac, env.Netns)],
            [new ResultIp(held.ToString(), attachment.Gateway, 1)],
            routes);
        return CniOutput.Result(config.CniVersion, result, config.PrevResult, config.Dns);
    }
}
