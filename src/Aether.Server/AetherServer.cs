using System.Net;
using System.Net.Sockets;
using Aether.Server.Docker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>
/// The daemon as an app: the Generic Host with the hub (brought up by a hosted service before the server listens),
/// systemd notification, and ASP.NET Core minimal APIs served by Kestrel on a unix socket and optionally loopback TCP.
/// <c>aether serve</c> runs it; tests build it with a fake hub and a test server.
/// </summary>
public static class AetherServer
{
    /// <summary>Builds the app; <c>RunAsync</c> serves until SIGINT/SIGTERM, then stops gracefully (the hub is disposed,
    /// the socket removed).</summary>
    /// <exception cref="ServerOptionsException">The options are unusable; nothing was started or created.</exception>
    /// <exception cref="InvalidOperationException">Another daemon listens on the socket, or something other than a
    /// socket is in its place (checked when the app is built, with Kestrel as its server).</exception>
    public static WebApplication BuildApp(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var token = CheckListener(options);
        var databaseLock = DatabaseLock.Acquire(options.DatabasePath);
        try
        {
            return Build(options, token, databaseLock);
        }
        catch
        {
            databaseLock.Dispose();
            throw;
        }
    }

    private static WebApplication Build(ServerOptions options, string? token, DatabaseLock databaseLock)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "aether",
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

        // systemd's socket (aether.socket) when it passed one; otherwise the daemon makes its own.
        var activated = SystemdSupport.SocketActivated;
        var socket = new UnixSocket(options.SocketPath);
        var plugin = PluginListener.Create(options);
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint => endpoint switch
        {
            UnixDomainSocketEndPoint unix when plugin?.Owns(unix) == true => plugin.Socket.Bind(unix),
            UnixDomainSocketEndPoint unix => socket.Bind(unix),
            _ => SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint),
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Before the listeners: endpoint defaults (protocols, h2c detection) apply to endpoints made after them.
            ServerLimits.Apply(kestrel);

            // Runs when the app is built, and only with Kestrel as its server (a test server never touches the path).
            if (activated)
            {
                SystemdSupport.ListenOnPassedSocket(kestrel);
            }
            else
            {
                socket.Prepare();
                kestrel.ListenUnixSocket(socket.Path);
            }

            plugin?.Listen(kestrel);
            if (options.Listen is { } listen)
            {
                kestrel.Listen(IPAddress.Parse(listen.Host.Trim('[', ']')), listen.Port);
            }
        });

        var services = builder.Services;
        services.AddOptions<ServerOptions>().Configure(options.CopyTo);
        services.AddSingleton(_ => databaseLock); // made by a factory: the container disposes of it, releasing the lock
        services.AddSingleton(socket);
        services.AddSingleton(new TokenGate(token));
        AetherServiceCollectionExtensions.AddHubServices(services, builder.Configuration);
        plugin?.AddServices(services); // after the hub: the driver starts on it
        AetherServiceCollectionExtensions.AddLabServices(services, builder.Configuration);
        SystemdSupport.Add(services);
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Aether daemon";
            document.Info.Description = "The WireGuard hub, the labs and the reconcile loops of an Aether daemon.";
            return Task.CompletedTask;
        }));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ServerLimits.ShutdownTimeout);

        options.ConfigureBuilder?.Invoke(builder);
        var app = builder.Build();

        _ = app.Services.GetRequiredService<DatabaseLock>();
        if (!activated)
        {
            app.Lifetime.ApplicationStopped.Register(socket.Remove); // systemd's socket is systemd's to remove
        }

        if (options.ExitDeadline is { } deadline)
        {
            ExitDeadline.Arm(app.Lifetime, deadline, () =>
            {
                if (!activated)
                {
                    socket.Remove();
                }

                plugin?.Socket.Remove();
            });
        }

        // The token is checked before routing and everything else.
        var gate = app.Services.GetRequiredService<TokenGate>();
        app.Use(gate.InvokeAsync);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.MapAetherApi();
        plugin?.Map(app);
        app.MapOpenApi();
        return app;
    }

    /// <summary>Checks the TCP listener: loopback, http, with a token file; returns the token.</summary>
    private static string? CheckListener(ServerOptions options)
    {
        if (options.Listen is null)
        {
            return null;
        }

        if (ServerOptionsValidator.ListenerProblem(options) is { } problem)
        {
            throw new ServerOptionsException(problem);
        }

        return TokenGate.ReadToken(options.TokenFile!);
    }
}
