using System.Threading.Channels;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Reconcile;

/// <summary>What <see cref="NamespaceLoops"/> runs for one namespace: the source (a <see cref="SourceGroup"/>,
/// usually) and what to dispose when the loop stops (the namespace's handles).</summary>
/// <param name="Source">What the loop reconciles.</param>
/// <param name="Resources">Disposed after the loop has stopped, or null.</param>
public sealed record NamespaceSource(IReconcileSource Source, IDisposable? Resources = null);

/// <summary>A loop started or stopped.</summary>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Started">True when it started, false when it stopped.</param>
public sealed record NamespaceLoopChange(NamespaceInfo Namespace, bool Started);

/// <summary>
/// One reconcile loop per namespace, for as long as the namespace exists: a loop starts when a namespace is listed or
/// appears (a <see cref="NamespaceEventKind.Created"/> from a <see cref="NamespaceWatcher"/>) and the factory wants it,
/// and stops when it goes (<see cref="NamespaceEventKind.Deleted"/>). A namespace re-created under the same name is a
/// new namespace (another inode): the old loop stops and a new one starts on a new source. A loop that ends by itself
/// (its namespace gone before the event came) is simply not there to stop.
/// </summary>
public sealed partial class NamespaceLoops
{
    private readonly Func<NamespaceInfo, NamespaceSource?> _sourceFor;
    private readonly ReconcileLoopOptions? _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Dictionary<(string? Name, ulong Inode), Entry> _running = [];
    private readonly Channel<NamespaceLoopChange> _changes = Channel.CreateUnbounded<NamespaceLoopChange>();

    /// <summary>Creates the component; <see cref="RunAsync(NamespaceWatcher, CancellationToken)"/> runs it.</summary>
    /// <param name="sourceFor">What to reconcile in a namespace, or null to leave it alone (a namespace that is not
    /// ours). Called on the reading task, once per namespace appearance.</param>
    /// <param name="options">Options for every loop.</param>
    /// <param name="time">The clock for every loop.</param>
    /// <param name="loggers">Where the loops log.</param>
    /// <param name="onReport">Called with every pass report of every loop.</param>
    public NamespaceLoops(Func<NamespaceInfo, NamespaceSource?> sourceFor, ReconcileLoopOptions? options = null, TimeProvider? time = null, ILoggerFactory? loggers = null, Action<PassReport>? onReport = null)
    {
        ArgumentNullException.ThrowIfNull(sourceFor);
        options?.Validate();
        _sourceFor = sourceFor;
        _options = options;
        _time = time ?? TimeProvider.System;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<NamespaceLoops>();
        OnReport = onReport;
    }

    /// <summary>Every loop started or stopped, in order.</summary>
    public ChannelReader<NamespaceLoopChange> Changes => _changes.Reader;

    /// <summary>The namespaces that have a loop now.</summary>
    public IReadOnlyList<NamespaceInfo> Running
    {
        get
        {
            lock (_running)
            {
                return [.. _running.Values.Select(r => r.Namespace)];
            }
        }
    }

    private Action<PassReport>? OnReport { get; }

    /// <summary>Runs loops for the watcher's namespaces until <paramref name="cancellationToken"/> fires or the
    /// watcher stops; then stops every loop.</summary>
    public Task RunAsync(NamespaceWatcher watcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        return RunAsync(watcher.Initial, watcher.ReadAllAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Runs loops for <paramref name="initial"/>, then follows <paramref name="events"/>, until it ends or
    /// <paramref name="cancellationToken"/> fires; then stops every loop.</summary>
    public async Task RunAsync(IReadOnlyList<NamespaceInfo> initial, IAsyncEnumerable<NamespaceEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(events);
        try
        {
            foreach (var ns in initial)
            {
                await StartAsync(ns).ConfigureAwait(false);
            }

            await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var ns = new NamespaceInfo(e.Name, e.Path, e.Inode) { Pids = e.Pids };
                switch (e.Kind)
                {
                    case NamespaceEventKind.Created:
                        await StartAsync(ns).ConfigureAwait(false);
                        break;
                    case NamespaceEventKind.Deleted:
                        await StopAsync((e.Name, e.Inode)).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Asked to stop.
        }
        finally
        {
            List<(string?, ulong)> keys;
            lock (_running)
            {
                keys = [.. _running.Keys];
            }

            foreach (var key in keys)
            {
                await StopAsync(key).ConfigureAwait(false);
            }

            _changes.Writer.TryComplete();
        }
    }

    private async Task StartAsync(NamespaceInfo ns)
    {
        var key = (ns.Name, ns.Inode);
        lock (_running)
        {
            if (_running.ContainsKey(key))
            {
                return;
            }
        }

        NamespaceSource? source;
        try
        {
            source = _sourceFor(ns);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Typically the namespace went again before it could be opened; its Deleted event follows.
            LogSourceFailed(_logger, ns.Name ?? ns.Path, ex.Message);
            return;
        }

        if (source is null)
        {
            return;
        }

        LogStarting(_logger, ns.Name ?? ns.Path, ns.Inode);

        var loop = new ReconcileLoop(source.Source, _options, _time, _loggers.CreateLogger<ReconcileLoop>());
        var readerStop = new CancellationTokenSource();
        var reports = Task.Run(async () =>
        {
            try
            {
                await foreach (var report in loop.Reports.ReadAllAsync(readerStop.Token).ConfigureAwait(false))
                {
                    OnReport?.Invoke(report);
                }
            }
            catch (OperationCanceledException) when (readerStop.IsCancellationRequested)
            {
                // Stopped: what is left is read by StopAsync.
            }
        }, CancellationToken.None);
        lock (_running)
        {
            _running[key] = new Entry(ns, loop, reports, readerStop, source.Resources);
        }

        await loop.StartAsync(CancellationToken.None).ConfigureAwait(false);
        _changes.Writer.TryWrite(new NamespaceLoopChange(ns, Started: true));
    }

    private async Task StopAsync((string? Name, ulong Inode) key)
    {
        Entry? running;
        lock (_running)
        {
            _running.Remove(key, out running);
        }

        if (running is null)
        {
            return;
        }

        await running.Loop.StopAsync(CancellationToken.None).ConfigureAwait(false);

        // The loop's report stream completes when its body ends; a loop stopped before its body ever ran (the host
        // runs it on the thread pool) never completes it. So the reader is stopped here and the rest read directly.
        await running.ReaderStop.CancelAsync().ConfigureAwait(false);
        await running.Reports.ConfigureAwait(false);
        while (running.Loop.Reports.TryRead(out var report))
        {
            OnReport?.Invoke(report);
        }

        running.ReaderStop.Dispose();
        running.Loop.Dispose();
        running.Resources?.Dispose();
        LogStopped(_logger, running.Namespace.Name ?? running.Namespace.Path, running.Namespace.Inode);
        _changes.Writer.TryWrite(new NamespaceLoopChange(running.Namespace, Started: false));
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "namespace {Namespace} (inode {Inode}) appeared: loop starting")]
    private static partial void LogStarting(ILogger logger, string @namespace, ulong inode);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "namespace {Namespace} (inode {Inode}) went: loop stopped")]
    private static partial void LogStopped(ILogger logger, string @namespace, ulong inode);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "namespace {Namespace}: no loop, its source could not be made: {Error}")]
    private static partial void LogSourceFailed(ILogger logger, string @namespace, string error);

    private sealed record Entry(NamespaceInfo Namespace, ReconcileLoop Loop, Task Reports, CancellationTokenSource ReaderStop, IDisposable? Resources);
}
