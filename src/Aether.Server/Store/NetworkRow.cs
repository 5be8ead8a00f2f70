namespace Aether.Server.Store;

/// <summary>One row of <c>hub_networks</c>: an accepted <see cref="Aether.Hub.HubNetworkRequest"/>, field by
/// field, so the file reads plainly with <c>sqlite3</c>.</summary>
internal sealed class NetworkRow
{
    public required string NetworkId { get; set; }

    public int? Index { get; set; }

    public string? Container { get; set; }

    public int? ContainerPid { get; set; }

    public string? PrivateKey { get; set; }

    public int? ListenPort { get; set; }

    public string? PeerEndpoint { get; set; }

    public string? PeerPublicKey { get; set; }

    public string? Address { get; set; }

    public string? NetworkCidr { get; set; }

    public string? Gateway { get; set; }

    public int? PersistentKeepalive { get; set; }

    /// <summary>The peers as JSON (an array of <see cref="Aether.Hub.HubPeerRequest"/>), or null in a row of schema 1.</summary>
    public string? Peers { get; set; }

    /// <summary><c>warn</c> or <c>require</c>; null in a row of schema 1 (warn).</summary>
    public string? NatPolicy { get; set; }

    /// <summary>Unix milliseconds of the last save.</summary>
    public long UpdatedAt { get; set; }
}

/// <summary>One row of <c>hub_attachments</c>: an accepted <see cref="Aether.Hub.HubAttachRequest"/> of a network.</summary>
internal sealed class AttachmentRow
{
    public required string NetworkId { get; set; }

    public required string AttachmentId { get; set; }

    public string? Container { get; set; }

    public int? ContainerPid { get; set; }

    public required string Interface { get; set; }

    public required string Address { get; set; }

    public required string HostInterface { get; set; }

    /// <summary>False when the attachment takes no default route (a foreign one was there); null in rows of schema 3
    /// and older (true).</summary>
    public bool? DefaultRoute { get; set; }

    /// <summary>Unix milliseconds of the last save.</summary>
    public long UpdatedAt { get; set; }
}
