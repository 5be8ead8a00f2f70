using System.Diagnostics;
using System.Globalization;

namespace Aether.Labs.Cluster.Agent;

/// <summary>What <c>verify --deep</c> found for one link of a placed lab.</summary>
/// <param name="LinkId">The link.</param>
/// <param name="Probed">Whether a frame was sent (false when an agent did not take part; see
/// <paramref name="Problem"/>).</param>
/// <param name="Latency">The round trip (end A to end B and back, from the first frame sent) when it crossed.</param>
/// <param name="Problem">Why the frame did not cross (or was not sent), or null when it crossed both ways.</param>
public sealed record LinkFrameCheck(string LinkId, bool Probed, TimeSpan? Latency, string? Problem)
{
    /// <summary>Whether a frame crossed the link both ways.</summary>
    public bool Crossed => Probed && Problem is null;
}

/// <summary>
/// <c>verify --deep</c> for a lab across hosts, run by the agents of the links' hosts, coordinated through the
/// database (<c>cluster_probes</c>): a probe row per link (a random nonce) and a <c>probe</c> hint to the host of end
/// B; its agent listens on the end inside the node namespace and marks the probe listening, which hints the host of
/// end A; that agent sends frames carrying the nonce, end B's agent answers each, and end A's ends the probe crossed
/// with the round trip, or failed with why. Every link goes through the agents, those with both ends on one host
/// too, so the machine that asks never touches a namespace. The caller waits a bounded time; a host whose agent did
/// not answer by then is named; the rows are removed after.
/// </summary>
public sealed class CrossHostFrames
{
    private readonly ClusterStore _cluster;
    private readonly ILabStore _labs;

    /// <summary>Probes of the labs stored in <paramref name="labs"/>, placed in <paramref name="cluster"/>.</summary>
    public CrossHostFrames(ClusterStore cluster, ILabStore labs)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(labs);
        _cluster = cluster;
        _labs = labs;
    }

    /// <summary>Probes <paramref name="links"/> of lab <paramref name="lab"/> (null: every link) and waits up to
    /// <paramref name="wait"/> (each frame's timeout is a third of it); one result per link, in the lab's order.</summary>
    /// <exception cref="ArgumentException">The lab is not stored or places no node on a host, or a link is not the
    /// lab's (the message names it); nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public async Task<IReadOnlyList<LinkFrameCheck>> ProbeAsync(string lab, IReadOnlyCollection<string>? links, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        ClusterNames.Lab(lab);
        if (wait < TimeSpan.FromMilliseconds(30) || wait > ClusterStore.MaxFrameTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(wait), wait, string.Create(CultureInfo.InvariantCulture, $"wait {wait.TotalMilliseconds:F0} ms: from 30 ms to {ClusterStore.MaxFrameTimeout.TotalSeconds:F0} s"));
        }

        var stored = await _labs.GetLabAsync(lab, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"lab '{lab}': no such lab is deployed", nameof(lab));
        var spec = LabLoader.Parse(stored.Definition, stored.SourcePath ?? lab).Lab
            ?? throw new ArgumentException($"lab '{lab}': its stored definition does not read", nameof(lab));
        if (!spec.IsPlaced)
        {
            throw new ArgumentException($"lab '{lab}': places no node on a host (verify --deep of a lab on one host sends its frames itself)", nameof(lab));
        }

        var wanted = spec.Links.Where(l => links is null || links.Contains(l.Id.Value, StringComparer.Ordinal)).ToList();
        if (links?.FirstOrDefault(id => spec.Links.All(l => !string.Equals(l.Id.Value, id, StringComparison.Ordinal))) is { } unknown)
        {
            throw new ArgumentException($"link '{unknown}': lab {lab} has no such link (its links: {string.Join(", ", spec.Links.Select(l => l.Id.Value))})", nameof(links));
        }

        spec = await ClusterLabs.WithStoredPlacementsAsync(_cluster, spec, cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<string, LinkFrameCheck>(StringComparer.Ordinal);
        var requests = new List<FrameProbeRequest>();
        foreach (var link in wanted)
        {
            if (spec.HostOf(link.A) is not { } a || spec.HostOf(link.B) is not { } b)
            {
                results[link.Id.Value] = new LinkFrameCheck(link.Id.Value, false, null, "no frame sent: an end's node has no host yet");
                continue;
            }

            requests.Add(new FrameProbeRequest(lab, link.Id.Value, a, spec.Node(link.A.Node).Namespace, link.A.Linux, b, spec.Node(link.B.Node).Namespace, link.B.Linux));
        }

        if (requests.Count == 0)
        {
            return [.. wanted.Select(l => results[l.Id.Value])];
        }

        var clock = Stopwatch.StartNew();
        var ids = await _cluster.RequestProbesAsync(requests, wait / 3, cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<FrameProbeRecord> rows;
            while (true)
            {
                rows = await _cluster.ListProbesAsync(ids, cancellationToken).ConfigureAwait(false);
                if (rows.All(r => r.State is FrameProbeState.Crossed or FrameProbeState.Failed) || clock.Elapsed >= wait)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken).ConfigureAwait(false);
            }

            foreach (var row in rows)
            {
                results[row.Request.LinkId] = Check(row, wait);
            }
        }
        finally
        {
            _ = await _cluster.RemoveProbesAsync(ids, CancellationToken.None).ConfigureAwait(false);
        }

        return [.. wanted.Select(l => results.TryGetValue(l.Id.Value, out var r) ? r : new LinkFrameCheck(l.Id.Value, false, null, "its probe was removed before it ended"))];
    }

    private static LinkFrameCheck Check(FrameProbeRecord row, TimeSpan wait)
    {
        var r = row.Request;
        var ms = wait.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
        return row.State switch
        {
            FrameProbeState.Crossed => new LinkFrameCheck(r.LinkId, true, row.Latency, null),
            FrameProbeState.Failed => new LinkFrameCheck(r.LinkId, row.Sent, null, row.Problem),
            FrameProbeState.Requested => new LinkFrameCheck(r.LinkId, false, null, $"host {r.Receiver} (end B, {r.ReceiverInterface}) did not answer within {ms} ms: no agent there listened (is it running?)"),
            FrameProbeState.Listening => new LinkFrameCheck(r.LinkId, false, null, $"host {r.Sender} (end A, {r.SenderInterface}) did not answer within {ms} ms: no agent there sent the frame (is it running?)"),
            _ => new LinkFrameCheck(r.LinkId, true, null, $"host {r.Sender} sent the frame, but the probe did not end within {ms} ms"),
        };
    }
}
