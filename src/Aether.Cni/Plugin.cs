using System.Buffers;
using System.Text.Json;

namespace Aether.Cni;

/// <summary>
/// The plugin's commands: ADD asks the daemon for the network (created when missing) and for an attachment of the
/// container's namespace; DEL removes the attachment; CHECK compares <c>prevResult</c> with the daemon's attachment
/// and with the container's namespace. The daemon makes every change; the plugin only reads the container's
/// interface (its MAC for the result, its state for CHECK).
/// </summary>
internal static partial class Plugin
{
    /// <summary>Runs one command; returns what goes to stdout.</summary>
    public static async Task<byte[]> RunAsync(CniEnvironment env, ReadOnlyMemory<byte> stdin, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (env.Command == CniCommand.Version)
        {
            // As the reference plugins answer: the answer is in the newest version spoken, whatever stdin asked.
            return CniOutput.Version(NetworkConfig.SupportedVersions[^1]);
        }

        var config = NetworkConfig.Parse(stdin, env.Command);
        using var daemon = new DaemonClient(config.Socket);
        return env.Command switch
        {
            CniCommand.Add => await AddAsync(env, config, daemon, ct).ConfigureAwait(false),
            CniCommand.Del => await DelAsync(env, config, daemon, ct).ConfigureAwait(false),
            _ => await CheckAsync(env, config, daemon, ct).ConfigureAwait(false),
        };
    }

    /// <summary>The <c>cniVersion</c> of a configuration, when stdin holds one, for the error object's own.</summary>
    public static string? VersionOf(ReadOnlyMemory<byte> stdin)
    {
        if (stdin.IsEmpty)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(stdin);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("cniVersion", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<byte[]> DelAsync(CniEnvironment env, NetworkConfig config, DaemonClient daemon, CancellationToken ct)
    {
        var id = AttachmentId.For(env.ContainerId!, env.IfName!);
        var answer = await daemon.DeleteAsync(AttachmentPath(config.NetworkId, id), ct).ConfigureAwait(false);

        // Gone already (the attachment, or its whole network) is what DEL wants: success.
        if (answer.Status is 204 or 200 or 404)
        {
            return [];
        }

        throw DaemonClient.Failure($"detach {id} from network {config.NetworkId}", answer);
    }

    private static string NetworkPath(string networkId) => "v1/hub/networks/" + Uri.EscapeDataString(networkId);

    private static string AttachmentPath(string networkId, string attachmentId) => NetworkPath(networkId) + "/attachments/" + Uri.EscapeDataString(attachmentId);

    /// <summary>The network as the hub's <c>POST /v1/hub/networks</c> takes it, without a container. One peer that
    /// names no allowed IPs and no preshared key goes as the request's single-peer fields; any other set as
    /// <c>peers</c>.</summary>
    internal static byte[] NetworkBody(NetworkConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("networkId", config.NetworkId);
            w.WriteNumber("index", config.Index);
            w.WriteString("privateKey", config.PrivateKey);
            w.WriteNumber("listenPort", config.ListenPort);
            w.WriteString("networkCidr", config.NetworkCidr.ToString());
            w.WriteString("gateway", config.Gateway.ToString());
            if (config.NatPolicy is not null)
            {
                w.WriteString("natPolicy", config.NatPolicy);
            }

            if (config.Peers is [{ AllowedIps: null, PresharedKey: null } single])
            {
                w.WriteString("peerPublicKey", single.PublicKey);
                if (single.Endpoint is not null)
                {
                    w.WriteString("peerEndpoint", single.Endpoint);
                }

                if (single.PersistentKeepalive is { } k)
                {
                    w.WriteNumber("persistentKeepalive", k);
                }
            }
            else if (config.Peers.Count > 0)
            {
                w.WriteStartArray("peers");
                foreach (var p in config.Peers)
                {
                    WritePeer(w, p);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WritePeer(Utf8JsonWriter w, CniPeer p)
    {
        w.WriteStartObject();
        w.WriteString("publicKey", p.PublicKey);
        if (p.Endpoint is not null)
        {
            w.WriteString("endpoint", p.Endpoint);
        }

        if (p.AllowedIps is not null)
        {
            w.WriteStartArray("allowedIps");
            foreach (var a in p.AllowedIps)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
        }

        if (p.PersistentKeepalive is { } k)
        {
            w.WriteNumber("persistentKeepalive", k);
        }

        if (p.PresharedKey is not null)
        {
            w.WriteString("presharedKey", p.PresharedKey);
        }

        w.WriteEndObject();
    }

    /// <summary>The attachment request: the container's namespace and interface, and the address when one was asked
    /// for (<c>CNI_ARGS</c> <c>IP=</c> before <c>ipam.address</c>).</summary>
    internal static byte[] AttachBody(CniEnvironment env, NetworkConfig config, string attachmentId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("attachmentId", attachmentId);
            w.WriteString("container", env.Netns);
            w.WriteString("interface", env.IfName);
            if ((env.Address ?? config.Address) is { } address)
            {
                w.WriteString("address", address.ToString());
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The address of an attachment without a prefix length, if it came with one.</summary>
    private static System.Net.IPAddress AddressOf(string address) =>
        System.Net.IPAddress.TryParse(address.Split('/')[0], out var ip)
            ? ip
            : throw new CniException(CniCodes.DaemonFailed, $"the daemon's attachment address '{address}' is not an IP address");
}
