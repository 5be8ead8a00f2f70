using System.Globalization;
using Aether.Labs.Cluster.Data;

namespace Aether.Labs.Cluster;

public sealed partial class ClusterStore
{
    /// <summary>The first VLAN tag given to a link of a lab on the ovs fabric.</summary>
    public const int FirstTag = ClusterDbContext.FirstTag;

    /// <summary>The last VLAN tag given.</summary>
    public const int LastTag = ClusterDbContext.LastTag;

    /// <summary>
    /// The VLAN tag of each of lab <paramref name="lab"/>'s links <paramref name="linkIds"/> (a lab on the ovs
    /// fabric): the one it holds, or the smallest free one of the lab from <see cref="FirstTag"/> to
    /// <see cref="LastTag"/> (<c>cluster_vlan_tags</c>, unique per lab). Both hosts of a cross-host link read the same
    /// tag, and a link keeps its tag across re-deploys until <see cref="ReleaseTagsAsync"/>. Two writers that pick the
    /// same free tag: the loser's transaction fails on the unique index and runs again. Sends <c>lab=NAME</c> when
    /// one was allocated.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid lab name or link id; nothing is written.</exception>
    /// <exception cref="InvalidOperationException">The lab would have more links than tags (3995); nothing is
    /// written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyDictionary<string, int>> AssignTagsAsync(string lab, IEnumerable<string> linkIds, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(linkIds);
        var links = linkIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var link in links)
        {
            ClusterNames.LinkId(link);
        }

        return RunAsync<IReadOnlyDictionary<string, int>>($"assign VLAN tags of lab '{lab}'", async (connection, transaction) =>
        {
            var held = (await QueryAsync(connection, transaction, "SELECT link_id, tag FROM cluster_vlan_tags WHERE lab = $1",
                r => (Link: r.GetString(0), Tag: r.GetInt32(1)), cancellationToken, lab).ConfigureAwait(false)).ToDictionary(t => t.Link, t => t.Tag, StringComparer.Ordinal);
            var wanted = links.Count(l => !held.ContainsKey(l));
            if (held.Count + wanted > LastTag - FirstTag + 1)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"lab '{lab}': no free VLAN tag for {wanted} more links ({held.Count} held; {FirstTag}..{LastTag}: at most {LastTag - FirstTag + 1} links on the ovs fabric)"));
            }

            var used = held.Values.ToHashSet();
            var tags = new Dictionary<string, int>(StringComparer.Ordinal);
            var next = FirstTag;
            var allocated = false;
            foreach (var link in links)
            {
                if (held.TryGetValue(link, out var tag))
                {
                    tags[link] = tag;
                    continue;
                }

                while (used.Contains(next))
                {
                    next++;
                }

                await ExecuteAsync(connection, transaction, "INSERT INTO cluster_vlan_tags (lab, link_id, tag) VALUES ($1, $2, $3)", cancellationToken, lab, link, next).ConfigureAwait(false);
                tags[link] = next;
                used.Add(next);
                allocated = true;
            }

            if (allocated)
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, null), cancellationToken).ConfigureAwait(false);
            }

            return tags;
        }, cancellationToken, retryUnique: true);
    }

    /// <summary>Gives lab <paramref name="lab"/>'s links <paramref name="linkIds"/>' tags back (the links are gone);
    /// returns how many were held.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> ReleaseTagsAsync(string lab, IEnumerable<string> linkIds, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(linkIds);
        var links = linkIds.ToArray();
        return RunAsync($"release VLAN tags of lab '{lab}'", (connection, transaction) =>
            ExecuteAsync(connection, transaction, "DELETE FROM cluster_vlan_tags WHERE lab = $1 AND link_id = ANY($2)", cancellationToken, lab, links), cancellationToken);
    }

    /// <summary>Lab <paramref name="lab"/>'s links' VLAN tags, by link id.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyDictionary<string, int>> ListTagsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        return RunAsync<IReadOnlyDictionary<string, int>>($"list VLAN tags of lab '{lab}'", async (connection, transaction) =>
            (await QueryAsync(connection, transaction, "SELECT link_id, tag FROM cluster_vlan_tags WHERE lab = $1", r => (r.GetString(0), r.GetInt32(1)), cancellationToken, lab).ConfigureAwait(false))
                .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal),
            cancellationToken);
    }
}
