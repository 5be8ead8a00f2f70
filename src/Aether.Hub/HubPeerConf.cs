using System.Globalization;
using System.Net;
using Aether.Netlink;
using Aether.WireGuard;

namespace Aether.Hub;

/// <summary>
/// The wg-quick(8) configuration of the far side of a hub network: the peer's own device, with the hub's <c>wgN</c>
/// as its one peer. What the hub knows goes in: the hub's public key and port, the network as the far side's allowed
/// IPs, the peer's allowed IPs as its addresses (where they are single addresses), its endpoint's port as its listen
/// port, and its keepalive. What the hub does not hold stays a comment: the peer's private key (the hub only has its
/// public key) and the preshared key (the hub never prints it).
/// </summary>
public static class HubPeerConf
{
    /// <summary>The configuration for <paramref name="peerKey"/> (null: the network's only peer) of
    /// <paramref name="network"/>; <paramref name="hubHost"/> (an address or a DNS name) makes the <c>Endpoint</c>,
    /// which is otherwise a comment.</summary>
    /// <exception cref="HubException"><see cref="HubErrorKind.Invalid"/> for a bad key or host, or no key given for a
    /// network of several peers; <see cref="HubErrorKind.NotFound"/> when the network has no such peer.</exception>
    public static string Write(HubNetworkInfo network, string? peerKey, string? hubHost)
    {
        ArgumentNullException.ThrowIfNull(network);
        var errors = new List<HubFieldError>();
        if (peerKey is not null && (!WireGuardKey.TryParse(peerKey, out var parsed) || parsed.IsZero))
        {
            errors.Add(new HubFieldError("peer", "is not a WireGuard public key (44 characters of base64, as wg pubkey prints)"));
        }

        if (hubHost is not null && !IsHost(hubHost))
        {
            errors.Add(new HubFieldError("endpoint", $"'{hubHost}' is not an IP address or a DNS name of the hub"));
        }

        if (peerKey is null && network.Peers.Count != 1)
        {
            errors.Add(new HubFieldError("peer", string.Create(CultureInfo.InvariantCulture, $"network '{network.NetworkId}' has {network.Peers.Count} peers: say which by its public key")));
        }

        if (errors.Count > 0)
        {
            throw HubException.Invalid(errors);
        }

        var peer = peerKey is null ? network.Peers[0]
            : network.Peers.FirstOrDefault(p => string.Equals(p.PublicKey, peerKey, StringComparison.Ordinal))
              ?? throw new HubException(HubErrorKind.NotFound, $"network '{network.NetworkId}' has no peer {peerKey}") { NetworkId = network.NetworkId };

        var allowed = peer.AllowedIps.Select(IPPrefix.Parse).ToList();
        var hosts = allowed.Count > 0 && allowed.All(p => p.PrefixLength == (p.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
        var port = peer.Endpoint is { } endpoint && IPEndPoint.TryParse(endpoint, out var ep) ? ep.Port : (int?)null;
        var comment = new List<string>
        {
            $"wg-quick configuration of the far side of hub network '{network.NetworkId}' ({network.WgInterface}):",
            $"the peer {peer.PublicKey}.",
        };
        if (!hosts && allowed.Count > 0)
        {
            comment.Add($"Address: the hub sends {string.Join(", ", peer.AllowedIps)} here; give this side its own address in them.");
        }

        var peerComment = new List<string>();
        if (peer.HasPresharedKey)
        {
            peerComment.Add("PresharedKey = (the one given for this peer: the hub does not print it)");
        }

        var endpointText = hubHost is null ? null : FormatEndpoint(hubHost, network.ListenPort);
        if (endpointText is null)
        {
            peerComment.Add(string.Create(CultureInfo.InvariantCulture, $"Endpoint = HUB:{network.ListenPort} (the hub's address, as --endpoint or ?endpoint= gives it)"));
        }

        var config = new WgQuickConfig
        {
            Addresses = hosts ? allowed : [],
            ListenPort = port,
            Peers =
            [
                new WgQuickPeer(WireGuardKey.Parse(network.PublicKey))
                {
                    Endpoint = endpointText,
                    AllowedIps = [IPPrefix.Parse(network.NetworkCidr)],
                    PersistentKeepalive = peer.PersistentKeepalive,
                    Comment = peerComment,
                },
            ],
        };
        return config.ToText(comment, $"(the private key of {peer.PublicKey}: the hub never holds it)");
    }

    /// <summary>Whether <paramref name="host"/> is an IP address or a DNS name (letters, digits, hyphens, dots).</summary>
    private static bool IsHost(string host) =>
        IPAddress.TryParse(host, out _)
        || (host.Length is > 0 and <= 253 && host.Split('.').All(label => label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')));

    private static string FormatEndpoint(string host, int port) =>
        IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{address}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}
