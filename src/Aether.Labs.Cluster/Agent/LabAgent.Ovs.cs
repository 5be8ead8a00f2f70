using System.Net;
using Aether.Ovsdb;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Aether.Topology;
using Microsoft.Extensions.Logging;

namespace Aether.Labs.Cluster.Agent;

/// <summary>The ovs fabric's pass: VTEP references in the store, the kernel part, the bridge, the check.</summary>
public sealed partial class LabAgent
{
    /// <summary>The owner mark of <paramref name="lab"/>'s bridge and ports on this host's Open vSwitch.</summary>
    private string SwitchOwner(string lab) => LabTopology.NameOf(lab, _options.Host);

    /// <summary>
    /// One lab on the ovs fabric: the store's VTEP references brought to the links that cross from here (attach the
    /// missing, detach the gone: a VTEP row is made with its first link and deleted with its last, and a repeated pass
    /// or a restarted agent changes nothing), then the topology (veth ends, a VXLAN device per VTEP) and the bridge
    /// (tagged ports, trunked VTEP ports) applied, each end verified and reported.
    /// </summary>
    private async Task<AgentLabResult> OvsLabPassAsync(LabSpec lab, IReadOnlyDictionary<HostId, IPAddress> underlays, CancellationToken cancellationToken)
    {
        var name = lab.Name;
        var ends = LocalEnds.Of(lab, _options.Host);
        if (_options.Ovsdb is not { } endpoint)
        {
            return await FailAsync($"lab {name} is on the ovs fabric and this agent has no Open vSwitch (aether agent --ovsdb unix:PATH)").ConfigureAwait(false);
        }

        OvsHostPart part;
        IReadOnlyDictionary<LinkId, int> tags;
        IReadOnlyDictionary<HostId, OvsVtep> vteps;
        try
        {
            tags = (await _cluster.ListTagsAsync(name, cancellationToken).ConfigureAwait(false)).ToDictionary(t => LinkId.Parse(t.Key), t => t.Value);
            vteps = await SyncVtepsAsync(lab, cancellationToken).ConfigureAwait(false);
            part = LabTopology.CompileOvsForHost(lab, _options.Host, underlays, tags, vteps, _options.HostNamespace);
        }
        catch (ArgumentException ex)
        {
            return await FailAsync(ex.Message).ConfigureAwait(false);
        }

        var controller = new TopologyController(part.Topology, new ControllerOptions { StateDirectory = _options.StateDirectory });
        var applied = await controller.ApplyAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var reopened = await DropStalePortsAsync(endpoint, SwitchOwner(name), part.Bridge, cancellationToken).ConfigureAwait(false);
        PassResult bridge;
        await using (var source = new OvsBridgeSource(endpoint, SwitchOwner(name), part.Bridge))
        {
            bridge = await source.RunPassAsync(cancellationToken).ConfigureAwait(false);
        }

        if (bridge.Applied.Any(op => op is OvsOperation { Change: OvsChange.CreatePort }))
        {
            await SwitchPorts.WaitOpenedAsync(endpoint, part.Bridge, TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        }

        var problems = await LocalEnds.VerifyOvsAsync(lab, _options.Host, part, tags, vteps, underlays, endpoint, _options.HostNamespace, cancellationToken).ConfigureAwait(false);
        var error = applied.Error ?? (bridge.Error is { } e ? "switch: " + e.Message : null);
        await ReportAsync(name, ends, end => problems[end] ?? (error is null ? null : "apply: " + error), cancellationToken).ConfigureAwait(false);
        var changes = applied.Created + applied.Changed + applied.Deleted + bridge.Applied.Count + reopened;
        if (changes > 0 || error is not null)
        {
            LogApplied(_logger, name, changes, error ?? "none");
        }

        return new AgentLabResult(name, false, changes, ends.Count, ends.Count(end => problems[end] is null), error);

        async Task<AgentLabResult> FailAsync(string why)
        {
            await ReportAsync(name, ends, _ => why, cancellationToken).ConfigureAwait(false);
            return new AgentLabResult(name, false, 0, ends.Count, 0, why);
        }
    }

    /// <summary>Deletes our ports whose device ovs-vswitchd no longer has open (the device was deleted and made again,
    /// by this pass's apply say: the switch keeps the port but not the device, so nothing crosses it), so that the
    /// bridge's pass adds them anew. Returns how many.</summary>
    private async Task<int> DropStalePortsAsync(OvsdbEndpoint endpoint, string owner, DesiredOvsBridge bridge, CancellationToken cancellationToken)
    {
        var stale = await SwitchPorts.StaleAsync(endpoint, owner, bridge, _options.HostNamespace, cancellationToken).ConfigureAwait(false);
        if (stale.Count == 0)
        {
            return 0;
        }

        await using var client = await OvsdbClient.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var changes = new OvsChanges(owner);
        foreach (var at in stale)
        {
            changes.DeletePort(at.Port, at.Bridge);
            LogReopen(_logger, at.Port.Name);
        }

        await new OpenVSwitchDatabase(client).ApplyAsync(changes, cancellationToken).ConfigureAwait(false);
        return stale.Count;
    }

    /// <summary>Brings the store's references of this host's VTEPs of <paramref name="lab"/> to the links that cross
    /// from here now: each such link attached to the VTEP towards its remote host, every other link of the lab
    /// detached. Only differences are written (an unchanged lab writes nothing, so no notification wakes the other
    /// agents again). Returns the VTEPs in use, by remote host.</summary>
    private async Task<IReadOnlyDictionary<HostId, OvsVtep>> SyncVtepsAsync(LabSpec lab, CancellationToken cancellationToken)
    {
        var host = _options.Host;
        var wanted = lab.CrossHostLinks
            .Where(l => lab.HostOf(l.A) == host || lab.HostOf(l.B) == host)
            .Select(l => (Link: l.Id.Value, Remote: lab.HostOf(lab.HostOf(l.A) == host ? l.B : l.A)!.Value))
            .ToHashSet();
        var tunnels = (await _cluster.ListTunnelsOnHostAsync(host, cancellationToken).ConfigureAwait(false))
            .Where(t => string.Equals(t.Vtep.Lab, lab.Name, StringComparison.Ordinal))
            .ToDictionary(t => t.Vtep.Remote);
        var vteps = new Dictionary<HostId, OvsVtep>();
        foreach (var (link, remote) in wanted.OrderBy(w => w.Link, StringComparer.Ordinal))
        {
            var vtep = tunnels.TryGetValue(remote, out var tunnel) && tunnel.Links.Contains(link, StringComparer.Ordinal) ? tunnel.Vtep : null;
            if (vtep is null)
            {
                var change = await _cluster.AttachAsync(lab.Name, host, remote, link, cancellationToken).ConfigureAwait(false);
                vtep = change.Vtep!;
                LogVtep(_logger, lab.Name, "attached", link, vtep.PortName, change.LinkCount);
            }

            vteps[remote] = new OvsVtep(remote, vtep.PortName, (uint)vtep.Vni);
        }

        // Detached after the attaches: a VTEP whose links are replaced keeps its row instead of going and coming back.
        foreach (var tunnel in tunnels.Values)
        {
            foreach (var link in tunnel.Links.Where(l => !wanted.Contains((l, tunnel.Vtep.Remote))))
            {
                var change = await _cluster.DetachAsync(lab.Name, host, tunnel.Vtep.Remote, link, cancellationToken).ConfigureAwait(false);
                LogVtep(_logger, lab.Name, "detached", link, tunnel.Vtep.PortName, change.LinkCount);
            }
        }

        return vteps;
    }

    /// <summary>A lab no longer here: its bridge and ports on this host's switch deleted, its VTEPs' references
    /// detached (the last detach deletes the VTEP's row). Returns why the switch could not be cleaned, or null.</summary>
    private async Task<string?> RemoveOvsAsync(string lab, CancellationToken cancellationToken)
    {
        foreach (var tunnel in (await _cluster.ListTunnelsOnHostAsync(_options.Host, cancellationToken).ConfigureAwait(false)).Where(t => string.Equals(t.Vtep.Lab, lab, StringComparison.Ordinal)))
        {
            foreach (var link in tunnel.Links)
            {
                _ = await _cluster.DetachAsync(lab, _options.Host, tunnel.Vtep.Remote, link, cancellationToken).ConfigureAwait(false);
            }
        }

        if (_options.Ovsdb is not { } endpoint)
        {
            return null;
        }

        await using var source = new OvsBridgeSource(endpoint, SwitchOwner(lab), null);
        var result = await source.RunPassAsync(cancellationToken).ConfigureAwait(false);
        return result.Error is { } error ? "switch: " + error.Message : null;
    }

    [LoggerMessage(EventId = 8105, Level = LogLevel.Information, Message = "port {Port}: ovs-vswitchd no longer has its device open (made again): port added anew")]
    private static partial void LogReopen(ILogger logger, string port);

    [LoggerMessage(EventId = 8104, Level = LogLevel.Information, Message = "lab {Lab}: {Action} link {Link} of VTEP {Port} ({Count} links)")]
    private static partial void LogVtep(ILogger logger, string lab, string action, string link, string port, int count);
}
