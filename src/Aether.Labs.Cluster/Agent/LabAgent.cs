using System.Globalization;
using System.Reflection;
using Aether.Topology;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Labs.Cluster.Agent;

/// <summary>What one pass did for one lab on this host.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="Removed">Whether the lab's part here was removed (no longer placed here).</param>
/// <param name="Changes">Objects created, changed or deleted.</param>
/// <param name="Ends">Link ends checked; <paramref name="Up"/> of them verified.</param>
/// <param name="Up">Link ends that verified.</param>
/// <param name="Error">Why the pass for this lab failed, or null.</param>
public sealed record AgentLabResult(string Lab, bool Removed, int Changes, int Ends, int Up, string? Error);

/// <summary>
/// The agent of one host: makes the kernel of that host hold the lab nodes placed on it and their link ends, and
/// says how each end is. The database is the only thing it shares with the controller and the other agents: it
/// wakes on a NOTIFY (a hint), and runs a full pass on a timer anyway (the truth), so a lost notification costs
/// latency, never correctness. Each pass, for every lab with nodes here: the lab's definition and placements are
/// read, compiled for this host (<see cref="LabTopology.CompileForHost"/>: nodes, local veth pairs, and a VXLAN per
/// cross-host link end whose tunnel runs in this host's namespace), applied (which repairs drift), verified from
/// the kernel and reported per link end. A lab on the ovs fabric is compiled by
/// <see cref="LabTopology.CompileOvsForHost"/> instead: veth ends on the lab's bridge of this host's Open vSwitch,
/// one VTEP per remote host whose links are reference-counted in the store. A lab part applied before and no longer
/// placed here is destroyed (with its bridge and its VTEPs' references).
/// </summary>
public sealed partial class LabAgent
{
    /// <summary>The first wait before a failed pass is tried again (it doubles, up to the resync).</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMilliseconds(500);

    private readonly ClusterStore _cluster;
    private readonly ILabStore _labs;
    private readonly LabAgentOptions _options;
    private readonly ILogger _logger;

    /// <summary>An agent on <paramref name="cluster"/> (placements, hosts, VNIs, reports) and <paramref name="labs"/>
    /// (the labs' definitions).</summary>
    public LabAgent(ClusterStore cluster, ILabStore labs, LabAgentOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(labs);
        ArgumentNullException.ThrowIfNull(options);
        _cluster = cluster;
        _labs = labs;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Passes run so far (hinted or timed).</summary>
    public int Passes { get; private set; }

    /// <summary>Registers the host, then heartbeats and runs passes until <paramref name="cancellationToken"/> ends:
    /// after a hint for this host or one of its labs, after the kernel announced a link change in a node namespace
    /// here (<see cref="LabAgentOptions.KernelDebounce"/>), or after <see cref="LabAgentOptions.Resync"/>; a pass that
    /// failed (the database away), or left a lab with an error or an end here that did not verify, is tried again
    /// after <see cref="RetryAfterFailure"/>, doubling up to the resync. The
    /// listener connects again by itself when the server went away, and its reconnection wakes a pass.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var version = typeof(LabAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        await _cluster.RegisterHostAsync(new HostRegistration(_options.Host, _options.Underlay, Environment.ProcessId, version) { WireGuardKey = HostPublicKey() }, cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var wake = new SemaphoreSlim(0, 1);
        await using var listener = new ClusterListener(_cluster.ConnectionString);
        await listener.StartAsync(stop.Token).ConfigureAwait(false);
        var hints = ListenAsync(listener, wake, stop.Token);
        var heartbeat = HeartbeatAsync(stop.Token);
        await using var kernel = _options.KernelDebounce is { } debounce ? new KernelWatch(() => Wake(wake), debounce, _logger) : null;
        try
        {
            var retry = TimeSpan.Zero;
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var results = await PassAsync(cancellationToken).ConfigureAwait(false);
                    // A lab whose apply failed or whose ends here did not verify (a namespace still being deleted,
                    // say) is tried again soon as well: no kernel event may come to wake it before the resync.
                    retry = results.Any(r => r.Error is not null || r.Up < r.Ends) ? NextRetry(retry) : TimeSpan.Zero;
                    if (kernel is not null)
                    {
                        kernel.Passed(results.Any(r => r.Error is not null));
                        await FollowKernelAsync(kernel, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database away, say: tried again soon (500 ms, doubling up to the resync), not a resync later.
                    LogPassFailed(_logger, ex.Message);
                    retry = NextRetry(retry);
                }

                try
                {
                    await wake.WaitAsync(retry == TimeSpan.Zero ? _options.Resync : retry, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(Quietly(hints), Quietly(heartbeat)).ConfigureAwait(false);
            await ProbesStoppedAsync().ConfigureAwait(false);
        }
    }

    private TimeSpan NextRetry(TimeSpan retry) =>
        retry == TimeSpan.Zero ? RetryAfterFailure : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _options.Resync.Ticks));

    /// <summary>One full pass: every lab placed here applied, verified and reported; parts no longer placed here
    /// destroyed.</summary>
    public async Task<IReadOnlyList<AgentLabResult>> PassAsync(CancellationToken cancellationToken)
    {
        Passes++;
        var placements = await _cluster.ListPlacementsOnHostAsync(_options.Host, cancellationToken).ConfigureAwait(false);
        var labs = placements.Select(p => p.Lab).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var results = new List<AgentLabResult>();
        IReadOnlyList<HostStatus>? hosts = null;
        foreach (var lab in labs)
        {
            hosts ??= await _cluster.ListHostsAsync(_options.HostTimeout, cancellationToken).ConfigureAwait(false);
            results.Add(await LabPassAsync(lab, hosts, cancellationToken).ConfigureAwait(false));
        }

        foreach (var (lab, topology) in AppliedHere().Where(a => !labs.Contains(a.Lab, StringComparer.Ordinal)))
        {
            results.Add(await RemoveAsync(lab, topology, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    private async Task<AgentLabResult> LabPassAsync(string name, IReadOnlyList<HostStatus> hosts, CancellationToken cancellationToken)
    {
        var underlays = hosts.ToDictionary(h => h.Id, h => h.Underlay);
        var stored = await _labs.GetLabAsync(name, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return new AgentLabResult(name, false, 0, 0, 0, "placed here, but the lab is not stored");
        }

        var loaded = LabLoader.Parse(stored.Definition, stored.SourcePath ?? name);
        if (loaded.Lab is not { } lab)
        {
            return new AgentLabResult(name, false, 0, 0, 0, "its stored definition does not read: " + string.Join("; ", loaded.Errors));
        }

        // host: auto nodes: on the hosts the controller chose (stored with the placements that woke this pass).
        lab = await ClusterLabs.WithStoredPlacementsAsync(_cluster, lab, cancellationToken).ConfigureAwait(false);
        if (lab.AwaitsPlacement)
        {
            return new AgentLabResult(name, false, 0, 0, 0, "some host: auto node has no host chosen yet: the next pass tries again");
        }

        if (lab.Fabric == LabFabric.Ovs)
        {
            return await OvsLabPassAsync(lab, underlays, cancellationToken).ConfigureAwait(false);
        }

        var vnis = (await _cluster.ListVnisAsync(name, cancellationToken).ConfigureAwait(false))
            .ToDictionary(v => LinkId.Parse(v.Key), v => (uint)v.Value);
        var ends = LocalEnds.Of(lab, _options.Host);
        TopologySpec spec;
        try
        {
            var wireguard = await WireGuardOfAsync(lab, hosts, cancellationToken).ConfigureAwait(false);
            spec = LabTopology.CompileForHost(lab, _options.Host, underlays, vnis, _options.HostNamespace, wireguard: wireguard);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            await ReportAsync(name, ends, _ => ex.Message, cancellationToken).ConfigureAwait(false);
            return new AgentLabResult(name, false, 0, ends.Count, 0, ex.Message);
        }

        var controller = new TopologyController(spec, new ControllerOptions { StateDirectory = _options.StateDirectory });
        var applied = await controller.ApplyAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var problems = await LocalEnds.VerifyAsync(lab, _options.Host, spec, vnis, _options.HostNamespace, cancellationToken).ConfigureAwait(false);
        await ReportAsync(name, ends, e => problems[e] ?? (applied.Error is { } error ? "apply: " + error : null), cancellationToken).ConfigureAwait(false);
        var changes = applied.Created + applied.Changed + applied.Deleted;
        if (changes > 0 || applied.Error is not null)
        {
            LogApplied(_logger, name, changes, applied.Error ?? "none");
        }

        return new AgentLabResult(name, false, changes, ends.Count, ends.Count(e => problems[e] is null), applied.Error);
    }

    private async Task ReportAsync(string lab, IReadOnlyList<LocalEnd> ends, Func<LocalEnd, string?> problem, CancellationToken cancellationToken)
    {
        var reports = ends.Select(end => (End: end, Why: problem(end)))
            .Select(e => new LinkEndReport(lab, e.End.Link.Id.Value, e.End.Side, _options.Host, e.Why is null ? LinkEndState.Up : LinkEndState.Error, e.Why))
            .ToList();
        await _cluster.ReportLinkEndsAsync(reports, cancellationToken).ConfigureAwait(false);
    }

    private async Task<AgentLabResult> RemoveAsync(string lab, string topology, CancellationToken cancellationToken)
    {
        // The host's namespace is named so that what the part made there (the ovs fabric's outer ends and VTEPs) is
        // deleted too; the namespace itself is used, not the lab's, and stays.
        var spec = new TopologySpec(topology) { Namespaces = _options.HostNamespace is { } hostNs ? [new TopologyNamespace(hostNs)] : [] };
        var controller = new TopologyController(spec, new ControllerOptions { StateDirectory = _options.StateDirectory });
        var result = await controller.DestroyAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.Error is null && Directory.Exists(controller.StatePath))
        {
            Directory.Delete(controller.StatePath, recursive: true);
        }

        var switchError = await RemoveOvsAsync(lab, cancellationToken).ConfigureAwait(false);
        await _cluster.ForgetLinkEndsAsync(lab, _options.Host, cancellationToken).ConfigureAwait(false);
        LogRemoved(_logger, lab, result.Deleted, result.Error ?? "none");
        return new AgentLabResult(lab, true, result.Deleted, 0, 0, result.Error ?? switchError);
    }

    /// <summary>The labs whose part was applied here before: <c>lab-NAME@HOST</c> directories with records.</summary>
    private IEnumerable<(string Lab, string Topology)> AppliedHere()
    {
        if (!Directory.Exists(_options.StateDirectory))
        {
            yield break;
        }

        var suffix = "@" + _options.Host.Value;
        foreach (var directory in Directory.EnumerateDirectories(_options.StateDirectory, LabTopology.Prefix + "*" + suffix))
        {
            var topology = Path.GetFileName(directory);
            if (File.Exists(Path.Combine(directory, "records.json")))
            {
                yield return (topology[LabTopology.Prefix.Length..^suffix.Length], topology);
            }
        }
    }

    private async Task ListenAsync(ClusterListener listener, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        await foreach (var hint in listener.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // A frame probe (LabAgent.Probes.cs) wakes no pass; after a reconnection, probe hints may have been lost.
            if ((hint.Probe && hint.Host == _options.Host) || hint.Reconnected)
            {
                OnProbeHint(cancellationToken);
            }

            if (hint.Probe)
            {
                continue;
            }

            // A hint for another host only: not ours. A lab hint may concern us (a node of it here, or one that left).
            if (hint.Host is { } host && host != _options.Host && hint.Lab is null)
            {
                continue;
            }

            Wake(wake);
        }
    }

    private static void Wake(SemaphoreSlim wake)
    {
        if (wake.CurrentCount == 0)
        {
            try
            {
                wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken: one pass covers both hints.
            }
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.Heartbeat);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                _ = await _cluster.HeartbeatAsync(_options.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogHeartbeatFailed(_logger, ex.Message);
            }
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 8100, Level = LogLevel.Warning, Message = "agent pass failed: {Error} (the next pass tries again)")]
    private static partial void LogPassFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 8101, Level = LogLevel.Information, Message = "lab {Lab}: {Changes} changes, error: {Error}")]
    private static partial void LogApplied(ILogger logger, string lab, int changes, string error);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Information, Message = "lab {Lab} no longer placed here: removed {Deleted} objects, error: {Error}")]
    private static partial void LogRemoved(ILogger logger, string lab, int deleted, string error);

    [LoggerMessage(EventId = 8103, Level = LogLevel.Warning, Message = "heartbeat failed: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string error);
}
