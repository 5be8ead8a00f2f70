using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Aether.Server;

/// <summary>
/// HTTP/1.1 and HTTP/2 on one plain-text listener. Kestrel (ASP.NET Core 10) serves only HTTP/1.1 on an endpoint of
/// <c>Http1AndHttp2</c> without TLS ("ambiguous without ALPN"), and answers an HTTP/2 connection preface with GOAWAY
/// HTTP_1_1_REQUIRED, so gRPC's h2c with prior knowledge could not reach the daemon. This connection middleware reads
/// the connection's first bytes without consuming them: when they are HTTP/2's preface
/// (<c>PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n</c>, RFC 9113 §3.4) it tells Kestrel the protocol as TLS's ALPN would ("h2"),
/// and Kestrel runs HTTP/2; anything else is HTTP/1.1 as before. The connection is plain text either way (no TLS
/// handshake feature is set, so none of HTTP/2's TLS requirements apply; requests keep their <c>http</c> scheme).
/// </summary>
internal static class H2cPriorKnowledge
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>The middleware, for <c>ListenOptions.Use</c>. A client that sends nothing is dropped after
    /// <paramref name="timeout"/>, as Kestrel drops one that sends no headers.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(TimeSpan timeout) => next => async connection =>
    {
        bool http2;
        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            cts.CancelAfter(timeout);
            try
            {
                http2 = await IsHttp2Async(connection.Transport.Input, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                connection.Abort(new ConnectionAbortedException("no request within " + timeout.TotalSeconds + " s"));
                return;
            }
        }

        if (http2)
        {
            connection.Features.Set<ITlsApplicationProtocolFeature>(PriorKnowledge.Instance);
            connection.Features.Set<ITlsConnectionFeature>(PriorKnowledge.Instance);
        }

        await next(connection).ConfigureAwait(false);
    };

    /// <summary>Reads until the bytes so far either are the whole preface or differ from it; consumes nothing.</summary>
    private static async Task<bool> IsHttp2Async(System.IO.Pipelines.PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var head = buffer.Slice(0, length).ToArray();
            var matches = head.AsSpan().SequenceEqual(Preface.AsSpan(0, length));
            if (!matches || length == Preface.Length || result.IsCompleted)
            {
                // Nothing consumed or examined: Kestrel's first read sees the same bytes at once.
                input.AdvanceTo(buffer.Start);
                return matches && length == Preface.Length;
            }

            input.AdvanceTo(buffer.Start, buffer.End); // a prefix of the preface so far: wait for more
        }
    }

    /// <summary>ALPN's "h2" for Kestrel's protocol choice; no certificate.</summary>
    private sealed class PriorKnowledge : ITlsApplicationProtocolFeature, ITlsConnectionFeature
    {
        public static readonly PriorKnowledge Instance = new();

        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public X509Certificate2? ClientCertificate
        {
            get => null;
            set => throw new NotSupportedException("a plain-text connection has no client certificate");
        }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
