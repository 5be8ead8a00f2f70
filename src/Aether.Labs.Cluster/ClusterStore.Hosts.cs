using System.Net;
using Npgsql;

namespace Aether.Labs.Cluster;

public sealed partial class ClusterStore
{
    /// <summary>The longest agent version text.</summary>
    public const int MaxVersionLength = 64;

    private const string HostColumns = "id, underlay, agent_pid, version, registered_at, last_seen, now() - last_seen <= $1, now() - last_seen, wireguard_key";

    /// <summary>
    /// Registers <paramref name="registration"/>'s host, or updates it (underlay, agent pid, version); either way
    /// <c>last_seen</c> becomes the database's <c>now()</c>. Sends <c>host=ID</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid field (named in the message); nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<HostStatus> RegisterHostAsync(HostRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ClusterNames.Host(registration.Id);
        ClusterNames.Underlay(registration.Underlay);
        if (registration.AgentPid is <= 0)
        {
            throw new ArgumentException($"agent pid {registration.AgentPid}: must be positive", nameof(registration));
        }

        if (registration.Version is { } version && (version.Length is 0 or > MaxVersionLength || version.Any(char.IsControl)))
        {
            throw new ArgumentException($"version '{version}': 1 to {MaxVersionLength} printable characters", nameof(registration));
        }

        return RunAsync($"register host '{registration.Id}'", async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO cluster_hosts (id, underlay, agent_pid, version, wireguard_key) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET underlay = excluded.underlay, agent_pid = excluded.agent_pid,
                    version = excluded.version, last_seen = now(),
                    wireguard_key = COALESCE(excluded.wireguard_key, cluster_hosts.wireguard_key)
                """, cancellationToken, registration.Id.Value, registration.Underlay, registration.AgentPid, registration.Version, registration.WireGuardKey?.ToString()).ConfigureAwait(false);
            await NotifyAsync(connection, transaction, new ClusterHint(null, registration.Id), cancellationToken).ConfigureAwait(false);
            var rows = await QueryAsync(connection, transaction, $"SELECT {HostColumns} FROM cluster_hosts WHERE id = $2", ReadHost, cancellationToken, TimeSpan.FromDays(36_500), registration.Id.Value).ConfigureAwait(false);
            return rows[0];
        }, cancellationToken);
    }

    /// <summary>Records a heartbeat of <paramref name="host"/>: <c>last_seen</c> = the database's <c>now()</c>,
    /// returned; null when the host is not registered (register it again).</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<DateTimeOffset?> HeartbeatAsync(HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Host(host);
        return RunAsync($"heartbeat of host '{host}'", async (connection, transaction) =>
        {
            var rows = await QueryAsync(connection, transaction, "UPDATE cluster_hosts SET last_seen = now() WHERE id = $1 RETURNING last_seen",
                r => r.GetFieldValue<DateTimeOffset>(0), cancellationToken, host.Value).ConfigureAwait(false);
            return rows.Count == 0 ? (DateTimeOffset?)null : rows[0];
        }, cancellationToken);
    }

    /// <summary>Every registered host, by id, each alive when its last heartbeat is at most
    /// <paramref name="timeout"/> old by the database's clock (so hosts' clocks do not matter).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<HostStatus>> ListHostsAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ClusterNames.Timeout(timeout);
        return RunAsync<IReadOnlyList<HostStatus>>("list hosts", async (connection, transaction) =>
            await QueryAsync(connection, transaction, $"SELECT {HostColumns} FROM cluster_hosts ORDER BY id", ReadHost, cancellationToken, timeout).ConfigureAwait(false),
            cancellationToken);
    }

    private static HostStatus ReadHost(NpgsqlDataReader reader) => new(
        HostId.Parse(reader.GetString(0)),
        reader.GetFieldValue<IPAddress>(1),
        reader.IsDBNull(2) ? null : reader.GetInt32(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.GetFieldValue<DateTimeOffset>(4),
        reader.GetFieldValue<DateTimeOffset>(5),
        reader.GetBoolean(6),
        reader.GetTimeSpan(7))
    {
        // A key that does not read (written by hand) is as none: the tunnels to that host wait for its agent.
        WireGuardKey = !reader.IsDBNull(8) && Aether.WireGuard.WireGuardKey.TryParse(reader.GetString(8), out var key) ? key : null,
    };
}
