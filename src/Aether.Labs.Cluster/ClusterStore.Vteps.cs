using System.Net;
using Npgsql;

namespace Aether.Labs.Cluster;

public sealed partial class ClusterStore
{
    private const string VtepColumns = """
        v.id, v.lab, v.host_id, v.remote_host_id, v.port_name, v.vni, h.underlay, r.underlay
        FROM cluster_vteps v JOIN cluster_hosts h ON h.id = v.host_id JOIN cluster_hosts r ON r.id = v.remote_host_id
        """;

    /// <summary>
    /// Attaches lab <paramref name="lab"/>'s link <paramref name="linkId"/> to the VTEP on <paramref name="host"/>
    /// towards <paramref name="remote"/>, creating the VTEP when this is its first link
    /// (<see cref="VtepAction.CreatePort"/>: create the kernel port). Attaching an attached link changes nothing.
    /// One transaction that holds the VTEP's row lock (<c>FOR UPDATE</c>, or the insert's), so an attach and a detach
    /// of one VTEP from two connections take turns: a VTEP never stays without links, a link never points at a
    /// deleted VTEP. Two attaches that both insert the same new VTEP: the loser's insert fails on the port name's
    /// unique index (not the conflict target) and its transaction is run again, finding the winner's row; a port name
    /// truly taken by another VTEP of the host still fails after the retries. The tunnel's VNI is allocated first (once per lab and host pair; both hosts' VTEPs use it).
    /// Sends <c>lab=NAME host=HOST</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid field, the same host twice, or a host that is not registered;
    /// nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public async Task<VtepChange> AttachAsync(string lab, HostId host, HostId remote, string linkId, CancellationToken cancellationToken = default)
    {
        var vni = await TunnelVniAsync(lab, host, remote, linkId, cancellationToken).ConfigureAwait(false);
        var portName = VtepNames.PortName(lab, remote);
        return await RunAsync($"attach link '{linkId}' of lab '{lab}' to the VTEP of host '{host}' to '{remote}'", async (connection, transaction) =>
        {
            var created = false;
            Vtep? vtep = null;
            while (vtep is null)
            {
                vtep = await LockVtepAsync(connection, transaction, lab, host, remote, cancellationToken).ConfigureAwait(false);
                if (vtep is null)
                {
                    // None: make it. The row inserted is ours (locked) until commit. Nothing inserted: another
                    // writer's row appeared meanwhile; lock that one.
                    var inserted = await ExecuteAsync(connection, transaction, """
                        INSERT INTO cluster_vteps (lab, host_id, remote_host_id, port_name, vni) VALUES ($1, $2, $3, $4, $5)
                        ON CONFLICT (lab, host_id, remote_host_id) DO NOTHING
                        """, cancellationToken, lab, host.Value, remote.Value, portName, vni).ConfigureAwait(false);
                    created = inserted == 1;
                }
            }

            var attached = await ExecuteAsync(connection, transaction, "INSERT INTO cluster_vtep_links (vtep_id, link_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                cancellationToken, vtep.Id, linkId).ConfigureAwait(false);
            var count = await CountLinksAsync(connection, transaction, vtep.Id, cancellationToken).ConfigureAwait(false);
            await NotifyAsync(connection, transaction, new ClusterHint(lab, host), cancellationToken).ConfigureAwait(false);
            return new VtepChange(created ? VtepAction.CreatePort : VtepAction.None, vtep, count, attached == 1);
        }, cancellationToken, retryUnique: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Detaches lab <paramref name="lab"/>'s link <paramref name="linkId"/> from the VTEP on <paramref name="host"/>
    /// towards <paramref name="remote"/>, deleting the VTEP with its last link (<see cref="VtepAction.DeletePort"/>:
    /// delete the kernel port). Detaching a link that is not attached changes nothing. One transaction holding the
    /// VTEP's row lock, as <see cref="AttachAsync"/>. Sends <c>lab=NAME host=HOST</c> when it changed something.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid field; nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<VtepChange> DetachAsync(string lab, HostId host, HostId remote, string linkId, CancellationToken cancellationToken = default)
    {
        CheckVtepArguments(lab, host, remote, linkId);
        return RunAsync($"detach link '{linkId}' of lab '{lab}' from the VTEP of host '{host}' to '{remote}'", async (connection, transaction) =>
        {
            var vtep = await LockVtepAsync(connection, transaction, lab, host, remote, cancellationToken).ConfigureAwait(false);
            if (vtep is null)
            {
                return new VtepChange(VtepAction.None, null, 0, false);
            }

            var detached = await ExecuteAsync(connection, transaction, "DELETE FROM cluster_vtep_links WHERE vtep_id = $1 AND link_id = $2", cancellationToken, vtep.Id, linkId).ConfigureAwait(false);
            var count = await CountLinksAsync(connection, transaction, vtep.Id, cancellationToken).ConfigureAwait(false);
            var deleted = count == 0 && await ExecuteAsync(connection, transaction, "DELETE FROM cluster_vteps WHERE id = $1", cancellationToken, vtep.Id).ConfigureAwait(false) == 1;
            if (detached == 1 || deleted)
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, host), cancellationToken).ConfigureAwait(false);
            }

            return new VtepChange(deleted ? VtepAction.DeletePort : VtepAction.None, vtep, count, detached == 1);
        }, cancellationToken);
    }

    /// <summary>Lab <paramref name="lab"/>'s VTEPs with their links (<c>GET /v1/labs/{lab}/tunnels</c>), by host then
    /// remote.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<Tunnel>> ListTunnelsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        return ListTunnelsAsync($"list tunnels of lab '{lab}'", "v.lab = $1", lab, cancellationToken);
    }

    /// <summary>The VTEPs on <paramref name="host"/>, of every lab, with their links (what its agent makes), by lab
    /// then remote.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<Tunnel>> ListTunnelsOnHostAsync(HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Host(host);
        return ListTunnelsAsync($"list tunnels on host '{host}'", "v.host_id = $1", host.Value, cancellationToken);
    }

    private Task<IReadOnlyList<Tunnel>> ListTunnelsAsync(string operation, string where, string value, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<Tunnel>>(operation, async (connection, transaction) =>
        {
            var vteps = await QueryAsync(connection, transaction, $"SELECT {VtepColumns} WHERE {where} ORDER BY v.lab, v.host_id, v.remote_host_id", ReadVtep, cancellationToken, value).ConfigureAwait(false);
            var links = (await QueryAsync(connection, transaction, "SELECT vtep_id, link_id FROM cluster_vtep_links WHERE vtep_id = ANY($1) ORDER BY link_id",
                r => (Vtep: r.GetInt64(0), Link: r.GetString(1)), cancellationToken, vteps.Select(v => v.Id).ToArray()).ConfigureAwait(false))
                .ToLookup(l => l.Vtep, l => l.Link);
            return [.. vteps.Select(v => new Tunnel(v, [.. links[v.Id]]))];
        }, cancellationToken);

    /// <summary>The tunnel VNI of the host pair in the lab, allocated (and committed) on its own first.</summary>
    private async Task<int> TunnelVniAsync(string lab, HostId host, HostId remote, string linkId, CancellationToken cancellationToken)
    {
        CheckVtepArguments(lab, host, remote, linkId);
        var pair = string.CompareOrdinal(host.Value, remote.Value) < 0 ? host.Value + "|" + remote.Value : remote.Value + "|" + host.Value;
        return await RunAsync($"allocate the VNI of lab '{lab}' between '{host}' and '{remote}'", async (connection, transaction) =>
        {
            var known = await QueryAsync(connection, transaction, "SELECT id FROM cluster_hosts WHERE id = ANY($1)", r => r.GetString(0), cancellationToken, (object)new[] { host.Value, remote.Value }).ConfigureAwait(false);
            foreach (var (field, id) in new[] { ("host id", host), ("remote host id", remote) })
            {
                if (!known.Contains(id.Value))
                {
                    throw new ArgumentException($"{field} '{id}': not registered", field);
                }
            }

            return (await VniAsync(connection, transaction, lab, "tunnel", pair, cancellationToken).ConfigureAwait(false)).Vni;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckVtepArguments(string lab, HostId host, HostId remote, string linkId)
    {
        ClusterNames.Lab(lab);
        ClusterNames.Host(host);
        ClusterNames.Host(remote, "remote host id");
        ClusterNames.LinkId(linkId);
        if (host == remote)
        {
            throw new ArgumentException($"remote host id '{remote}': the same as the host id (a VTEP joins two hosts)", nameof(remote));
        }
    }

    /// <summary>The VTEP's row, locked until the transaction ends (<c>FOR UPDATE</c>), or null when there is none
    /// (a concurrent detach that deleted it committed before this read).</summary>
    private static async Task<Vtep?> LockVtepAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string lab, HostId host, HostId remote, CancellationToken cancellationToken) =>
        (await QueryAsync(connection, transaction, $"SELECT {VtepColumns} WHERE v.lab = $1 AND v.host_id = $2 AND v.remote_host_id = $3 FOR UPDATE OF v",
            ReadVtep, cancellationToken, lab, host.Value, remote.Value).ConfigureAwait(false)).FirstOrDefault();

    private static async Task<int> CountLinksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long vtep, CancellationToken cancellationToken) =>
        (int)(await QueryAsync(connection, transaction, "SELECT count(*) FROM cluster_vtep_links WHERE vtep_id = $1", r => r.GetInt64(0), cancellationToken, vtep).ConfigureAwait(false))[0];

    private static Vtep ReadVtep(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), HostId.Parse(r.GetString(2)), HostId.Parse(r.GetString(3)), r.GetString(4), r.GetInt32(5),
        r.GetFieldValue<IPAddress>(6), r.GetFieldValue<IPAddress>(7));
}
