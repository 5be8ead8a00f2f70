namespace Aether.Labs.Cluster;

/// <summary>
/// A wake-up hint on <see cref="ClusterStore.Channel"/>: something about <see cref="Lab"/> (and, when named, what
/// <see cref="Host"/> must do) changed. Its payload is <c>lab=NAME host=ID</c>, either part optional. A hint says
/// where to look, never what changed: the receiver reads the tables. <see cref="Reconnected"/> is made by
/// <see cref="ClusterListener"/> itself after it had to reconnect: hints sent meanwhile were lost, so look at
/// everything. <see cref="Probe"/> (payload word <c>probe</c>) says a frame probe of <see cref="Lab"/> waits for
/// <see cref="Host"/> (<c>cluster_probes</c>): it wakes no pass, only the agent's probe half.
/// </summary>
/// <param name="Lab">The lab, or null.</param>
/// <param name="Host">The host, or null (every host).</param>
/// <param name="Reconnected">The listener reconnected; hints may have been lost.</param>
/// <param name="Probe">A frame probe waits for the host.</param>
public sealed record ClusterHint(string? Lab, HostId? Host, bool Reconnected = false, bool Probe = false)
{
    /// <summary>The NOTIFY payload.</summary>
    public string Payload => string.Join(' ', new[] { Probe ? "probe" : null, Lab is null ? null : "lab=" + Lab, Host is { } h ? "host=" + h.Value : null }.Where(p => p is not null));

    /// <summary>Reads a payload; parts it does not know are ignored (a newer writer may add some).</summary>
    public static ClusterHint Parse(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        string? lab = null;
        HostId? host = null;
        var probe = false;
        foreach (var part in payload.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("lab=", StringComparison.Ordinal))
            {
                lab = part[4..];
            }
            else if (part.StartsWith("host=", StringComparison.Ordinal) && HostId.TryParse(part[5..], out var id))
            {
                host = id;
            }
            else if (string.Equals(part, "probe", StringComparison.Ordinal))
            {
                probe = true;
            }
        }

        return new ClusterHint(lab, host, Probe: probe);
    }
}
