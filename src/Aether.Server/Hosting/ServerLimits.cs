using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Aether.Server;

/// <summary>
/// What one client can make the daemon hold: Kestrel's limits, each a number documented in docs/daemon.md. Headers
/// and request lines over their limits are answered by Kestrel before any middleware runs (431, 414); a body, chunked
/// included, fails with 413 as soon as the handler reading it gets past the limit, before anything is handed to the
/// hub or the labs, so nothing changes.
/// </summary>
internal static class ServerLimits
{
    /// <summary>Connections open at once, over the socket and TCP together; more are closed when accepted.</summary>
    public const int MaxConnections = 128;

    /// <summary>A request body, in bytes (1 MiB): a lab file or a network is far smaller.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Headers in one request.</summary>
    public const int MaxHeaderCount = 64;

    /// <summary>All of a request's headers together, in bytes (16 KiB).</summary>
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>The request line (method, path and query, version), in bytes (8 KiB).</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Requests in flight at once on one HTTP/2 connection (gRPC calls, or REST over HTTP/2).</summary>
    public const int MaxStreamsPerConnection = 16;

    /// <summary>How long a client has to send all of a request's headers.</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle connection is kept between requests.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The slowest body upload taken once its grace period is over: 240 bytes/s after 5 s.</summary>
    public static readonly MinDataRate MinBodyRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));

    /// <summary>How long a stop waits for requests in flight before their connections are aborted.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Sets the limits on <paramref name="kestrel"/>.</summary>
    public static void Apply(KestrelServerOptions kestrel)
    {
        var limits = kestrel.Limits;
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxConcurrentUpgradedConnections = 0;
        limits.MaxRequestBodySize = MaxBodyBytes;
        limits.MaxRequestHeaderCount = MaxHeaderCount;
        limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = HeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = MinBodyRate;
        kestrel.AddServerHeader = false;
        limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
        limits.Http2.MaxRequestHeaderFieldSize = MaxHeaderBytes;
        // A plain-text HTTP/2 request's :scheme is http; the preface detection marks its connection as ALPN would.
        kestrel.AllowAlternateSchemes = true;
        // HTTP/1.1 for REST and HTTP/2 for gRPC on the same listeners: without TLS there is no ALPN, and the
        // connection is told apart by HTTP/2's preface (h2c with prior knowledge; see H2cPriorKnowledge).
        kestrel.ConfigureEndpointDefaults(listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.Use(H2cPriorKnowledge.Middleware(HeadersTimeout));
        });
    }
}
