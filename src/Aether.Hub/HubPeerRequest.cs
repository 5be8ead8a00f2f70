using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.WireGuard;

namespace Aether.Hub;

/// <summary>One peer of a network as it comes over the wire (a member of <see cref="HubNetworkRequest.Peers"/>, or the
/// body of <see cref="IWireGuardHub.SetPeerAsync"/>): the network's peers are a map keyed by public key.</summary>
public sealed record HubPeerRequest
{
    /// <summary>The peer's public key (wg(8)'s base64): its identity in the network.</summary>
    public string? PublicKey { get; init; }

    /// <summary>The peer's endpoint, <c>IP:PORT</c> (<c>[IPv6]:PORT</c>); null: the peer connects in, and the device
    /// learns its endpoint from the first handshake.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The peer's allowed IPs (<c>10.1.0.0/24</c>, <c>192.168.5.7/32</c>): what it may send from and what is
    /// sent to it. Null or empty: none. No two peers of a network overlap.</summary>
    public IReadOnlyList<string>? AllowedIps { get; init; }

    /// <summary>The persistent keepalive in seconds, 0 (off, the default) to 65535.</summary>
    public int? PersistentKeepalive { get; init; }

    /// <summary>The preshared key (wg(8)'s base64, as <c>wg genpsk</c> prints), or null for none.</summary>
    public string? PresharedKey { get; init; }

    /// <summary>The peer for logs: the preshared key never prints.</summary>
    public override string ToString() =>
        $"{{ publicKey = {PublicKey}, endpoint = {Endpoint}, allowedIps = [{string.Join(", ", AllowedIps ?? [])}], persistentKeepalive = {PersistentKeepalive}, presharedKey = {(PresharedKey is null ? "" : "(hidden)")} }}";

    /// <summary>Whether two requests are the same peer, field by field (the allowed IPs in order).</summary>
    public bool Equals(HubPeerRequest? other) =>
        other is not null && string.Equals(PublicKey, other.PublicKey, StringComparison.Ordinal) && string.Equals(Endpoint, other.Endpoint, StringComparison.Ordinal)
        && (AllowedIps ?? []).SequenceEqual(other.AllowedIps ?? [], StringComparer.Ordinal) && PersistentKeepalive == other.PersistentKeepalive
        && string.Equals(PresharedKey, other.PresharedKey, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, Endpoint, PersistentKeepalive);

    /// <summary>Checks every field of one peer alone (its key, endpoint, allowed IPs, keepalive, preshared key).</summary>
    /// <exception cref="HubException">Of kind <see cref="HubErrorKind.Invalid"/>, with every bad field.</exception>
    public HubPeerSpec Validate()
    {
        var errors = new List<HubFieldError>();
        var spec = Parse(this, "", (f, m) => errors.Add(new HubFieldError(f, m)));
        return errors.Count > 0 ? throw HubException.Invalid(errors) : spec!;
    }

    /// <summary>Parses one peer, reporting bad fields as <paramref name="prefix"/>+field; null when any was bad.</summary>
    internal static HubPeerSpec? Parse(HubPeerRequest? request, string prefix, Action<string, string> bad)
    {
        if (request is null)
        {
            bad(prefix.TrimEnd('.'), "must be a peer object");
            return null;
        }

        var ok = true;
        void Bad(string field, string message)
        {
            ok = false;
            bad(prefix + field, message);
        }

        var key = default(WireGuardKey);
        if (request.PublicKey is null)
        {
            Bad("publicKey", "is required");
        }
        else if (!WireGuardKey.TryParse(request.PublicKey, out key) || key.IsZero)
        {
            Bad("publicKey", "is not a WireGuard key (44 characters of base64, as wg pubkey prints)");
        }

        var endpoint = ParseEndpoint(request.Endpoint, "endpoint", Bad);
        var allowed = new List<IPPrefix>();
        var list = request.AllowedIps ?? [];
        if (list.Count > HubPeerSpec.MaxAllowedIps)
        {
            Bad("allowedIps", string.Create(CultureInfo.InvariantCulture, $"at most {HubPeerSpec.MaxAllowedIps} prefixes, not {list.Count}"));
        }
        else
        {
            foreach (var text in list)
            {
                if (text is null || !IPPrefix.TryParse(text, out var p, out var why) || !text.Contains('/', StringComparison.Ordinal))
                {
                    Bad("allowedIps", $"'{text}' is not a prefix such as 10.1.0.0/24 or fd00::/64");
                }
                else if (!p.Address.Equals(p.Network))
                {
                    Bad("allowedIps", $"'{text}' has host bits set: did you mean {p.Network}/{p.PrefixLength}?");
                }
                else if (p.PrefixLength == 0)
                {
                    Bad("allowedIps", $"'{text}' is a default route: the hub routes every peer's allowed IPs into wgN in the host namespace, where this one would replace the host's own default route; give narrower prefixes");
                }
                else if (allowed.Any(a => a.Overlaps(p)))
                {
                    Bad("allowedIps", $"'{text}' overlaps another of this peer's allowed IPs");
                }
                else
                {
                    allowed.Add(p);
                }
            }
        }

        ushort keepalive = 0;
        if (request.PersistentKeepalive is int k)
        {
            if (k is < 0 or > 65535)
            {
                Bad("persistentKeepalive", string.Create(CultureInfo.InvariantCulture, $"must be 0 to 65535 seconds, not {k}"));
            }
            else
            {
                keepalive = (ushort)k;
            }
        }

        WireGuardSecretKey? psk = null;
        if (request.PresharedKey is not null)
        {
            if (!WireGuardSecretKey.TryParse(request.PresharedKey, out var parsed) || parsed.IsZero)
            {
                Bad("presharedKey", "is not a WireGuard key (44 characters of base64, as wg genpsk prints)");
            }
            else
            {
                psk = parsed;
            }
        }

        return ok ? new HubPeerSpec(key, endpoint, allowed, keepalive, psk) : null;
    }

    /// <summary>Parses an optional endpoint: <c>IP:PORT</c> or <c>[IPv6]:PORT</c>.</summary>
    internal static IPEndPoint? ParseEndpoint(string? text, string field, Action<string, string> bad)
    {
        if (text is null)
        {
            return null;
        }

        if (!IPEndPoint.TryParse(text, out var endpoint) || endpoint.Port == 0 || !text.Contains(':', StringComparison.Ordinal)
            || (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && !text.StartsWith('[')))
        {
            bad(field, "must be IP:PORT or [IPv6]:PORT with a port of 1 to 65535");
            return null;
        }

        return endpoint;
    }
}

/// <summary>A validated peer.</summary>
/// <param name="PublicKey">Its public key.</param>
/// <param name="Endpoint">Its endpoint, or null.</param>
/// <param name="AllowedIps">Its allowed IPs (host bits clear, no two overlapping).</param>
/// <param name="PersistentKeepalive">Its keepalive in seconds (0: off).</param>
/// <param name="PresharedKey">Its preshared key, or null.</param>
public sealed record HubPeerSpec(WireGuardKey PublicKey, IPEndPoint? Endpoint, IReadOnlyList<IPPrefix> AllowedIps, ushort PersistentKeepalive, WireGuardSecretKey? PresharedKey)
{
    /// <summary>The most allowed IPs one peer may have.</summary>
    public const int MaxAllowedIps = 256;

    /// <summary>The peer as the store keeps it (canonical text).</summary>
    public HubPeerRequest ToRequest() => new()
    {
        PublicKey = PublicKey.ToString(),
        Endpoint = Endpoint?.ToString(),
        AllowedIps = [.. AllowedIps.Select(a => a.ToString())],
        PersistentKeepalive = PersistentKeepalive,
        PresharedKey = PresharedKey?.ToBase64(),
    };

    /// <summary>The peer as clients see it (no preshared key).</summary>
    public HubPeerInfo ToInfo() => new(PublicKey.ToString(), Endpoint?.ToString(), [.. AllowedIps.Select(a => a.ToString())], PersistentKeepalive, PresharedKey is not null);

    /// <summary>Whether two specs are the same peer.</summary>
    public bool Equals(HubPeerSpec? other) =>
        other is not null && PublicKey == other.PublicKey && Equals(Endpoint, other.Endpoint) && AllowedIps.SequenceEqual(other.AllowedIps)
        && PersistentKeepalive == other.PersistentKeepalive && PresharedKey == other.PresharedKey;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, AllowedIps.Count);
}
