using System.Net;
using System.Net.Sockets;
using Aether.Server.Api;
using Aether.Server.Docker;
using Aether.Server.Grpc;
using Aether.Server.Metrics;
using Aether.Server.Store;
using Aether.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
            socket.Prepare();
            kestrel.ListenUnixSocket(socket.Path);
            plugin?.Listen(kestrel);
            if (options.Listen is { } listen)
            {
                kestrel.Listen(IPAddress.Parse(listen.Host.Trim('[', ']')), listen.Port);
            }
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(_ => databaseLock); // made by a factory: the container disposes of it, releasing the lock
        services.AddSingleton(socket);
        services.AddSingleton(new TokenGate(token));
        services.TryAddSingleton<IHubStore>(_ => SqliteHubStore.Open(options.DatabasePath));
        services.AddSingleton<HubHost>();
        services.AddHostedService(sp => sp.GetRequiredService<HubHost>());
        plugin?.AddServices(services); // after the hub: the driver starts on it
        services.AddSingleton<LabHost>();
        services.AddHostedService(sp => sp.GetRequiredService<LabHost>());
        services.AddSingleton<ClusterHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterHost>()); // after the labs: it needs their store
        services.AddHostedService<SystemdNotifier>();
        services.AddSingleton<DaemonInfo>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<RequestMetrics>();
        services.AddExceptionHandler<RequestBodyFailure>();
        services.AddProblemDetails();
        GrpcApi.AddServices(services);
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Aether daemon";
            document.Info.Description = "The WireGuard hub, the labs and the reconcile loops of an Aether daemon.";
            return Task.CompletedTask;
        }));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ServerLimits.ShutdownTimeout);

        options.ConfigureBuilder?.Invoke(builder);
        var app = builder.Build();

        // The exporter listens from the start (a counter missed before the first scrape would be lost).
        _ = app.Services.GetRequiredService<PrometheusExporter>();
        _ = app.Services.GetRequiredService<DatabaseLock>();
        app.Lifetime.ApplicationStopped.Register(socket.Remove);
        if (options.ExitDeadline is { } deadline)
        {
            ExitDeadline.Arm(app.Lifetime, deadline, () =>
            {
                socket.Remove();
                plugin?.Socket.Remove();
            });
        }

        var metrics = app.Services.GetRequiredService<RequestMetrics>();
        var gate = app.Services.GetRequiredService<TokenGate>();
        // The token is checked before routing and everything else; the metrics count refused requests too, by
        // labels from fixed sets only (see RequestMetrics).
        app.Use(metrics.InvokeAsync);
        app.Use(gate.InvokeAsync);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        StatusApi.Map(app);
        HubApi.Map(app);
        LabApi.Map(app);
        ClusterApi.Map(app);
        plugin?.Map(app);
        GrpcApi.Map(app);
        app.MapOpenApi();
        return app;
    }

    /// <summary>Checks the TCP listener: loopback, http, with a token file; returns the token.</summary>
    private static string? CheckListener(ServerOptions options)
    {
        if (options.Listen is not { } listen)
        {
            return null;
        }

        if (!listen.IsAbsoluteUri || !string.Equals(listen.Scheme, Uri.UriSchemeHttp, StringComparison.Ordinal))
        {
            throw new ServerOptionsException($"--listen {listen}: must be http://127.0.0.1:PORT (or http://[::1]:PORT)");
        }

        if (!IPAddress.TryParse(listen.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ServerOptionsException($"--listen {listen}: only a loopback address (127.0.0.0/8, ::1) may be given; the API has no TLS");
        }

        if (!string.Equals(listen.AbsolutePath, "/", StringComparison.Ordinal) || listen.Query.Length > 0)
        {
            throw new ServerOptionsException($"--listen {listen}: an address and port only, no path");
        }

        return options.TokenFile is { } file
            ? TokenGate.ReadToken(file)
            : throw new ServerOptionsException($"--listen {listen} needs --token-file: requests over TCP must present a bearer token");
    }
}
