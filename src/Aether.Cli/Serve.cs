using Aether.Server;
using Aether.Hub;
using Aether.Netlink.Namespaces;
using Microsoft.AspNetCore.Builder;

namespace Aether.Cli;

/// <summary>Runs the daemon (the server's assemblies are loaded from here on).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Serve
{
    public static async Task<int> RunAsync(string socket, string? listen, string? tokenFile, string? db, string? ns, string wireGuardPrefix)
    {
        if (!Aether.Netlink.Rtnl.InterfaceName.IsValid(wireGuardPrefix + HubNetworkSpec.MaxIndex, out var badPrefix))
        {
            Output.Fail($"--wireguard-prefix {wireGuardPrefix}: {badPrefix}");
            return ExitCodes.InvalidInput;
        }

        Uri? listenUri = null;
        if (listen is not null && !Uri.TryCreate(listen, UriKind.Absolute, out listenUri))
        {
            Output.Fail($"--listen {listen}: not a URL (http://127.0.0.1:PORT)");
            return ExitCodes.InvalidInput;
        }

        if (ns is not null && !Aether.Netlink.Namespaces.NetworkNamespace.Exists(ns))
        {
            Output.Fail($"--namespace {ns}: no such namespace (see aether ns list)");
            return ExitCodes.InvalidInput;
        }

        var options = new ServerOptions
        {
            SocketPath = socket,
            Listen = listenUri,
            TokenFile = tokenFile,
            DatabasePath = db ?? ServerOptions.DefaultDatabasePath,
            Namespace = ns,
            Hub = (context, ct) => CreateHubAsync(context, Path.GetDirectoryName(Path.GetFullPath(db ?? ServerOptions.DefaultDatabasePath))!, wireGuardPrefix, ct),
        };

        WebApplication app;
        try
        {
            app = AetherServer.BuildApp(options);
        }
        catch (ServerOptionsException e)
        {
            Output.Fail(e.Message);
            return ExitCodes.InvalidInput;
        }
        catch (InvalidOperationException e)
        {
            Output.Fail("serve: " + e.Message); // another daemon on the socket, or a file in its place
            return ExitCodes.Failure;
        }

        try
        {
            await using (app.ConfigureAwait(false))
            {
                await app.RunAsync().ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Output.Fail("serve: " + e.Message);
            return ExitCodes.Failure;
        }
    }

    /// <summary>The hub the daemon runs: bound to <see cref="HubContext.Namespace"/> (or the daemon's own namespace),
    /// its networks from the store, its last-applied record beside the database.</summary>
    private static async Task<IWireGuardHub> CreateHubAsync(HubContext context, string stateDirectory, string wireGuardPrefix, CancellationToken cancellationToken)
    {
        using var host = context.Namespace is { } name ? NetworkNamespace.Open(name) : null; // the hub keeps its own duplicate
        return await WireGuardHub.StartAsync(
            context.Store,
            new WireGuardHubOptions
            {
                HostNamespace = host,
                StateDirectory = stateDirectory,
                WireGuardPrefix = wireGuardPrefix,
                LoggerFactory = context.LoggerFactory,
            },
            cancellationToken).ConfigureAwait(false);
    }
}
