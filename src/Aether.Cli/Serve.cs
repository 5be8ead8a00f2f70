using Aether.Server;
using Aether.WireGuard.Hub;
using Aether.Reconcile;
using Microsoft.AspNetCore.Builder;

namespace Aether.Cli;

/// <summary>Runs the daemon (the server's assemblies are loaded from here on).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Serve
{
    public static async Task<int> RunAsync(string socket, string? listen, string? tokenFile, string? db, string? ns)
    {
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
            Hub = CreateHubAsync,
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

    /// <summary>The hub the daemon runs.</summary>
    /// <remarks>The WireGuard hub's implementation (<c>WireGuardHub</c>) is written beside this; until it is
    /// constructed here, the daemon serves the networks its store holds, read-only, and refuses changes with a clear
    /// error rather than pretending to make them.</remarks>
    private static async Task<IWireGuardHub> CreateHubAsync(HubContext context, CancellationToken cancellationToken)
    {
        var stored = await context.Store.LoadAsync(cancellationToken).ConfigureAwait(false);
        return new StoredNetworksHub([.. stored.Select(r => r.Validate())]);
    }

    private sealed class StoredNetworksHub(IReadOnlyList<HubNetworkSpec> networks) : IWireGuardHub
    {
        private const string Unwired = "this build of the daemon has no WireGuard hub wired in: it serves its stored networks read-only";

        public Task<HubAddResult> AddNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken) =>
            throw new HubException(HubErrorKind.Failed, Unwired) { Step = "hub", NetworkId = request.NetworkId };

        public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken) =>
            throw new HubException(HubErrorKind.Failed, Unwired) { Step = "hub", NetworkId = networkId };

        public IReadOnlyList<HubNetworkInfo> ListNetworks() =>
            [.. networks.OrderBy(n => n.Index).Select(n => n.ToInfo(nat: networks.Where(o => string.Equals(o.Container, n.Container, StringComparison.Ordinal)).Min(o => o.Index) == n.Index))];

        public Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new HubStatus("none", [.. ListNetworks().Select(n => new HubNetworkStatus(n, false, 0, [], Unwired))]));

        public IReadOnlyList<ReconcileStatus> LoopStatuses() => [];
    }
}
