using Microsoft.Extensions.Logging;

namespace Aether.Server.Ui;

/// <summary>The labs the web view watches: one <see cref="LabWatch"/> per lab while anyone views it, shared by all
/// viewers, disposed of when the last one leaves.</summary>
internal sealed class LabWatches(LabHost host, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly Dictionary<string, LabWatch> _watches = new(StringComparer.Ordinal);
    private readonly ILogger _log = loggers.CreateLogger("Aether.Server.Ui");
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>Views of <paramref name="lab"/>, the current one first; dispose of the lease to stop.</summary>
    public async Task<Lease> SubscribeAsync(string lab, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_watches.TryGetValue(lab, out var watch))
            {
                watch = new LabWatch(lab, host, _log);
                _watches[lab] = watch;
            }

            var reader = watch.Subscribe(out var unsubscribe);
            return new Lease(this, watch, reader, unsubscribe);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task ReleaseAsync(LabWatch watch, Action unsubscribe)
    {
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            unsubscribe();
            if (watch.Subscribers > 0 || !_watches.Remove(watch.Lab))
            {
                return;
            }
        }
        finally
        {
            _lock.Release();
        }

        await watch.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        LabWatch[] all;
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            all = [.. _watches.Values];
            _watches.Clear();
        }
        finally
        {
            _lock.Release();
        }

        foreach (var watch in all)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }

        _lock.Dispose();
    }

    /// <summary>A viewer's subscription to a lab's views.</summary>
    internal sealed class Lease(LabWatches owner, LabWatch watch, System.Threading.Channels.ChannelReader<LabUiView> views, Action unsubscribe) : IAsyncDisposable
    {
        /// <summary>The views, newest only when the reader is slow.</summary>
        public System.Threading.Channels.ChannelReader<LabUiView> Views => views;

        public ValueTask DisposeAsync() => new(owner.ReleaseAsync(watch, unsubscribe));
    }
}
