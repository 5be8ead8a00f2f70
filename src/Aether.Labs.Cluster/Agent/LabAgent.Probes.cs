using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;

namespace Aether.Labs.Cluster.Agent;

/// <summary>
/// The agent's half of <c>verify --deep</c> across hosts (<c>cluster_probes</c>, see <see cref="CrossHostFrames"/>).
/// A <c>probe</c> hint for this host wakes it (no pass): as a receiver, it opens a packet socket on its end inside the
/// node namespace, marks the probe listening (which hints the sender's host) and waits up to twice the frame timeout
/// for a frame carrying the probe's nonce, which it answers to the sender's MAC address; as a sender, it takes the
/// probes whose receiver listens, sends a frame every <see cref="ProbeResend"/> until the answer comes back or the
/// frame timeout passes, and ends the probe crossed with the round trip, or failed with why.
/// </summary>
public sealed partial class LabAgent
{
    /// <summary>How often a sender sends the probe's frame again while no answer came.</summary>
    public static readonly TimeSpan ProbeResend = TimeSpan.FromMilliseconds(200);

    private const byte RequestFrame = 1;
    private const byte AnswerFrame = 2;

    private readonly Channel<bool> _probeWake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ConcurrentDictionary<(long Id, bool Sending), Task> _probes = new();
    private Task? _probeLoop;

    /// <summary>A probe hint (or a reconnection, after which hints may be lost): look at the probe table.</summary>
    private void OnProbeHint(CancellationToken cancellationToken)
    {
        _probeLoop ??= Task.Run(() => ProbeLoopAsync(cancellationToken), CancellationToken.None);
        _ = _probeWake.Writer.TryWrite(true);
    }

    /// <summary>Waits for the probe work to end (after the agent's stop was requested).</summary>
    private async Task ProbesStoppedAsync()
    {
        if (_probeLoop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await Task.WhenAll(_probes.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ProbeLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in _probeWake.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await ServeProbesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProbeFailed(_logger, ex.Message);
            }
        }
    }

    private async Task ServeProbesAsync(CancellationToken cancellationToken)
    {
        var host = _options.Host;
        foreach (var probe in await _cluster.ListProbesToListenAsync(host, cancellationToken).ConfigureAwait(false))
        {
            if (_probes.ContainsKey((probe.Id, false)))
            {
                continue;
            }

            var r = probe.Request;
            var (socket, problem) = await OpenEndAsync(r.ReceiverNamespace, r.ReceiverInterface, cancellationToken).ConfigureAwait(false);
            if (socket is null)
            {
                _ = await _cluster.EndProbeAsync(probe.Id, null, $"host {host} cannot listen on {r.ReceiverInterface} in {r.ReceiverNamespace}: {problem}", cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!await _cluster.MarkProbeListeningAsync(probe.Id, cancellationToken).ConfigureAwait(false))
            {
                socket.Dispose();
                continue;
            }

            Track((probe.Id, false), () => ListenAsync(probe, socket, cancellationToken));
        }

        foreach (var probe in await _cluster.TakeProbesToSendAsync(host, cancellationToken).ConfigureAwait(false))
        {
            Track((probe.Id, true), () => SendAsync(probe, cancellationToken));
        }
    }

    private void Track((long Id, bool Sending) key, Func<Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProbeFailed(_logger, ex.Message);
            }
            finally
            {
                _ = _probes.TryRemove(key, out _);
            }
        }, CancellationToken.None);
        _probes[key] = task;
    }

    /// <summary>The receiver: one frame with the nonce answered, or the probe ended with why none came.</summary>
    private async Task ListenAsync(FrameProbeRecord probe, FrameProbe.Socket socket, CancellationToken cancellationToken)
    {
        var r = probe.Request;
        var window = probe.FrameTimeout * 2;
        string? answered;
        TimeSpan? arrived;
        using (socket)
        {
            (arrived, answered) = await Blocking(() =>
            {
                var got = socket.Receive(probe.Nonce, RequestFrame, window, out var from);
                return (got, got is null ? null : socket.Send(from!, probe.Nonce, AnswerFrame));
            }).ConfigureAwait(false);
        }

        if (arrived is not null)
        {
            await _cluster.MarkProbeReceivedAsync(probe.Id, cancellationToken).ConfigureAwait(false);
            if (answered is not null)
            {
                _ = await _cluster.EndProbeAsync(probe.Id, null, $"the frame crossed to {r.ReceiverInterface} on host {r.Receiver}, but its answer could not be sent: {answered}", cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var rows = await _cluster.ListProbesAsync([probe.Id], cancellationToken).ConfigureAwait(false);
        var now = rows.Count > 0 ? rows[0] : null;
        var why = now is { Sent: false }
            ? string.Create(CultureInfo.InvariantCulture, $"host {r.Sender} did not answer: no agent there sent the frame from {r.SenderInterface} while host {r.Receiver} listened ({window.TotalMilliseconds:F0} ms)")
            : string.Create(CultureInfo.InvariantCulture, $"no frame sent on {r.SenderInterface} (host {r.Sender}) arrived on {r.ReceiverInterface} (host {r.Receiver}) within {window.TotalMilliseconds:F0} ms");
        _ = await _cluster.EndProbeAsync(probe.Id, null, why, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The sender: frames with the nonce until the answer comes back or the frame timeout passes.</summary>
    private async Task SendAsync(FrameProbeRecord probe, CancellationToken cancellationToken)
    {
        var r = probe.Request;
        var (socket, problem) = await OpenEndAsync(r.SenderNamespace, r.SenderInterface, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            _ = await _cluster.EndProbeAsync(probe.Id, null, $"host {r.Sender} cannot send on {r.SenderInterface} in {r.SenderNamespace}: {problem}", cancellationToken).ConfigureAwait(false);
            return;
        }

        (TimeSpan? RoundTrip, string? Problem) result;
        using (socket)
        {
            result = await Blocking<(TimeSpan?, string?)>(() =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < probe.FrameTimeout)
                {
                    if (socket.Send("ff:ff:ff:ff:ff:ff", probe.Nonce, RequestFrame) is { } failed)
                    {
                        return (null, failed);
                    }

                    var wait = probe.FrameTimeout - clock.Elapsed < ProbeResend ? probe.FrameTimeout - clock.Elapsed : ProbeResend;
                    if (socket.Receive(probe.Nonce, AnswerFrame, wait, out _) is not null)
                    {
                        return (clock.Elapsed, null);
                    }
                }

                return (null, null);
            }).ConfigureAwait(false);
        }

        if (result.RoundTrip is null && result.Problem is null)
        {
            var rows = await _cluster.ListProbesAsync([probe.Id], cancellationToken).ConfigureAwait(false);
        var now = rows.Count > 0 ? rows[0] : null;
            if (now is { State: FrameProbeState.Failed or FrameProbeState.Crossed } or null)
            {
                return; // the receiver said first (or the probe is gone)
            }

            result.Problem = now.Received
                ? string.Create(CultureInfo.InvariantCulture, $"the frame crossed from {r.SenderInterface} (host {r.Sender}) to {r.ReceiverInterface} (host {r.Receiver}), but no answer came back within {probe.FrameTimeout.TotalMilliseconds:F0} ms")
                : string.Create(CultureInfo.InvariantCulture, $"a frame sent on {r.SenderInterface} (host {r.Sender}) did not arrive on {r.ReceiverInterface} (host {r.Receiver}) within {probe.FrameTimeout.TotalMilliseconds:F0} ms");
        }

        _ = await _cluster.EndProbeAsync(probe.Id, result.RoundTrip, result.Problem, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/>, which blocks in <c>poll</c> for up to seconds, on a thread of its own: on
    /// the thread pool, a few probes at once would starve it (on 2 cores, measured: the senders' work queued behind
    /// the receivers' waits until every probe timed out).</summary>
    private static Task<T> Blocking<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    /// <summary>A probe socket on interface <paramref name="name"/> of node namespace <paramref name="ns"/>, or why
    /// not (the namespace or interface missing, down, or the kernel's refusal).</summary>
    private static async Task<(FrameProbe.Socket? Socket, string? Problem)> OpenEndAsync(string ns, string name, CancellationToken cancellationToken)
    {
        if (!NetworkNamespace.Exists(ns))
        {
            return (null, $"namespace {ns} is not on this host");
        }

        try
        {
            using var handle = NetworkNamespace.Open(ns);
            using var netlink = NetlinkHandle.OpenAt(handle);
            var found = await netlink.FindLinkAsync(name, cancellationToken).ConfigureAwait(false);
            return found switch
            {
                null => (null, $"{name} is not in {ns}"),
                { IsUp: false } => (null, $"{name} is down"),
                { MacAddress: null } => (null, $"{name} has no MAC address"),
                _ => (FrameProbe.Socket.Open(new FrameProbe.End(handle, found.Index, found.MacAddress, name)), null),
            };
        }
        catch (NetlinkException ex)
        {
            return (null, $"{name} in {ns}: {ex.Message}");
        }
    }

    [LoggerMessage(EventId = 8110, Level = LogLevel.Warning, Message = "frame probe work failed: {Error}")]
    private static partial void LogProbeFailed(ILogger logger, string error);
}
