using System.Diagnostics.Metrics;
using Aether.Hub;
using Microsoft.Extensions.Hosting;

namespace Aether.Server.Telemetry;

/// <summary>
/// The daemon's own instruments, on the meter <c>Aether.Server</c> made by the app's <see cref="IMeterFactory"/>:
/// the hub's networks, and its WireGuard peers as their devices report them (the age of the latest handshake, the
/// bytes received and sent), read from the hub's status when a reader collects (a scrape). HTTP requests are
/// ASP.NET Core's own instruments (<c>http.server.request.duration</c>). Made when the host starts (a hosted service
/// that does nothing else).
/// </summary>
/// <remarks>The peer instruments have one series per configured peer (<c>aether.hub.network.id</c> and
/// <c>aether.wireguard.peer.public_key</c>): bounded by the networks and peers the hub keeps, never by what a
/// request sends.</remarks>
internal sealed class ServerMetrics : IHostedService
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aether.Server";

    /// <summary>The longest a collection waits for the hub's status: a scrape must not hang on a stuck device.</summary>
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    private readonly HubHost _hub;
    private readonly TimeProvider _time;

    public ServerMetrics(IMeterFactory meters, HubHost hub, TimeProvider time)
    {
        _hub = hub;
        _time = time;
        Meter = meters.Create(MeterName);
        Meter.CreateObservableUpDownCounter(
            "aether.hub.networks", () => hub.TryGet(out var h) ? h.ListNetworks().Count : 0, unit: "{network}", description: "Networks the hub keeps");
        Meter.CreateObservableGauge(
            "aether.wireguard.peer.handshake.age", HandshakeAges, unit: "s", description: "Time since each peer's latest handshake (peers that never shook hands are left out)");
        Meter.CreateObservableCounter(
            "aether.wireguard.peer.received", () => Transfer(received: true), unit: "By", description: "Bytes received from each peer, as its device counts them");
        Meter.CreateObservableCounter(
            "aether.wireguard.peer.sent", () => Transfer(received: false), unit: "By", description: "Bytes sent to each peer, as its device counts them");
    }

    public Meter Meter { get; }

    /// <summary>Nothing to start: a hosted service only so that the instruments exist from the host's start.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<double>> HandshakeAges()
    {
        var now = _time.GetUtcNow();
        foreach (var (network, peer) in Peers())
        {
            if (peer.LatestHandshake is { } handshake)
            {
                yield return new Measurement<double>(Math.Max(0, (now - handshake).TotalSeconds), Attributes(network, peer));
            }
        }
    }

    private IEnumerable<Measurement<long>> Transfer(bool received)
    {
        foreach (var (network, peer) in Peers())
        {
            var bytes = received ? peer.ReceivedBytes : peer.SentBytes;
            yield return new Measurement<long>((long)Math.Min(bytes, long.MaxValue), Attributes(network, peer));
        }
    }

    private static KeyValuePair<string, object?>[] Attributes(HubNetworkStatus network, HubPeerStatus peer) =>
    [
        new("aether.hub.network.id", network.Network.NetworkId),
        new("aether.wireguard.peer.public_key", peer.PublicKey),
    ];

    /// <summary>The peers on the devices (a configured peer not on its device has no counters to report).</summary>
    private IEnumerable<(HubNetworkStatus Network, HubPeerStatus Peer)> Peers()
    {
        if (!_hub.TryGet(out var hub) || hub.ListNetworks().Count == 0)
        {
            return [];
        }

        HubStatus status;
        try
        {
            using var timeout = new CancellationTokenSource(StatusTimeout);
            status = hub.GetStatusAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OperationCanceledException or HubException or IOException or InvalidOperationException)
        {
            return []; // the scrape goes on without the peers; the hub's status endpoint says what is wrong
        }

        return [.. status.Networks.SelectMany(n => n.Peers.Where(p => p.OnDevice).Select(p => (n, p)))];
    }
}
