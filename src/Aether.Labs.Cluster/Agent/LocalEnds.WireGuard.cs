using System.Globalization;
using Aether.Topology;
using Aether.WireGuard;

namespace Aether.Labs.Cluster.Agent;

/// <summary>The check of a host's WireGuard tunnels (<c>transport: wireguard</c>): each end carried by one is only as
/// good as its tunnel.</summary>
internal static partial class LocalEnds
{
    /// <summary>The namespace the host's tunnels run in, as <see cref="LabObservation"/> names it.</summary>
    private static string TunnelNamespace(string? hostNamespace) => hostNamespace ?? LabObservation.Host;

    /// <summary>Each remote host's tunnel problem, or null when it verifies: the device the compile made for it is in
    /// the host's namespace with this part's mark, up, and a WireGuard device listening on the compiled port with the
    /// remote host's key as a peer at its endpoint, allowed its inner address.</summary>
    private static async Task<Dictionary<HostId, string?>> TunnelProblemsAsync(LabSpec lab, HostId host, TopologySpec spec, string? hostNamespace, LabObservation observed, CancellationToken cancellationToken)
    {
        var problems = new Dictionary<HostId, string?>();
        var devices = spec.Links.Where(l => l.Kind == TopologyLinkKind.WireGuard).ToDictionary(l => l.Name, StringComparer.Ordinal);
        if (devices.Count == 0)
        {
            return problems;
        }

        var ns = TunnelNamespace(hostNamespace);
        var mark = WireGuardSource.MarkOf(LabTopology.NameOf(lab.Name, host));
        IWireGuardBackend? backend = null;
        try
        {
            foreach (var remote in lab.Hosts.Where(h => h != host))
            {
                var name = CrossHostWireGuard.DeviceName(lab.Name, host, remote);
                if (devices.TryGetValue(name, out var want))
                {
                    problems[remote] = await ProblemAsync(remote, name, want).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (backend is not null)
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }
        }

        return problems;

        async Task<string?> ProblemAsync(HostId remote, string name, TopologyLink want)
        {
            var what = $"the WireGuard tunnel {name} towards host {remote}";
            if (observed.Missing.TryGetValue(ns, out var why))
            {
                return $"{what}: its namespace is missing ({why})";
            }

            if (observed.Find(ns, name) is not { } found)
            {
                return $"{what} is missing";
            }

            if (!string.Equals(found.Alias, mark, StringComparison.Ordinal))
            {
                return $"{what} is not this lab's (alias '{found.Alias}')";
            }

            if (!found.IsUp)
            {
                return $"{what} is down";
            }

            backend ??= await WireGuardBackends.OpenAsync(observed.NamespaceOf(ns), new WireGuardBackendOptions { Detached = true }, cancellationToken).ConfigureAwait(false);
            if (await backend.GetDeviceAsync(name, cancellationToken).ConfigureAwait(false) is not { } device)
            {
                return $"{what} is no WireGuard device (nothing answers for it)";
            }

            var peer = want.WireGuard!.Peers[0];
            if (want.WireGuard.ListenPort is { } port && device.ListenPort != port)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{what} listens on port {device.ListenPort}, want {port}");
            }

            if (device.FindPeer(peer.PublicKey) is not { } has)
            {
                return $"{what} does not have host {remote}'s key {peer.PublicKey} as a peer";
            }

            if (!Equals(has.Endpoint, peer.Endpoint))
            {
                return $"{what} reaches host {remote} at {has.Endpoint?.ToString() ?? "no endpoint"}, want {peer.Endpoint}";
            }

            return has.AllowedIPs.SequenceEqual(peer.AllowedIPs)
                ? null
                : $"{what} allows {string.Join(", ", has.AllowedIPs)} from host {remote}, want {string.Join(", ", peer.AllowedIPs)}";
        }
    }
}
