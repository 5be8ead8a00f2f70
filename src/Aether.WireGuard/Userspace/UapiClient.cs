using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Aether.Netlink;

namespace Aether.WireGuard.Userspace;

/// <summary>
/// Talks the UAPI (<see cref="UapiProtocol"/>) to a userspace WireGuard device on its unix socket: one connection
/// per exchange, a deadline on each, and the process at the other end identified by <c>SO_PEERCRED</c>. Unix sockets
/// in the file system belong to no network namespace, so this works from any thread.
/// </summary>
public static class UapiClient
{
    /// <summary>Where wireguard-go and wg(8) keep the sockets: fixed in both, for every namespace.</summary>
    public const string DefaultDirectory = "/var/run/wireguard";

    /// <summary>An answer larger than this is not a device's (a million allowed IPs would be ~30 MB: far beyond).</summary>
    private const int MaxAnswer = 64 * 1024 * 1024;

    /// <summary><c>SOL_SOCKET</c>.</summary>
    private const int SolSocket = 1;

    /// <summary><c>SO_PEERCRED</c>.</summary>
    private const int SoPeerCred = 17;

    /// <summary>The socket of device <paramref name="name"/>: <c>DIRECTORY/NAME.sock</c>.</summary>
    public static string SocketPath(string directory, string name) => Path.Combine(directory, name + ".sock");

    /// <summary>Reads device <paramref name="name"/>, or null when nothing listens on its socket.</summary>
    /// <exception cref="WireGuardException">The device answered with an error, not in time, or not in the protocol.</exception>
    /// <param name="socketPath">The device's socket.</param>
    /// <param name="name">The device's name.</param>
    /// <param name="timeout">How long the exchange may take.</param>
    /// <param name="acceptServer">Given the serving process's pid, whether to talk to it (false: as if nothing listened).</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    public static async Task<WireGuardDevice?> GetAsync(string socketPath, string name, TimeSpan timeout, Func<int?, bool>? acceptServer, CancellationToken cancellationToken)
    {
        var answer = await ExchangeAsync(socketPath, UapiProtocol.GetRequest, "get wireguard device", name, timeout, acceptServer, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return null;
        }

        WireGuardDevice device;
        int errno;
        try
        {
            device = UapiProtocol.ParseGet(name, answer, out errno);
        }
        catch (FormatException ex)
        {
            throw new WireGuardException(Errno.EPROTO, "get wireguard device", name, ex.Message);
        }

        return errno == 0 ? device : throw new WireGuardException(errno, "get wireguard device", name, "the userspace device refused");
    }

    /// <summary>Applies <paramref name="config"/> to device <paramref name="name"/>.</summary>
    /// <exception cref="WireGuardException"><c>ENODEV</c> when nothing listens on the socket; the device's errno when
    /// it refused (wireguard-go may have applied the lines before the one it refused).</exception>
    public static async Task SetAsync(string socketPath, string name, WireGuardDeviceConfig config, TimeSpan timeout, Func<int?, bool>? acceptServer, CancellationToken cancellationToken)
    {
        var request = UapiProtocol.FormatSet(config);
        var answer = await ExchangeAsync(socketPath, request, "set wireguard device", name, timeout, acceptServer, cancellationToken).ConfigureAwait(false)
            ?? throw new WireGuardException(Errno.ENODEV, "set wireguard device", name, $"no userspace WireGuard device of that name here (nothing serves {socketPath}, or it serves another namespace)");
        int errno;
        try
        {
            errno = UapiProtocol.ParseSetResponse(answer);
        }
        catch (FormatException ex)
        {
            throw new WireGuardException(Errno.EPROTO, "set wireguard device", name, ex.Message);
        }

        if (errno != 0)
        {
            throw new WireGuardException(errno, "set wireguard device", name, "the userspace device refused the configuration");
        }
    }

    /// <summary>The process serving <paramref name="socketPath"/> (<c>SO_PEERCRED</c>), or null when nothing listens.</summary>
    public static async Task<int?> ServerPidAsync(string socketPath, CancellationToken cancellationToken)
    {
        using var socket = await ConnectAsync(socketPath, cancellationToken).ConfigureAwait(false);
        return socket is null ? null : PeerPid(socket);
    }

    /// <summary>Sends <paramref name="request"/> and reads the answer up to its blank line; null when nothing listens.</summary>
    internal static async Task<string?> ExchangeAsync(string socketPath, string request, string operation, string device, TimeSpan timeout, Func<int?, bool>? acceptServer, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var socket = await ConnectAsync(socketPath, deadline.Token).ConfigureAwait(false);
            if (socket is null || (acceptServer is not null && !acceptServer(PeerPid(socket))))
            {
                return null;
            }

            var bytes = Encoding.ASCII.GetBytes(request);
            try
            {
                await socket.SendAsync(bytes, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            }
            finally
            {
                Array.Clear(bytes); // a set request carries keys
            }

            return await ReadAnswerAsync(socket, operation, device, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WireGuardException(Errno.ETIMEDOUT, operation, device, $"no answer on {socketPath} within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            throw new WireGuardException(ex.NativeErrorCode, operation, device, $"{socketPath}: {ex.Message}");
        }
    }

    private static async Task<Socket?> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            socket.Dispose();
            return null; // a stale socket file (its process is gone), or it went away meanwhile
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadAnswerAsync(Socket socket, string operation, string device, CancellationToken cancellationToken)
    {
        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new WireGuardException(Errno.EPROTO, operation, device, "the device closed the connection before the blank line that ends an answer");
            }

            var scanFrom = (int)Math.Max(0, answer.Length - 1);
            answer.Write(buffer, 0, n);
            if (answer.Length > MaxAnswer)
            {
                throw new WireGuardException(Errno.EMSGSIZE, operation, device, $"an answer over {MaxAnswer} bytes");
            }

            var text = answer.GetBuffer().AsSpan(0, (int)answer.Length);
            var end = text[scanFrom..].IndexOf("\n\n"u8);
            if (end >= 0 || (answer.Length == 1 && text[0] == '\n'))
            {
                var length = end >= 0 ? scanFrom + end + 2 : 1;
                var result = Encoding.ASCII.GetString(text[..length]);
                text.Clear(); // the answer to get=1 carries the private key
                return result;
            }
        }
    }

    private static int? PeerPid(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        var pid = length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(ucred) : 0;
        return pid > 0 ? pid : null;
    }
}
