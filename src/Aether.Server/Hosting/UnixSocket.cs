using System.Net.Sockets;
using Aether.Interop;

namespace Aether.Server;

/// <summary>The API's unix socket: its directory, a stale file from a crashed daemon, its mode, and its removal.</summary>
internal sealed class UnixSocket(string path)
{
    /// <summary>Mode 0600: root only (the daemon runs as root). Requests over the socket need no token, so the
    /// file's mode is the access control.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private ulong _inode;

    /// <summary>The socket's path.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Creates the directory when missing and removes a stale socket: one nobody listens on. A live one
    /// means another daemon serves there.</summary>
    /// <exception cref="InvalidOperationException">Another daemon listens there, or the path is not a socket.</exception>
    public void Prepare()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        if (!Libc.TryStatSocket(Path, out var isSocket, out _))
        {
            return;
        }

        if (!isSocket)
        {
            throw new InvalidOperationException($"{Path} exists and is not a socket: not replacing it");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(Path));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused)
        {
            File.Delete(Path); // stale: its daemon is gone
            return;
        }

        throw new InvalidOperationException($"another daemon is listening on {Path}");
    }

    /// <summary>Binds the listening socket and gives it mode 0600 before the server listens on it: between bind and
    /// listen nobody can connect, so it is never reachable with a wider mode.</summary>
    public Socket Bind(UnixDomainSocketEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(endpoint);
            File.SetUnixFileMode(Path, Mode);
            _ = Libc.TryStatSocket(Path, out _, out _inode);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Removes the socket file when the daemon stops, if it is still the one it bound.</summary>
    public void Remove()
    {
        if (_inode != 0 && Libc.TryStatSocket(Path, out var isSocket, out var inode) && isSocket && inode == _inode)
        {
            File.Delete(Path);
        }
    }
}
