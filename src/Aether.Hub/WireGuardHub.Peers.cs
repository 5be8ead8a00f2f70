using Aether.Reconcile;
using Aether.WireGuard;
using Microsoft.Extensions.Logging;

namespace Aether.Hub;

/// <summary>Peers: a network's map of peers keyed by public key, changed one peer at a time on a live network. The
/// device source changes only the peer that differs (an add, an update in place, a remove), so the other peers'
/// sessions, handshakes and counters go on.</summary>
public sealed partial class WireGuardHub
{
    private async Task<HubPeerResult> SetPeerCoreAsync(string networkId, HubPeerRequest peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        ArgumentNullException.ThrowIfNull(peer);
        var spec = peer.Validate();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var network = _networks.GetValueOrDefault(networkId) ?? throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            if (spec.PublicKey == network.PublicKey)
            {
                throw HubException.Invalid([new HubFieldError("publicKey", "is the hub's own public key of this network")]);
            }

            var others = network.Peers.Where(p => p.PublicKey != spec.PublicKey).ToList();
            if (HubNetworkSpec.CheckAgainst(others, spec) is { } clash)
            {
                throw HubException.Invalid([clash]);
            }

            if (RouteClash(networkId, spec) is { } why)
            {
                throw HubException.Invalid([new HubFieldError("allowedIps", why)]);
            }

            var index = network.Peers.ToList().FindIndex(p => p.PublicKey == spec.PublicKey);
            if (index >= 0 && network.Peers[index].Equals(spec))
            {
                return new HubPeerResult(spec.ToInfo(), Created: false);
            }

            List<HubPeerSpec> peers = [.. network.Peers];
            if (index >= 0)
            {
                peers[index] = spec;
            }
            else
            {
                peers.Add(spec);
            }

            await ChangePeersAsync(network, network.WithPeers(peers), cancellationToken).ConfigureAwait(false);
            LogPeerSet(_logger, networkId, spec.PublicKey, index < 0 ? "added" : "updated");
            return new HubPeerResult(spec.ToInfo(), Created: index < 0);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RemovePeerCoreAsync(string networkId, string publicKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        ArgumentNullException.ThrowIfNull(publicKey);
        var key = ParseKey(publicKey);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var network = _networks.GetValueOrDefault(networkId) ?? throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            if (!network.Peers.Any(p => p.PublicKey == key))
            {
                throw new HubException(HubErrorKind.NotFound, $"network {networkId} has no peer {key}") { NetworkId = networkId, Missing = HubMissing.Peer };
            }

            await ChangePeersAsync(network, network.WithPeers([.. network.Peers.Where(p => p.PublicKey != key)]), cancellationToken).ConfigureAwait(false);
            LogPeerSet(_logger, networkId, key, "removed");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A public key in a path: base64 (<c>+/</c>, padded) or base64url (<c>-_</c>, padding optional).</summary>
    /// <exception cref="HubException">Invalid, naming <c>publicKey</c>.</exception>
    public static WireGuardKey ParseKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var base64 = text.Replace('-', '+').Replace('_', '/');
        if (base64.Length == 43)
        {
            base64 += "=";
        }

        return WireGuardKey.TryParse(base64, out var key) && !key.IsZero
            ? key
            : throw HubException.Invalid([new HubFieldError("publicKey", "is not a WireGuard key (44 characters of base64, or 43 of base64url)")]);
    }

    /// <summary>Applies a network's new peers (under the gate): the device's pass, then the store. A failure puts the
    /// peers back as they were (another pass) and says which step failed.</summary>
    private async Task ChangePeersAsync(HubNetworkSpec before, HubNetworkSpec after, CancellationToken cancellationToken)
    {
        SetNetwork(after.Id, after);
        try
        {
            var failure = await RunStepsAsync(stopAtFirstFailure: true, cancellationToken).ConfigureAwait(false);
            if (failure is { } f && f.Stage != Stage.Nftables)
            {
                throw new HubException(HubErrorKind.Failed, $"{f.Step}: {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = after.Id };
            }

            try
            {
                await _store.SaveAsync(after.Request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new HubException(HubErrorKind.Failed, "store: " + ex.Message, ex) { Step = "store", NetworkId = after.Id };
            }
        }
        catch
        {
            SetNetwork(before.Id, before);
            await RunStepsAsync(stopAtFirstFailure: false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    [LoggerMessage(EventId = 7011, Level = LogLevel.Information, Message = "hub network {Network}: peer {Peer} {What}")]
    private static partial void LogPeerSet(ILogger logger, string network, WireGuardKey peer, string what);
}
