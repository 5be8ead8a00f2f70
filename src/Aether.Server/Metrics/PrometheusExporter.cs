using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Aether.Reconcile;

namespace Aether.Server.Metrics;

/// <summary>
/// <c>GET /metrics</c>: the process's <see cref="System.Diagnostics.Metrics"/> instruments in the Prometheus text
/// exposition format 0.0.4, aggregated by a <see cref="MeterListener"/>. Written by hand because no Prometheus
/// exporter restores from this machine's package mirror (OpenTelemetry's Prometheus exporters are missing), and the
/// format is small: <c># HELP</c>, <c># TYPE</c>, then one <c>name{label="value"} number</c> line per series.
/// It listens to the <c>Aether.Reconcile</c> meter (process-wide: every loop of the daemon) and to the meters this
/// app's <see cref="IMeterFactory"/> made (<c>Aether.Server</c>), not to another app's in the same process.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    /// <summary>The content type of format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly double[] MillisecondBuckets = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
    private static readonly double[] SecondBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] DefaultBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

    private readonly MeterListener _listener = new();
    private readonly List<Family> _families = [];
    private readonly Lock _lock = new();

    public PrometheusExporter(IMeterFactory scope)
    {
        // The reconcile meter is created with its class: make it exist now, so that its families are listed (with no
        // series) even before the first loop runs a pass.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(ReconcileMetrics).TypeHandle);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (string.Equals(instrument.Meter.Name, ReconcileMetrics.MeterName, StringComparison.Ordinal) || ReferenceEquals(instrument.Meter.Scope, scope))
            {
                var family = new Family(instrument);
                lock (_lock)
                {
                    _families.Add(family);
                }

                listener.EnableMeasurementEvents(instrument, family);
            }
        };
        _listener.MeasurementsCompleted = (instrument, state) =>
        {
            lock (_lock)
            {
                _families.Remove((Family)state!);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and writes every family.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        Family[] families;
        lock (_lock)
        {
            families = [.. _families];
        }

        var text = new StringBuilder();
        foreach (var family in families.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            family.Write(text);
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>A label value or help text escaped as the format wants.</summary>
    internal static string Escape(string text, bool quote) =>
        quote ? text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
              : text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A metric or label name: <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    internal static string Name(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '_' or ':'))
            {
                chars[i] = '_';
            }
        }

        return chars.Length > 0 && char.IsAsciiDigit(chars[0]) ? "_" + new string(chars) : new string(chars);
    }

    internal static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One instrument: its series by label set.</summary>
    private sealed class Family
    {
        private readonly Kind _kind;
        private readonly bool _cumulative; // observable counters report totals, not increments
        private readonly double[] _bounds = [];
        private readonly string _help;
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public Family(Instrument instrument)
        {
            var type = instrument.GetType().GetGenericTypeDefinition();
            _kind = type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? Kind.Counter
                : type == typeof(Histogram<>) ? Kind.Histogram
                : Kind.Gauge; // UpDownCounter, ObservableUpDownCounter, ObservableGauge, Gauge
            _cumulative = type == typeof(ObservableCounter<>) || type == typeof(ObservableUpDownCounter<>) || type == typeof(ObservableGauge<>) || type == typeof(Gauge<>);
            var unit = instrument.Unit switch
            {
                "ms" => "_milliseconds",
                "s" => "_seconds",
                "By" => "_bytes",
                _ => "",
            };
            Name = PrometheusExporter.Name(instrument.Name) + unit + (_kind == Kind.Counter ? "_total" : "");
            _help = instrument.Description ?? instrument.Name;
            if (_kind == Kind.Histogram)
            {
                _bounds = instrument.Unit switch
                {
                    "ms" => MillisecondBuckets,
                    "s" => SecondBuckets,
                    _ => DefaultBuckets,
                };
            }
        }

        public string Name { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_lock)
            {
                if (!_series.TryGetValue(labels, out var series))
                {
                    series = new Series(_bounds.Length);
                    _series.Add(labels, series);
                }

                if (_kind == Kind.Histogram)
                {
                    var i = 0;
                    while (i < _bounds.Length && value > _bounds[i])
                    {
                        i++;
                    }

                    series.Buckets[i]++;
                    series.Count++;
                    series.Value += value;
                }
                else if (_cumulative)
                {
                    series.Value = value;
                }
                else
                {
                    series.Value += value;
                }
            }
        }

        public void Write(StringBuilder text)
        {
            var type = _kind switch
            {
                Kind.Counter => "counter",
                Kind.Histogram => "histogram",
                _ => "gauge",
            };
            text.Append("# HELP ").Append(Name).Append(' ').Append(Escape(_help, quote: false)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            lock (_lock)
            {
                foreach (var (labels, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
                {
                    if (_kind != Kind.Histogram)
                    {
                        Sample(text, Name, labels, series.Value);
                        continue;
                    }

                    long cumulative = 0;
                    for (var i = 0; i <= _bounds.Length; i++)
                    {
                        cumulative += series.Buckets[i];
                        var le = "le=\"" + (i < _bounds.Length ? Number(_bounds[i]) : "+Inf") + "\"";
                        Sample(text, Name + "_bucket", labels.Length == 0 ? le : labels + "," + le, cumulative);
                    }

                    Sample(text, Name + "_sum", labels, series.Value);
                    Sample(text, Name + "_count", labels, series.Count);
                }
            }
        }

        private static void Sample(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(Number(value)).Append('\n');
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return "";
            }

            var pairs = new (string Name, string Value)[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                pairs[i] = (PrometheusExporter.Name(tags[i].Key), Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            }

            Array.Sort(pairs, (a, b) => string.CompareOrdinal(a.Name, b.Name));
            return string.Join(",", pairs.Select(p => p.Name + "=\"" + Escape(p.Value, quote: true) + "\""));
        }
    }

    private sealed class Series(int bounds)
    {
        public long[] Buckets { get; } = new long[bounds + 1];

        public long Count { get; set; }

        public double Value { get; set; }
    }
}
