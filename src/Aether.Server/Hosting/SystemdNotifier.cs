using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>
/// systemd's <c>sd_notify</c> protocol by hand (Microsoft.Extensions.Hosting.Systemd does not restore here): when
/// <c>$NOTIFY_SOCKET</c> is set, one datagram <c>READY=1</c> once the app has started (the hub is up and the server
/// listens), and <c>STOPPING=1</c> when it begins to stop. A name starting with <c>@</c> is in the abstract namespace.
/// </summary>
internal sealed partial class SystemdNotifier(IHostApplicationLifetime lifetime, ILogger<SystemdNotifier> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is not { Length: > 0 } socket)
        {
            return Task.CompletedTask;
        }

        lifetime.ApplicationStarted.Register(() => Notify(socket, "READY=1\nSTATUS=serving\nMAINPID=" + Environment.ProcessId + "\n"));
        lifetime.ApplicationStopping.Register(() => Notify(socket, "STOPPING=1\n"));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Sends one state datagram to <paramref name="path"/>.</summary>
    internal static void Send(string path, string state)
    {
        var name = path[0] == '@' ? "\0" + path[1..] : path;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(name));
    }

    private void Notify(string path, string state)
    {
        try
        {
            Send(path, state);
        }
        catch (SocketException e)
        {
            LogFailed(log, path, e.Message);
        }
    }

    [LoggerMessage(EventId = 9010, Level = LogLevel.Warning, Message = "could not notify systemd at {Socket}: {Error}")]
    private static partial void LogFailed(ILogger logger, string socket, string error);
}
