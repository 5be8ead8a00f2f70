using Aether.WireGuard;

namespace Aether.Hub;

/// <summary>Status: the networks as accepted, joined with what their devices report.</summary>
public sealed partial class WireGuardHub
{
    private async Task<HubStatus> GetStatusCoreAsync(CancellationToken cancellationToken)
    {
        List<(HubNetworkSpec Spec, HubNetworkInfo Info, HubNatStatus Nat, string? ContainerError, bool Gone)> networks;
        lock (_stateLock)
        {
            networks = [.. _networks.Values.OrderBy(n => n.Index).Select(n =>
            {
                var own = n.Container is { } c ? _containers.GetValueOrDefault(c) : null;
                return (n, NetworkInfo(n), NatStatus(n), own?.Error, own?.Gone ?? false);
            })];
        }

        var reads = networks.Select(async n =>
        {
            string? error = n.ContainerError;
            WireGuardDevice? device = null;
            try
            {
                device = await _backend.GetDeviceAsync(n.Spec.WgName, cancellationToken).ConfigureAwait(false);
                if (device is null)
                {
                    error ??= n.Spec.WgName + " is missing";
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error ??= n.Spec.WgName + ": " + ex.Message;
            }

            return new HubNetworkStatus(n.Info, device is not null, device?.ListenPort ?? 0, JoinPeers(n.Spec, device), error, n.Gone ? HubNetworkState.ContainerGone : HubNetworkState.Active)
            {
                Nat = n.Nat,
            };
        });
        var statuses = await Task.WhenAll(reads).ConfigureAwait(false);
        return new HubStatus(_backend.Kind == WireGuardBackendKind.Kernel ? "kernel" : "userspace", statuses);
    }

    /// <summary>The configured peers, each with what the device reports of it (endpoint, handshake, bytes), then the
    /// peers the device has that are not configured (removed on the next pass).</summary>
    private static List<HubPeerStatus> JoinPeers(HubNetworkSpec network, WireGuardDevice? device)
    {
        var reported = device?.Peers.ToDictionary(p => p.PublicKey) ?? [];
        var peers = new List<HubPeerStatus>();
        foreach (var peer in network.Peers)
        {
            var configured = peer.Endpoint?.ToString();
            if (reported.Remove(peer.PublicKey, out var p))
            {
                peers.Add(new HubPeerStatus(peer.PublicKey.ToString(), p.Endpoint?.ToString(), [.. p.AllowedIPs.Select(a => a.ToString())], p.LatestHandshake, p.ReceivedBytes, p.SentBytes, p.PersistentKeepaliveInterval)
                {
                    ConfiguredEndpoint = configured,
                });
            }
            else
            {
                peers.Add(new HubPeerStatus(peer.PublicKey.ToString(), null, [.. peer.AllowedIps.Select(a => a.ToString())], null, 0, 0, peer.PersistentKeepalive)
                {
                    ConfiguredEndpoint = configured,
                    OnDevice = false,
                });
            }
        }

        foreach (var p in reported.Values)
        {
            peers.Add(new HubPeerStatus(p.PublicKey.ToString(), p.Endpoint?.ToString(), [.. p.AllowedIPs.Select(a => a.ToString())], p.LatestHandshake, p.ReceivedBytes, p.SentBytes, p.PersistentKeepaliveInterval)
            {
                Configured = false,
            });
        }

        return peers;
    }
}
