using System.Globalization;

namespace Aether.Labs.Cluster;

/// <summary>The WireGuard tunnel of a lab between two hosts (<see cref="HostA"/> sorts first).</summary>
/// <param name="Lab">The lab.</param>
/// <param name="HostA">One host.</param>
/// <param name="HostB">The other.</param>
/// <param name="Slot">Its slot, unique in the cluster: <see cref="CrossHostWireGuard"/> derives its port, its inner
/// addresses from it.</param>
public sealed record WireGuardTunnel(string Lab, HostId HostA, HostId HostB, int Slot)
{
    /// <summary>The other host of the pair, seen from <paramref name="host"/>, or null when it is not one of the
    /// two.</summary>
    public HostId? RemoteOf(HostId host) => host == HostA ? HostB : host == HostB ? HostA : null;
}

public sealed partial class ClusterStore
{
    /// <summary>
    /// The tunnel of each pair of hosts in <paramref name="pairs"/> for lab <paramref name="lab"/>: the one it holds,
    /// or a new one with the smallest slot free in the cluster (<c>cluster_wireguard_tunnels</c>; two writers that pick
    /// the same slot: the loser runs again). A pair keeps its slot until <see cref="ReleaseWireGuardTunnelsAsync"/>.
    /// Sends <c>lab=NAME</c> when one was allocated.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid lab name, or a pair of one host with itself; nothing is
    /// written.</exception>
    /// <exception cref="InvalidOperationException">Every slot is taken; nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<WireGuardTunnel>> AssignWireGuardTunnelsAsync(string lab, IEnumerable<(HostId, HostId)> pairs, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(pairs);
        var wanted = pairs.Select(p => Ordered(p.Item1, p.Item2)).Distinct().OrderBy(p => p.A.Value, StringComparer.Ordinal).ThenBy(p => p.B.Value, StringComparer.Ordinal).ToList();
        return RunAsync<IReadOnlyList<WireGuardTunnel>>($"assign WireGuard tunnels of lab '{lab}'", async (connection, transaction) =>
        {
            var used = (await QueryAsync(connection, transaction, "SELECT slot FROM cluster_wireguard_tunnels", r => r.GetInt32(0), cancellationToken).ConfigureAwait(false)).ToHashSet();
            var held = await TunnelsAsync(connection, transaction, lab, cancellationToken).ConfigureAwait(false);
            var tunnels = new List<WireGuardTunnel>();
            var next = 0;
            var allocated = false;
            foreach (var (a, b) in wanted)
            {
                if (held.FirstOrDefault(t => t.HostA == a && t.HostB == b) is { } kept)
                {
                    tunnels.Add(kept);
                    continue;
                }

                while (used.Contains(next))
                {
                    next++;
                }

                if (next >= CrossHostWireGuard.Slots)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"lab '{lab}': no free WireGuard tunnel slot for hosts {a} and {b}: all {CrossHostWireGuard.Slots} are taken"));
                }

                await ExecuteAsync(connection, transaction, "INSERT INTO cluster_wireguard_tunnels (lab, host_a, host_b, slot) VALUES ($1, $2, $3, $4)", cancellationToken, lab, a.Value, b.Value, next).ConfigureAwait(false);
                tunnels.Add(new WireGuardTunnel(lab, a, b, next));
                used.Add(next);
                allocated = true;
            }

            if (allocated)
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, null), cancellationToken).ConfigureAwait(false);
            }

            return tunnels;
        }, cancellationToken, retryUnique: true);
    }

    /// <summary>Gives back lab <paramref name="lab"/>'s tunnels between the pairs of hosts in
    /// <paramref name="pairs"/> (every one of them when null); returns how many were held.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> ReleaseWireGuardTunnelsAsync(string lab, IEnumerable<(HostId, HostId)>? pairs = null, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        var gone = pairs?.Select(p => Ordered(p.Item1, p.Item2)).ToList();
        return RunAsync($"release WireGuard tunnels of lab '{lab}'", (connection, transaction) => gone is null
            ? ExecuteAsync(connection, transaction, "DELETE FROM cluster_wireguard_tunnels WHERE lab = $1", cancellationToken, lab)
            : ExecuteAsync(connection, transaction, "DELETE FROM cluster_wireguard_tunnels WHERE lab = $1 AND (host_a || ' ' || host_b) = ANY($2)", cancellationToken, lab, gone.Select(p => p.A.Value + " " + p.B.Value).ToArray()),
            cancellationToken);
    }

    /// <summary>Lab <paramref name="lab"/>'s WireGuard tunnels.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<WireGuardTunnel>> ListWireGuardTunnelsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        return RunAsync<IReadOnlyList<WireGuardTunnel>>($"list WireGuard tunnels of lab '{lab}'", async (connection, transaction) =>
            await TunnelsAsync(connection, transaction, lab, cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    private static Task<List<WireGuardTunnel>> TunnelsAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction, string lab, CancellationToken cancellationToken) =>
        QueryAsync(connection, transaction, "SELECT host_a, host_b, slot FROM cluster_wireguard_tunnels WHERE lab = $1 ORDER BY host_a, host_b",
            r => new WireGuardTunnel(lab, HostId.Parse(r.GetString(0)), HostId.Parse(r.GetString(1)), r.GetInt32(2)), cancellationToken, lab);

    private static (HostId A, HostId B) Ordered(HostId x, HostId y)
    {
        ClusterNames.Host(x);
        ClusterNames.Host(y);
        var order = string.CompareOrdinal(x.Value, y.Value);
        return order == 0
            ? throw new ArgumentException($"a WireGuard tunnel joins two hosts, not {x} with itself", nameof(x))
            : order < 0 ? (x, y) : (y, x);
    }
}
