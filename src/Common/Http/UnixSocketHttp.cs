using System.Net.Sockets;

namespace Aether.Http;

/// <summary>HTTP over the daemon's unix socket: one handler shape for every client of the daemon's API (the CLI, the
/// CNI plugin), compiled into each of them from this one file.</summary>
internal static class UnixSocketHttp
{
    /// <summary>A handler whose every connection goes to the unix socket at <paramref name="path"/>, never through a
    /// proxy.</summary>
    public static SocketsHttpHandler Handler(string path) => new()
    {
        UseProxy = false,
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    };
}
