using System.Globalization;
using Aether.Labs.Cluster.Data;
using Npgsql;

namespace Aether.Labs.Cluster;

public sealed partial class ClusterStore
{
    /// <summary>The first VNI the store hands out.</summary>
    public const int FirstVni = ClusterDbContext.FirstVni;

    /// <summary>The last VNI the store hands out (the 24-bit maximum).</summary>
    public const int LastVni = ClusterDbContext.LastVni;

    /// <summary>
    /// The VNI of each of lab <paramref name="lab"/>'s links <paramref name="linkIds"/>: the one it was given before,
    /// or a new one (<c>cluster_vni_seq</c>, <see cref="FirstVni"/>..<see cref="LastVni"/>, cyclic, skipping those
    /// in use: unique in the database among allocated VNIs). A link keeps its VNI across restarts and re-deploys
    /// until <see cref="ReleaseVnisAsync"/>. Sends <c>lab=NAME</c> when one was allocated.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid lab name or link id; nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    /// <exception cref="InvalidOperationException">Nearly every VNI is in use (10,000 tries found none free).</exception>
    public Task<IReadOnlyDictionary<string, int>> AssignVnisAsync(string lab, IEnumerable<string> linkIds, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(linkIds);
        // In one order for every writer, so that two assigners of overlapping sets never wait for each other in a cycle.
        var links = linkIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var link in links)
        {
            ClusterNames.LinkId(link);
        }

        return RunAsync<IReadOnlyDictionary<string, int>>($"assign VNIs of lab '{lab}'", async (connection, transaction) =>
        {
            Dictionary<string, int> vnis = new(StringComparer.Ordinal);
            var allocated = false;
            foreach (var link in links)
            {
                var (vni, isNew) = await VniAsync(connection, transaction, lab, "link", link, cancellationToken).ConfigureAwait(false);
                vnis[link] = vni;
                allocated |= isNew;
            }

            if (allocated)
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, null), cancellationToken).ConfigureAwait(false);
            }

            return vnis;
        }, cancellationToken);
    }

    /// <summary>Gives lab <paramref name="lab"/>'s links <paramref name="linkIds"/>' VNIs back (the links are gone);
    /// returns how many were held.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> ReleaseVnisAsync(string lab, IEnumerable<string> linkIds, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(linkIds);
        var links = linkIds.ToArray();
        return RunAsync($"release VNIs of lab '{lab}'", (connection, transaction) =>
            ExecuteAsync(connection, transaction, "DELETE FROM cluster_vnis WHERE lab = $1 AND scope = 'link' AND key = ANY($2)", cancellationToken, lab, links), cancellationToken);
    }

    /// <summary>Lab <paramref name="lab"/>'s links' VNIs, by link id.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyDictionary<string, int>> ListVnisAsync(string lab, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        return RunAsync<IReadOnlyDictionary<string, int>>($"list VNIs of lab '{lab}'", async (connection, transaction) =>
            (await QueryAsync(connection, transaction, "SELECT key, vni FROM cluster_vnis WHERE lab = $1 AND scope = 'link'", r => (r.GetString(0), r.GetInt32(1)), cancellationToken, lab).ConfigureAwait(false))
                .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal),
            cancellationToken);
    }

    /// <summary>The VNI held by (lab, scope, key), allocating one when there is none: the next value of the
    /// sequence, skipped while some other key holds it (after the sequence wrapped).</summary>
    private static async Task<(int Vni, bool New)> VniAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string lab, string scope, string key, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10_000; attempt++)
        {
            var held = await QueryAsync(connection, transaction, "SELECT vni FROM cluster_vnis WHERE lab = $1 AND scope = $2 AND key = $3",
                r => r.GetInt32(0), cancellationToken, lab, scope, key).ConfigureAwait(false);
            if (held.Count > 0)
            {
                return (held[0], attempt > 0);
            }

            // DO NOTHING on either key: the (lab, scope, key) taken meanwhile by another writer (read next turn), or
            // the VNI still held by another link (the next value next turn).
            await ExecuteAsync(connection, transaction, "INSERT INTO cluster_vnis (lab, scope, key, vni) VALUES ($1, $2, $3, nextval('cluster_vni_seq')) ON CONFLICT DO NOTHING",
                cancellationToken, lab, scope, key).ConfigureAwait(false);
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"no free VNI for {scope} '{key}' of lab '{lab}' after 10000 tries: {FirstVni}..{LastVni} nearly all in use"));
    }
}
