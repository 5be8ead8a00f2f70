using System.Diagnostics.Metrics;
using Aether.Hub;

namespace Aether.Server.Metrics;

/// <summary>The daemon's own instruments, on the meter <c>Aether.Server</c> made by the app's
/// <see cref="IMeterFactory"/> (so two apps in one process, as in tests, keep their numbers apart).</summary>
internal sealed class ServerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aether.Server";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public ServerMetrics(IMeterFactory meters, HubHost hub)
    {
        Meter = meters.Create(MeterName);
        _requests = Meter.CreateCounter<long>("aether.server.http.requests", description: "HTTP requests served, by method, route and status code");
        _duration = Meter.CreateHistogram<double>("aether.server.http.request.duration", unit: "s", description: "HTTP request duration, by method and route");
        Meter.CreateObservableGauge("aether.hub.networks", () => hub.TryGet(out var h) ? h.ListNetworks().Count : 0, description: "Networks the hub keeps");
    }

    public Meter Meter { get; }

    public void Request(string method, string route, int status, TimeSpan elapsed)
    {
        var m = new KeyValuePair<string, object?>("method", method);
        var r = new KeyValuePair<string, object?>("route", route);
        _requests.Add(1, m, r, new("status", status));
        _duration.Record(elapsed.TotalSeconds, m, r);
    }
}
