using System.Threading.Channels;
using Aether.Labs;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;

namespace Aether.Server.Ui;

/// <summary>
/// One lab watched for the web view, shared by everyone viewing it: a link monitor (<c>RTNLGRP_LINK</c>) in each of
/// its nodes' namespaces (and the switch's, on the ovs fabric) wakes a read of the lab (<see cref="LabHost.ObserveAsync"/>:
/// every link verified, both ends' kernel facts, nothing stored), as does the end of any operation on the lab and
/// each report of its runtime; a read every <see cref="Resync"/> is the safety net (events are hints). Events within
/// <see cref="Settle"/> of each other are read once. A view that differs from the last one sent (times aside) goes to
/// every subscriber; a slow subscriber gets only the newest.
/// </summary>
internal sealed partial class LabWatch : IAsyncDisposable
{
    /// <summary>How long events are gathered before the lab is read.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(15);

    /// <summary>How often the lab is read without an event.</summary>
    public static readonly TimeSpan Resync = TimeSpan.FromSeconds(5);

    private readonly LabHost _host;
    private readonly ILogger _log;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<Channel<LabUiView>> _subscribers = [];
    private readonly Task _run;
    private LabUiView? _last;
    private string? _lastKey;

    public LabWatch(string lab, LabHost host, ILogger log)
    {
        Lab = lab;
        _host = host;
        _log = log;
        host.Changed += OnChanged;
        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The lab watched.</summary>
    public string Lab { get; }

    /// <summary>How many subscribers are left (the owner disposes of a watch with none).</summary>
    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>A stream of views, the current one first (once read).</summary>
    public ChannelReader<LabUiView> Subscribe(out Action unsubscribe)
    {
        var channel = Channel.CreateBounded<LabUiView>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
            if (_last is { } last)
            {
                channel.Writer.TryWrite(last);
            }
        }

        unsubscribe = () =>
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }

            channel.Writer.TryComplete();
        };
        return channel.Reader;
    }

    private void OnChanged(object? sender, LabChangedEventArgs e)
    {
        if (string.Equals(e.Lab, Lab, StringComparison.Ordinal))
        {
            _wake.Writer.TryWrite(true);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> watched = [];
        var missing = string.Empty;
        CancellationTokenSource? monitors = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                LabSpec? spec = null;
                LabUiView view;
                try
                {
                    (_, spec) = await _host.LoadAsync(Lab, cancellationToken).ConfigureAwait(false);
                    view = await ReadAsync(spec, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is LabRequestException or NetlinkException or IOException or InvalidOperationException or Aether.Labs.Store.LabStoreException)
                {
                    view = new LabUiView(Lab, "veth", DateTimeOffset.UtcNow, _host.RuntimeOf(Lab), [], [], ex.Message);
                }

                // The namespaces to watch: again when the lab changed, or when a namespace went or came back (a
                // namespace made again is another namespace: the old monitor would hear nothing from it).
                var namespaces = spec is null || spec.IsPlaced ? [] : Namespaces(spec);
                var nowMissing = string.Join(',', view.Nodes.Where(n => !n.Present).Select(n => n.Name));
                if (monitors is null || !namespaces.SequenceEqual(watched, StringComparer.Ordinal) || !string.Equals(nowMissing, missing, StringComparison.Ordinal))
                {
                    missing = nowMissing;
                    if (monitors is not null)
                    {
                        await monitors.CancelAsync().ConfigureAwait(false);
                        monitors.Dispose();
                    }

                    monitors = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    foreach (var ns in namespaces)
                    {
                        _ = Task.Run(() => MonitorAsync(ns, monitors.Token), CancellationToken.None);
                    }

                    watched = namespaces;
                }

                Publish(view);
                using (var resync = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    resync.CancelAfter(Resync);
                    try
                    {
                        await _wake.Reader.WaitToReadAsync(resync.Token).ConfigureAwait(false);
                        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The resync.
                    }
                }

                _wake.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            if (monitors is not null)
            {
                await monitors.CancelAsync().ConfigureAwait(false);
                monitors.Dispose();
            }
        }
    }

    /// <summary>Wakes the watch on every link event in <paramref name="ns"/> until cancelled or the namespace goes.</summary>
    private async Task MonitorAsync(string ns, CancellationToken cancellationToken)
    {
        try
        {
            using var handle = ns.Length == 0 ? NetlinkHandle.Open() : OpenIn(ns);
            await foreach (var _ in handle.MonitorAsync(MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                _wake.Writer.TryWrite(true);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex) when (ex is NetlinkException or IOException or InvalidOperationException)
        {
            // A missing namespace: the view says so, and the watch tries again when it comes back.
            LogMonitorFailed(_log, Lab, ns, ex.Message);
        }
    }

    private static NetlinkHandle OpenIn(string ns)
    {
        using var opened = NetworkNamespace.Open(ns);
        return NetlinkHandle.OpenAt(opened);
    }

    private async Task<LabUiView> ReadAsync(LabSpec spec, CancellationToken cancellationToken)
    {
        if (spec.IsPlaced)
        {
            return await LabUiViews.PlacedAsync(spec, _host, Lab, cancellationToken).ConfigureAwait(false);
        }

        var live = await _host.ObserveAsync(spec, cancellationToken).ConfigureAwait(false);
        return LabUiViews.From(spec, live, await _host.Store.GetLinksAsync(Lab, cancellationToken).ConfigureAwait(false), _host, Lab);
    }

    private static List<string> Namespaces(LabSpec spec)
    {
        var names = spec.Nodes.Select(n => n.Namespace).Order(StringComparer.Ordinal).ToList();
        if (spec.Fabric == LabFabric.Ovs)
        {
            names.Add(string.Empty); // the switch's ports, in the daemon's namespace
        }

        return names;
    }

    private void Publish(LabUiView view)
    {
        var key = LabUiViews.Key(view);
        lock (_lock)
        {
            if (string.Equals(key, _lastKey, StringComparison.Ordinal))
            {
                return;
            }

            (_last, _lastKey) = (view, key);
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(view);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _host.Changed -= OnChanged;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }
        }
    }

    [LoggerMessage(EventId = 9400, Level = LogLevel.Debug, Message = "lab {Lab}: the web view's link monitor in namespace '{Namespace}' stopped: {Error}")]
    private static partial void LogMonitorFailed(ILogger logger, string lab, string @namespace, string error);
}
