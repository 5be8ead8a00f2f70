using System.Globalization;

namespace Aether.Labs.Cluster;

public sealed partial class ClusterStore
{
    /// <summary>Stores what an agent saw of one link end (replacing its previous report; <c>checked_at</c> = the
    /// database's <c>now()</c>). Observed state: sends no hint.</summary>
    /// <exception cref="ArgumentException">An invalid field, or a host that is not registered; nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task ReportLinkEndAsync(LinkEndReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ClusterNames.Lab(report.Lab);
        ClusterNames.LinkId(report.LinkId);
        ClusterNames.Host(report.Host);
        if (!Enum.IsDefined(report.End) || !Enum.IsDefined(report.State))
        {
            throw new ArgumentException($"link end {report.End} / state {report.State}: end is A or B, state up, down or error", nameof(report));
        }

        return RunAsync($"report end {report.End} of link '{report.LinkId}' of lab '{report.Lab}'", async (connection, transaction) =>
        {
            var known = await QueryAsync(connection, transaction, "SELECT 1 FROM cluster_hosts WHERE id = $1 FOR KEY SHARE", r => r.GetInt32(0), cancellationToken, report.Host.Value).ConfigureAwait(false);
            if (known.Count == 0)
            {
                throw new ArgumentException($"host id '{report.Host}': not registered", nameof(report));
            }

            return await ExecuteAsync(connection, transaction, """
                INSERT INTO cluster_link_ends (lab, link_id, link_end, host_id, state, message) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (lab, link_id, link_end) DO UPDATE SET host_id = excluded.host_id, state = excluded.state,
                    message = excluded.message, checked_at = now()
                """, cancellationToken, report.Lab, report.LinkId, EndText(report.End), report.Host.Value, StateText(report.State), report.Message).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Stores an agent's reports of several link ends in one transaction (each replacing its previous
    /// report), as <see cref="ReportLinkEndAsync"/> does one.</summary>
    /// <exception cref="ArgumentException">An invalid field, or a host that is not registered; nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task ReportLinkEndsAsync(IReadOnlyList<LinkEndReport> reports, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reports);
        foreach (var report in reports)
        {
            ClusterNames.Lab(report.Lab);
            ClusterNames.LinkId(report.LinkId);
            ClusterNames.Host(report.Host);
            if (!Enum.IsDefined(report.End) || !Enum.IsDefined(report.State))
            {
                throw new ArgumentException($"link end {report.End} / state {report.State}: end is A or B, state up, down or error", nameof(reports));
            }
        }

        return reports.Count == 0 ? Task.CompletedTask : RunAsync(string.Create(CultureInfo.InvariantCulture, $"report {reports.Count} link ends"), async (connection, transaction) =>
        {
            foreach (var host in reports.Select(r => r.Host).Distinct())
            {
                var known = await QueryAsync(connection, transaction, "SELECT 1 FROM cluster_hosts WHERE id = $1 FOR KEY SHARE", r => r.GetInt32(0), cancellationToken, host.Value).ConfigureAwait(false);
                if (known.Count == 0)
                {
                    throw new ArgumentException($"host id '{host}': not registered", nameof(reports));
                }
            }

            foreach (var report in reports)
            {
                _ = await ExecuteAsync(connection, transaction, """
                    INSERT INTO cluster_link_ends (lab, link_id, link_end, host_id, state, message) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (lab, link_id, link_end) DO UPDATE SET host_id = excluded.host_id, state = excluded.state,
                        message = excluded.message, checked_at = now()
                    """, cancellationToken, report.Lab, report.LinkId, EndText(report.End), report.Host.Value, StateText(report.State), report.Message).ConfigureAwait(false);
            }

            return reports.Count;
        }, cancellationToken);
    }

    /// <summary>Forgets the reports of lab <paramref name="lab"/>'s link ends on <paramref name="host"/> (the agent
    /// removed its part of the lab).</summary>
    /// <returns>How many reports were forgotten.</returns>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> ForgetLinkEndsAsync(string lab, HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ClusterNames.Host(host);
        return RunAsync($"forget the link ends of lab '{lab}' on host '{host}'", (connection, transaction) =>
            ExecuteAsync(connection, transaction, "DELETE FROM cluster_link_ends WHERE lab = $1 AND host_id = $2", cancellationToken, lab, host.Value), cancellationToken);
    }

    /// <summary>Forgets the reports of lab <paramref name="lab"/>'s links other than <paramref name="keep"/> (links the
    /// lab no longer has).</summary>
    /// <returns>How many reports were forgotten.</returns>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> ForgetLinkEndsExceptAsync(string lab, IReadOnlySet<string> keep, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ArgumentNullException.ThrowIfNull(keep);
        return RunAsync($"forget the removed links of lab '{lab}'", (connection, transaction) =>
            ExecuteAsync(connection, transaction, "DELETE FROM cluster_link_ends WHERE lab = $1 AND NOT (link_id = ANY($2))", cancellationToken, lab, keep.ToArray()), cancellationToken);
    }

    /// <summary>
    /// Lab <paramref name="lab"/>'s links as reported, both ends together, by link id: an end whose host's last
    /// heartbeat is older than <paramref name="hostTimeout"/> is <see cref="LinkEndState.Error"/> with
    /// <c>host h2 unreachable since …</c>, whatever it last reported; a link is up only when both ends are.
    /// </summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<ClusterLinkStatus>> ListLinkStatesAsync(string lab, TimeSpan hostTimeout, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        ClusterNames.Timeout(hostTimeout, nameof(hostTimeout));
        return RunAsync<IReadOnlyList<ClusterLinkStatus>>($"list link states of lab '{lab}'", async (connection, transaction) =>
        {
            var ends = await QueryAsync(connection, transaction, """
                SELECT e.link_id, e.link_end, e.host_id, e.state, e.message, e.checked_at, now() - h.last_seen <= $2, h.last_seen
                FROM cluster_link_ends e JOIN cluster_hosts h ON h.id = e.host_id
                WHERE e.lab = $1 ORDER BY e.link_id, e.link_end
                """, r =>
            {
                var reported = ParseState(r.GetString(3));
                var alive = r.GetBoolean(6);
                var host = HostId.Parse(r.GetString(2));
                var message = alive
                    ? (r.IsDBNull(4) ? null : r.GetString(4))
                    : string.Create(CultureInfo.InvariantCulture, $"host {host} unreachable since {r.GetFieldValue<DateTimeOffset>(7).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
                return (Link: r.GetString(0), Status: new LinkEndStatus(string.Equals(r.GetString(1), "a", StringComparison.Ordinal) ? LinkEnd.A : LinkEnd.B, host, reported, alive ? reported : LinkEndState.Error, message, r.GetFieldValue<DateTimeOffset>(5)));
            }, cancellationToken, lab, hostTimeout).ConfigureAwait(false);
            return [.. ends.GroupBy(e => e.Link, StringComparer.Ordinal).Select(g => Combine(g.Key, g.FirstOrDefault(e => e.Status.End == LinkEnd.A).Status, g.FirstOrDefault(e => e.Status.End == LinkEnd.B).Status))];
        }, cancellationToken);
    }

    /// <summary>Both ends into the link's state: error if either end is, up if both are, else down.</summary>
    internal static ClusterLinkStatus Combine(string linkId, LinkEndStatus? a, LinkEndStatus? b)
    {
        LinkEndStatus?[] both = [a, b];
        if (both.FirstOrDefault(e => e?.State == LinkEndState.Error) is { } error)
        {
            return new ClusterLinkStatus(linkId, a, b, LinkEndState.Error, $"end {EndText(error.End)}: {error.Message}");
        }

        if (a?.State == LinkEndState.Up && b?.State == LinkEndState.Up)
        {
            return new ClusterLinkStatus(linkId, a, b, LinkEndState.Up, null);
        }

        var why = a is null ? "end a: not reported" : b is null ? "end b: not reported"
            : a.State != LinkEndState.Up ? $"end a: {a.Message ?? "down"}" : $"end b: {b.Message ?? "down"}";
        return new ClusterLinkStatus(linkId, a, b, LinkEndState.Down, why);
    }

    private static string EndText(LinkEnd end) => end == LinkEnd.A ? "a" : "b";

    private static string StateText(LinkEndState state) => state switch
    {
        LinkEndState.Up => "up",
        LinkEndState.Down => "down",
        _ => "error",
    };

    private static LinkEndState ParseState(string text) => text switch
    {
        "up" => LinkEndState.Up,
        "down" => LinkEndState.Down,
        _ => LinkEndState.Error,
    };
}
