using System.Net;
using System.Text.Json;
using Aether.Netlink;

namespace Aether.Cni;

/// <summary>A WireGuard peer of the network, as the configuration gives it.</summary>
/// <param name="PublicKey">The peer's public key (wg(8)'s base64).</param>
/// <param name="Endpoint">Its endpoint <c>IP:PORT</c>, or null.</param>
/// <param name="AllowedIps">Its allowed IPs, or null for the network.</param>
/// <param name="PersistentKeepalive">The keepalive in seconds, or null.</param>
/// <param name="PresharedKey">A preshared key, or null.</param>
public sealed record CniPeer(string PublicKey, string? Endpoint, IReadOnlyList<string>? AllowedIps, int? PersistentKeepalive, string? PresharedKey);

/// <summary>The <c>dns</c> of the configuration, passed through to the result.</summary>
/// <param name="Nameservers">Name servers.</param>
/// <param name="Domain">The local domain, or null.</param>
/// <param name="Search">Search domains.</param>
/// <param name="Options">Resolver options.</param>
public sealed record CniDns(IReadOnlyList<string> Nameservers, string? Domain, IReadOnlyList<string> Search, IReadOnlyList<string> Options);

/// <summary>
/// The network configuration the runtime writes on stdin, checked as a whole before the daemon is asked anything:
/// the spec's fields (<c>cniVersion</c>, <c>name</c>, <c>type</c>, <c>args</c>, <c>ipam</c>, <c>dns</c>,
/// <c>runtimeConfig</c>, <c>capabilities</c>, <c>prevResult</c>, <c>disableCheck</c>, <c>disableGC</c>) and the
/// hub's (<c>socket</c>, <c>networkId</c>, <c>index</c>, <c>privateKey</c>/<c>privateKeyFile</c>,
/// <c>listenPort</c>, <c>peers</c>, <c>networkCidr</c>, <c>gateway</c>, <c>natPolicy</c>). A field not among them is refused (code 2)
/// so a misspelt one is never silently left out.
/// </summary>
public sealed partial record NetworkConfig
{
    /// <summary>The CNI versions this plugin speaks.</summary>
    public static readonly IReadOnlyList<string> SupportedVersions = ["1.0.0"];

    /// <summary><c>cniVersion</c>.</summary>
    public required string CniVersion { get; init; }

    /// <summary><c>name</c>: the network's name.</summary>
    public required string Name { get; init; }

    /// <summary><c>socket</c>: the daemon's unix socket (default <c>/run/aether/aether.sock</c>).</summary>
    public required string Socket { get; init; }

    /// <summary><c>networkId</c>: the hub's network (default: <see cref="Name"/>).</summary>
    public required string NetworkId { get; init; }

    /// <summary><c>index</c>: the hub's index N (<c>wgN</c>).</summary>
    public required int Index { get; init; }

    /// <summary>The private key of <c>wgN</c>, from <c>privateKey</c> or read from <c>privateKeyFile</c>.</summary>
    public required string PrivateKey { get; init; }

    /// <summary><c>listenPort</c>.</summary>
    public required int ListenPort { get; init; }

    /// <summary><c>peers</c> (may be empty).</summary>
    public required IReadOnlyList<CniPeer> Peers { get; init; }

    /// <summary><c>networkCidr</c>.</summary>
    public required IPPrefix NetworkCidr { get; init; }

    /// <summary><c>gateway</c>.</summary>
    public required IPAddress Gateway { get; init; }

    /// <summary><c>ipam.address</c>: the address every container of this configuration gets, or null (the hub
    /// allocates, or <c>CNI_ARGS</c> <c>IP=</c> asks).</summary>
    public IPAddress? Address { get; init; }

    /// <summary><c>natPolicy</c>: <c>warn</c> or <c>require</c>, passed to the daemon's network; null when not given
    /// (the daemon's default, <c>warn</c>).</summary>
    public string? NatPolicy { get; init; }

    /// <summary><c>dns</c>, or null.</summary>
    public CniDns? Dns { get; init; }

    /// <summary><c>prevResult</c> as given, or null.</summary>
    public JsonElement? PrevResult { get; init; }

    /// <summary>The default socket of the daemon (<c>ServerOptions.DefaultSocketPath</c>).</summary>
    public const string DefaultSocket = "/run/aether/aether.sock";

    /// <summary>The largest configuration read from stdin.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The largest hub index (<c>HubNetworkSpec.MaxIndex</c>).</summary>
    public const int MaxIndex = 9999;
}
