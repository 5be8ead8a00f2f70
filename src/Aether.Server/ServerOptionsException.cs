namespace Aether.Server;

/// <summary>The daemon's options are unusable (a TCP listener without a token, a non-loopback address, an unreadable
/// token file): it does not start.</summary>
public sealed class ServerOptionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerOptionsException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
