using System.Text.Json;
using Aether.Labs;
using Aether.Labs.Supervision;
using Aether.Server.Api;

namespace Aether.Server.Ui;

/// <summary>Builds <see cref="LabUiView"/> from a lab, what the kernel holds now and what the store has.</summary>
internal static class LabUiViews
{
    private static readonly JsonSerializerOptions KeyJson = new(JsonSerializerDefaults.Web);

    /// <summary>The view of <paramref name="spec"/> as <paramref name="live"/> read it.</summary>
    public static LabUiView From(LabSpec spec, LabLiveState live, IReadOnlyList<LinkState> stored, LabHost host, string lab)
    {
        var host_ = Environment.MachineName;
        var ends = live.Interfaces.ToDictionary(i => (i.Node, i.Linux));
        var storedById = stored.ToDictionary(s => s.Id);
        var liveById = live.Links.ToDictionary(s => s.Id);
        var nodes = spec.Nodes.Select(n => new NodeUiView(
            n.Name,
            n.Kind,
            host_,
            n.Namespace,
            File.Exists(Path.Combine(Netlink.Namespaces.NetworkNamespace.RunDirectory, n.Namespace)),
            host.ProcessOf(lab, n.Name)?.State switch
            {
                null => n.Exec.Count > 0 ? "stopped" : null,
                NodeProcessState.Running => "running",
                NodeProcessState.BackingOff => "backing-off",
                _ => "stopped",
            }));
        var links = spec.Links.Select(l =>
        {
            var now = liveById.GetValueOrDefault(l.Id);
            var kept = storedById.GetValueOrDefault(l.Id);
            return new LinkUiView(
                l.Id.Value,
                now is null ? "pending" : LinkView.StateName(now.Status),
                kept is null ? null : LinkView.StateName(kept.Status),
                now?.Error,
                now?.Vlan ?? kept?.Vlan,
                null,
                l.Mtu,
                kept?.Checked,
                End(spec, l.A, l.B, ends),
                End(spec, l.B, l.A, ends));
        });
        return new LabUiView(lab, spec.Fabric == LabFabric.Ovs ? "ovs" : "veth", live.Observed, host.RuntimeOf(lab), [.. nodes], [.. links], null);
    }

    private static LinkEndUiView End(LabSpec spec, LabEndpoint end, LabEndpoint peer, Dictionary<(string Node, string Linux), InterfaceObservation> ends)
    {
        var ns = spec.Nodes.First(n => string.Equals(n.Name, end.Node, StringComparison.Ordinal)).Namespace;
        var seen = ends.GetValueOrDefault((end.Node, end.Linux));
        return new LinkEndUiView(
            end.Node,
            end.Vendor,
            end.Linux,
            ns,
            peer.ToString(),
            seen is null ? null : KernelInterfaceInfo.From(seen),
            seen?.PeerIndex,
            seen?.PeerNamespaceId);
    }

    /// <summary>The view of a lab placed across hosts: its nodes with the host each is placed on and its links as
    /// their hosts' agents last reported them, no kernel facts (the agents on the other hosts hold them).</summary>
    public static async Task<LabUiView> PlacedAsync(LabSpec spec, LabHost host, string lab, CancellationToken cancellationToken)
    {
        var status = await host.PlacedStatusAsync(spec, cancellationToken).ConfigureAwait(false);
        var placements = status.Placements.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal);
        var stored = (await host.Store.GetLinksAsync(lab, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Id);
        var nodes = spec.Nodes.Select(n => new NodeUiView(n.Name, n.Kind, placements.GetValueOrDefault(n.Name, "unplaced"), n.Namespace, Present: true, Process: null));
        var reported = status.Links.ToDictionary(l => l.LinkId, StringComparer.Ordinal);
        var links = spec.Links.Select(l =>
        {
            var kept = stored.GetValueOrDefault(l.Id);
            var storedState = kept is null ? "pending" : LinkView.StateName(kept.Status);
            var ends = reported.GetValueOrDefault(l.Id.Value);
            var state = ends is null ? storedState : ends.State switch
            {
                Aether.Labs.Cluster.LinkEndState.Up => "up",
                Aether.Labs.Cluster.LinkEndState.Down => "down",
                Aether.Labs.Cluster.LinkEndState.Error => "error",
                _ => "creating",
            };
            LinkEndUiView End(LabEndpoint end, LabEndpoint peer) => new(end.Node, end.Vendor, end.Linux, spec.Nodes.First(n => string.Equals(n.Name, end.Node, StringComparison.Ordinal)).Namespace, peer.ToString(), null, null, null);
            return new LinkUiView(l.Id.Value, state, storedState, ends?.Message ?? kept?.Error, kept?.Vlan, null, l.Mtu, kept?.Checked, End(l.A, l.B), End(l.B, l.A));
        });
        return new LabUiView(lab, spec.Fabric == LabFabric.Ovs ? "ovs" : "veth", DateTimeOffset.UtcNow, host.RuntimeOf(lab), [.. nodes], [.. links],
            "placed across hosts: links as their hosts' agents last reported them, kernel facts only on each host (aether lab links, GET /v1/labs/" + lab + "/tunnels)");
    }

    /// <summary>What decides whether a view is news: everything but the times of reading.</summary>
    public static string Key(LabUiView view) => JsonSerializer.Serialize(
        view with
        {
            Observed = default,
            Links = [.. view.Links.Select(l => l with { Checked = null })],
            Runtime = view.Runtime with { Since = default },
        },
        KeyJson);
}
