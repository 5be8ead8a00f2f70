using System.Threading.Channels;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;

namespace Aether.Hub;

/// <summary>Following containers: a <see cref="NamespaceWatcher"/> per directory that holds container entries
/// (<c>/run/netns</c> for named ones), a pidfd per container given by pid; a container that goes is let go of at
/// once (its loop stopped, everything held in it closed), and a named or path container that comes back is taken
/// back.</summary>
public sealed partial class WireGuardHub
{
    private readonly Channel<FollowEvent> _follow = Channel.CreateUnbounded<FollowEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, (NamespaceWatcher Watcher, Task Reader)> _watchers = new(StringComparer.Ordinal);
    private Task? _follower;

    /// <summary>Starts following a container: the watcher of its directory, or a pidfd on its process.</summary>
    private void Follow(Container container)
    {
        if (!_options.RunLoop)
        {
            return;
        }

        if (container.Directory is { } dir && !_watchers.ContainsKey(dir))
        {
            try
            {
                var watcher = NamespaceWatcher.ListAndWatch(new NamespaceWatcherOptions { Directory = dir, RescanInterval = _options.Loop.Resync });
                _watchers[dir] = (watcher, ReadWatcherAsync(dir, watcher));
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or ArgumentException)
            {
                LogFollowFailed(_logger, container.Reference, ex.Message); // the resync's probe still follows it
            }
        }
        else if (container.Pid is { } pid && !container.Gone && container.Exit is null)
        {
            try
            {
                container.Exit = ProcessExitWatch.Start(pid, () => _follow.Writer.TryWrite(new FollowEvent(container, null, null)), container.PidFd);
            }
            catch (NetlinkException ex)
            {
                LogFollowFailed(_logger, container.Reference, ex.Message);
            }
        }
    }

    private async Task ReadWatcherAsync(string directory, NamespaceWatcher watcher)
    {
        await Task.Yield();
        try
        {
            await foreach (var e in watcher.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (e.Name is not null && e.Kind is NamespaceEventKind.Created or NamespaceEventKind.Deleted)
                {
                    _follow.Writer.TryWrite(new FollowEvent(null, directory, e));
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is NetlinkException or IOException or ChannelClosedException)
        {
            LogFollowFailed(_logger, directory, ex.Message); // the resync's probe still follows the containers
        }
    }

    /// <summary>Acts on what the watchers and pidfds saw, one event at a time, under the hub's gate.</summary>
    private async Task FollowAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (var e in _follow.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                await _gate.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    await HandleAsync(e).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(FollowEvent e)
    {
        if (e.Exited is { } exited)
        {
            if (_containers.GetValueOrDefault(exited.Reference) == exited && !exited.Final)
            {
                await LetGoAsync(exited, $"container {exited.Reference}: process {exited.Pid} exited", final: true).ConfigureAwait(false);
            }

            return;
        }

        var ns = e.Namespace!;
        foreach (var container in _containers.Values.Where(c => string.Equals(c.Directory, e.Directory, StringComparison.Ordinal) && string.Equals(c.EntryName, ns.Name, StringComparison.Ordinal)).ToList())
        {
            if (ns.Kind == NamespaceEventKind.Deleted)
            {
                if (!container.Gone && container.Namespace?.Inode == ns.Inode)
                {
                    await LetGoAsync(container, $"container {container.Reference}: its namespace was deleted", final: false).ConfigureAwait(false);
                }
            }
            else if (container.Gone)
            {
                await ReviveAsync(container).ConfigureAwait(false);
            }
            else if (container.Namespace?.Inode != ns.Inode)
            {
                await LetGoAsync(container, $"container {container.Reference}: its namespace was replaced", final: false).ConfigureAwait(false);
                await ReviveAsync(container).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Lets go of a container whose namespace went (under the gate): its loop stops, and its monitor, handle
    /// and namespace descriptor are closed at once, so the kernel can tear the namespace down (its veth ends leave the
    /// host with it). Its networks stay, reported as <c>container gone</c>; the host keeps their devices, routes and
    /// NAT, and the next host pass drops what led into the container (a <c>veth-rootN</c> still there, its address and
    /// route).</summary>
    private async Task LetGoAsync(Container container, string why, bool final)
    {
        if (container.Gone)
        {
            container.MarkGone(container.Error ?? why, final);
            return;
        }

        var loop = container.DetachLoop();
        container.MarkGone(why, final);
        LogContainerGone(_logger, why, string.Join(", ", AllAttachments().Where(a => string.Equals(a.Container, container.Reference, StringComparison.Ordinal)).Select(a => a.NetworkId).Distinct(StringComparer.Ordinal)));
        DisposeUnits();
        ClearRecords(container.Reference);
        await StopLoopAsync(loop).ConfigureAwait(false);
        await WaitQuietly(container.Monitor).ConfigureAwait(false);
        _hostLoop?.Hint();
    }

    /// <summary>Takes back a container that came back (under the gate): opens it, converges every network at once, and
    /// starts its loop. One that cannot be opened stays gone.</summary>
    private async Task ReviveAsync(Container container, bool required = false, OpenedContainer? opened = null)
    {
        try
        {
            container.Open(opened);
        }
        catch (Exception ex) when (IsOpenFailure(ex))
        {
            container.MarkGone($"container {container.Reference}: {ex.Message}", final: false);
            if (required)
            {
                throw CannotOpen(container.Reference, ex);
            }

            return;
        }

        Follow(container);
        DisposeUnits();
        LogContainerBack(_logger, container.Reference);
        var failure = await RunStepsAsync(stopAtFirstFailure: false, _stopping.Token).ConfigureAwait(false);
        if (failure is { } f)
        {
            LogStartFailure(_logger, f.Step, f.Error.Message);
        }

        await StartLoopAsync(container).ConfigureAwait(false);
    }

    /// <summary>What a watcher or a pidfd saw: a container's process exited, or a namespace entry of a directory
    /// came or went.</summary>
    private sealed record FollowEvent(Container? Exited, string? Directory, NamespaceEvent? Namespace);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "{Why}: container gone, its loop stopped and nothing of it is held; its networks ({Networks}) wait for it")]
    private static partial void LogContainerGone(ILogger logger, string why, string networks);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Information, Message = "container {Container} is back: converging its networks")]
    private static partial void LogContainerBack(ILogger logger, string container);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Warning, Message = "cannot follow {What} (the resync still looks): {Error}")]
    private static partial void LogFollowFailed(ILogger logger, string what, string error);
}
