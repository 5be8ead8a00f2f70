namespace Aether.Netlink;

/// <summary>Netlink protocol families (<c>NETLINK_*</c>).</summary>
public enum NetlinkProtocol
{
    /// <summary><c>NETLINK_ROUTE</c>: links, addresses, routes, neighbours.</summary>
    Route = 0,

    /// <summary><c>NETLINK_NETFILTER</c>.</summary>
    Netfilter = 12,

    /// <summary><c>NETLINK_GENERIC</c>: generic netlink families such as WireGuard.</summary>
    Generic = 16,
}

/// <summary>How a netlink socket is set up when it is opened.</summary>
public sealed record NetlinkSocketOptions
{
    /// <summary>The defaults: extended ACK, capped ACK and strict checking on; the kernel's receive buffer size.</summary>
    public static NetlinkSocketOptions Default { get; } = new();

    /// <summary>Ask the kernel for its error text and the offending attribute (<c>NETLINK_EXT_ACK</c>).</summary>
    public bool ExtendedAck { get; init; } = true;

    /// <summary>Errors echo only the request's header, not its whole body (<c>NETLINK_CAP_ACK</c>).</summary>
    public bool CappedAck { get; init; } = true;

    /// <summary>Strict header checking and kernel-side dump filtering (<c>NETLINK_GET_STRICT_CHK</c>).</summary>
    public bool StrictChecking { get; init; } = true;

    /// <summary>The socket's receive buffer in bytes (set with <c>SO_RCVBUFFORCE</c> when allowed), or null for the default.</summary>
    public int? ReceiveBufferSize { get; init; }

    /// <summary>The send buffer in bytes, or null for the default.</summary>
    public int? SendBufferSize { get; init; }

    /// <summary>How long a request waits for each part of its answer (<c>SO_RCVTIMEO</c>) before it fails with
    /// <c>ETIMEDOUT</c>; null waits for ever. rtnetlink answers at once, so this only guards against a family that
    /// never replies.</summary>
    public TimeSpan? ReplyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a list (<c>ListLinksAsync</c> and the others) reads a dump the kernel marked
    /// interrupted before it gives the interruption to the caller (default 20, over about 0.6 s; 1: never read
    /// again). A table that changed while it was read (a namespace torn down, a burst of changes) is usually whole on
    /// the next read; under a long burst (a thousand namespaces torn down beside it) the later reads wait a little.</summary>
    public int DumpAttempts { get; init; } = 20;
}
