using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace Aether.Labs.Cluster;

/// <summary>Where a frame probe of a link stands (<c>cluster_probes.state</c>).</summary>
public enum FrameProbeState
{
    /// <summary>Written; the receiver's agent has not answered yet.</summary>
    Requested,

    /// <summary>The receiver's agent listens on its end.</summary>
    Listening,

    /// <summary>The sender's agent sent the frame.</summary>
    Sent,

    /// <summary>The frame crossed and its answer came back.</summary>
    Crossed,

    /// <summary>It did not (see the problem).</summary>
    Failed,
}

/// <summary>A frame probe to run on one link: the sender's end (host, node namespace, interface) sends, the
/// receiver's answers.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="LinkId">The link.</param>
/// <param name="Sender">The host of the end that sends (end A).</param>
/// <param name="SenderNamespace">That end's node namespace.</param>
/// <param name="SenderInterface">That end's interface there.</param>
/// <param name="Receiver">The host of the end that listens and answers (end B).</param>
/// <param name="ReceiverNamespace">That end's node namespace.</param>
/// <param name="ReceiverInterface">That end's interface there.</param>
public sealed record FrameProbeRequest(string Lab, string LinkId, HostId Sender, string SenderNamespace, string SenderInterface, HostId Receiver, string ReceiverNamespace, string ReceiverInterface);

/// <summary>A row of <c>cluster_probes</c>.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Request">What is probed.</param>
/// <param name="Nonce">The 16 bytes the frames carry.</param>
/// <param name="FrameTimeout">How long the sender waits for the answer (the receiver listens twice as long).</param>
/// <param name="State">Where it stands.</param>
/// <param name="Problem">Why it failed, or null.</param>
/// <param name="Latency">The round trip, end A to end B and back, when it crossed.</param>
/// <param name="Sent">Whether the sender's agent took it to send.</param>
/// <param name="Received">Whether the receiver saw the frame (so a failure after that is on the way back).</param>
public sealed record FrameProbeRecord(long Id, FrameProbeRequest Request, byte[] Nonce, TimeSpan FrameTimeout, FrameProbeState State, string? Problem, TimeSpan? Latency, bool Sent, bool Received);

public sealed partial class ClusterStore
{
    /// <summary>How old a probe row is when the next request removes it (its asker died before removing it).</summary>
    public static readonly TimeSpan StaleProbe = TimeSpan.FromMinutes(10);

    /// <summary>The longest frame timeout a probe may ask for.</summary>
    public static readonly TimeSpan MaxFrameTimeout = TimeSpan.FromSeconds(60);

    private const string ProbeColumns = "id, lab, link_id, sender_host, sender_namespace, sender_interface, receiver_host, receiver_namespace, receiver_interface, nonce, timeout_ms, state, problem, latency_ms, sent_at IS NOT NULL, received_at IS NOT NULL";

    /// <summary>Writes a probe row per request (state <see cref="FrameProbeState.Requested"/>, a random nonce) and
    /// sends a <c>probe lab=NAME host=ID</c> hint to each receiver's host, in one transaction; the rows' ids in the
    /// requests' order. Rows older than <see cref="StaleProbe"/> are removed in the same transaction.</summary>
    /// <exception cref="ArgumentException">An invalid field, a frame timeout out of 1 ms to 60 s, or a host no agent
    /// registered (the message names it); nothing is written.</exception>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<long>> RequestProbesAsync(IReadOnlyList<FrameProbeRequest> requests, TimeSpan frameTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (frameTimeout < TimeSpan.FromMilliseconds(1) || frameTimeout > MaxFrameTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(frameTimeout), frameTimeout, string.Create(CultureInfo.InvariantCulture, $"frame timeout {frameTimeout.TotalMilliseconds:F0} ms: from 1 ms to {MaxFrameTimeout.TotalSeconds:F0} s"));
        }

        foreach (var r in requests)
        {
            ClusterNames.Lab(r.Lab);
            ClusterNames.LinkId(r.LinkId);
            ClusterNames.Host(r.Sender, "sender host");
            ClusterNames.Host(r.Receiver, "receiver host");
            foreach (var (name, field) in new[] { (r.SenderNamespace, "sender namespace"), (r.ReceiverNamespace, "receiver namespace"), (r.SenderInterface, "sender interface"), (r.ReceiverInterface, "receiver interface") })
            {
                var limit = field.EndsWith("interface", StringComparison.Ordinal) ? 15 : 255;
                if (string.IsNullOrEmpty(name) || name.Length > limit || name.Contains('/', StringComparison.Ordinal) || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{field} '{name}': 1 to {limit} characters, no '/', spaces or control characters"), nameof(requests));
                }
            }
        }

        return RunAsync<IReadOnlyList<long>>(string.Create(CultureInfo.InvariantCulture, $"request {requests.Count} frame probes"), async (connection, transaction) =>
        {
            foreach (var host in requests.SelectMany(r => new[] { r.Sender, r.Receiver }).Distinct())
            {
                var known = await QueryAsync(connection, transaction, "SELECT 1 FROM cluster_hosts WHERE id = $1 FOR KEY SHARE", r => r.GetInt32(0), cancellationToken, host.Value).ConfigureAwait(false);
                if (known.Count == 0)
                {
                    throw new ArgumentException($"host id '{host}': not registered", nameof(requests));
                }
            }

            // Rows an asker left behind (it died before removing them): gone after StaleProbe.
            _ = await ExecuteAsync(connection, transaction, "DELETE FROM cluster_probes WHERE requested_at < now() - $1", cancellationToken, StaleProbe).ConfigureAwait(false);
            List<long> ids = [];
            foreach (var r in requests)
            {
                var inserted = await QueryAsync(connection, transaction, """
                    INSERT INTO cluster_probes (lab, link_id, sender_host, sender_namespace, sender_interface, receiver_host, receiver_namespace, receiver_interface, nonce, timeout_ms, state)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested') RETURNING id
                    """, x => x.GetInt64(0), cancellationToken, r.Lab, r.LinkId, r.Sender.Value, r.SenderNamespace, r.SenderInterface, r.Receiver.Value, r.ReceiverNamespace, r.ReceiverInterface,
                    RandomNumberGenerator.GetBytes(16), (int)Math.Ceiling(frameTimeout.TotalMilliseconds)).ConfigureAwait(false);
                ids.Add(inserted[0]);
            }

            foreach (var (lab, host) in requests.Select(r => (r.Lab, r.Receiver)).Distinct())
            {
                await NotifyAsync(connection, transaction, new ClusterHint(lab, host, Probe: true), cancellationToken).ConfigureAwait(false);
            }

            return ids;
        }, cancellationToken);
    }

    /// <summary>The probes <paramref name="host"/> is to listen for (requested, it the receiver).</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<FrameProbeRecord>> ListProbesToListenAsync(HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Host(host);
        return RunAsync<IReadOnlyList<FrameProbeRecord>>($"list the frame probes host '{host}' listens for", async (connection, transaction) =>
            await QueryAsync(connection, transaction, $"SELECT {ProbeColumns} FROM cluster_probes WHERE receiver_host = $1 AND state = 'requested' ORDER BY id", ReadProbe, cancellationToken, host.Value).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Marks probe <paramref name="id"/> listening (the receiver's socket is open) if it is still requested,
    /// and hints its sender's host; false when it was not (taken, failed or removed meanwhile).</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<bool> MarkProbeListeningAsync(long id, CancellationToken cancellationToken = default) =>
        RunAsync(string.Create(CultureInfo.InvariantCulture, $"mark frame probe {id} listening"), async (connection, transaction) =>
        {
            var marked = await QueryAsync(connection, transaction, "UPDATE cluster_probes SET state = 'listening', listening_at = now() WHERE id = $1 AND state = 'requested' RETURNING lab, sender_host",
                r => (Lab: r.GetString(0), Sender: HostId.Parse(r.GetString(1))), cancellationToken, id).ConfigureAwait(false);
            if (marked.Count == 0)
            {
                return false;
            }

            await NotifyAsync(connection, transaction, new ClusterHint(marked[0].Lab, marked[0].Sender, Probe: true), cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Takes the probes <paramref name="host"/> is to send (their receivers listen): each is marked
    /// <see cref="FrameProbeState.Sent"/> in the same statement, so only one taker gets it.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<FrameProbeRecord>> TakeProbesToSendAsync(HostId host, CancellationToken cancellationToken = default)
    {
        ClusterNames.Host(host);
        return RunAsync<IReadOnlyList<FrameProbeRecord>>($"take the frame probes host '{host}' sends", async (connection, transaction) =>
            await QueryAsync(connection, transaction, $"UPDATE cluster_probes SET state = 'sent', sent_at = now() WHERE sender_host = $1 AND state = 'listening' RETURNING {ProbeColumns}", ReadProbe, cancellationToken, host.Value).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Notes that probe <paramref name="id"/>'s frame arrived at its receiver.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task MarkProbeReceivedAsync(long id, CancellationToken cancellationToken = default) =>
        RunAsync(string.Create(CultureInfo.InvariantCulture, $"mark frame probe {id} received"), (connection, transaction) =>
            ExecuteAsync(connection, transaction, "UPDATE cluster_probes SET received_at = now() WHERE id = $1", cancellationToken, id), cancellationToken);

    /// <summary>Ends probe <paramref name="id"/>: crossed with its round trip when <paramref name="problem"/> is null,
    /// else failed with it. A probe already ended keeps its first end; false then.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<bool> EndProbeAsync(long id, TimeSpan? latency, string? problem, CancellationToken cancellationToken = default) =>
        RunAsync(string.Create(CultureInfo.InvariantCulture, $"end frame probe {id}"), async (connection, transaction) =>
            await ExecuteAsync(connection, transaction, """
                UPDATE cluster_probes SET state = $2, problem = $3, latency_ms = $4, done_at = now()
                WHERE id = $1 AND state IN ('requested', 'listening', 'sent')
                """, cancellationToken, id, problem is null ? "crossed" : "failed", problem, problem is null ? latency?.TotalMilliseconds : null).ConfigureAwait(false) > 0,
            cancellationToken);

    /// <summary>The probes <paramref name="ids"/> as they stand (those removed meanwhile are absent).</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<IReadOnlyList<FrameProbeRecord>> ListProbesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return RunAsync<IReadOnlyList<FrameProbeRecord>>("list frame probes", async (connection, transaction) =>
            await QueryAsync(connection, transaction, $"SELECT {ProbeColumns} FROM cluster_probes WHERE id = ANY($1) ORDER BY id", ReadProbe, cancellationToken, ids.ToArray()).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Removes the probes <paramref name="ids"/>; how many there were.</summary>
    /// <exception cref="ClusterException">The database refused.</exception>
    public Task<int> RemoveProbesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return RunAsync("remove frame probes", (connection, transaction) =>
            ExecuteAsync(connection, transaction, "DELETE FROM cluster_probes WHERE id = ANY($1)", cancellationToken, ids.ToArray()), cancellationToken);
    }

    private static FrameProbeRecord ReadProbe(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        new FrameProbeRequest(r.GetString(1), r.GetString(2), HostId.Parse(r.GetString(3)), r.GetString(4), r.GetString(5), HostId.Parse(r.GetString(6)), r.GetString(7), r.GetString(8)),
        r.GetFieldValue<byte[]>(9),
        TimeSpan.FromMilliseconds(r.GetInt32(10)),
        r.GetString(11) switch
        {
            "requested" => FrameProbeState.Requested,
            "listening" => FrameProbeState.Listening,
            "sent" => FrameProbeState.Sent,
            "crossed" => FrameProbeState.Crossed,
            _ => FrameProbeState.Failed,
        },
        r.IsDBNull(12) ? null : r.GetString(12),
        r.IsDBNull(13) ? null : TimeSpan.FromMilliseconds(r.GetDouble(13)),
        r.GetBoolean(14),
        r.GetBoolean(15));
}
