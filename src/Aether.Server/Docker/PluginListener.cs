using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Docker;

/// <summary>
/// The plugin's socket, <c>/run/docker/plugins/NAME.sock</c>, where dockerd finds a driver named NAME: handled as the
/// API's (mode 0600; a stale file from a crashed daemon replaced, a live one refused; removed at exit), its connections
/// marked so that only they reach <see cref="PluginApi"/>.
/// </summary>
internal sealed class PluginListener
{
    private PluginListener(string path) => Socket = new UnixSocket(path);

    /// <summary>The socket.</summary>
    public UnixSocket Socket { get; }

    /// <summary>The listener <paramref name="options"/> asks for, or null.</summary>
    /// <exception cref="ServerOptionsException">The name is not usable.</exception>
    public static PluginListener? Create(ServerOptions options)
    {
        if (options.DockerPlugin is not { } name)
        {
            return null;
        }

        return name is { Length: >= 1 and <= 64 } && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? new PluginListener(Path.Combine(options.DockerPluginDirectory, name + ".sock"))
            : throw new ServerOptionsException($"--docker-plugin '{name}': must be 1-64 of A-Z a-z 0-9 . _ - (not starting with '.'): docker's --driver name");
    }

    /// <summary>Whether the endpoint Kestrel binds is this socket.</summary>
    public bool Owns(UnixDomainSocketEndPoint endpoint) => string.Equals(endpoint.ToString(), Socket.Path, StringComparison.Ordinal);

    /// <summary>Prepares the path and listens on it (when the app is built with Kestrel).</summary>
    public void Listen(KestrelServerOptions kestrel)
    {
        Socket.Prepare();
        kestrel.ListenUnixSocket(Socket.Path, listen => listen.Use(next => connection =>
        {
            connection.Items[PluginApi.ConnectionMark] = true;
            return next(connection);
        }));
    }

    /// <summary>Adds the driver; call after the hub's host, which must start first.</summary>
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton(this);
        services.AddSingleton<DriverHost>();
        services.AddHostedService(sp => sp.GetRequiredService<DriverHost>());
    }

    /// <summary>Maps the protocol and removes the socket when the app stops.</summary>
    public void Map(WebApplication app)
    {
        PluginApi.Map(app);
        app.Lifetime.ApplicationStopped.Register(Socket.Remove);
    }
}
