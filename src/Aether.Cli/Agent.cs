using System.Net;
using Aether.Labs;
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Store;
using Aether.Topology;
using Microsoft.Extensions.Logging;

namespace Aether.Cli;

/// <summary><c>aether agent</c> (ReadyToRun and JIT builds only: EF Core and Npgsql).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Agent
{
    public static async Task<int> RunAsync(string? database, HostId host, IPAddress underlay, string? hostNamespace, string? stateDirectory, TimeSpan resync)
    {
        if (database is not { Length: > 0 } || SqliteLabStore.TryFile(database, Path.GetTempPath(), out _))
        {
            Output.Fail("agent: --db names the PostgreSQL database the controller and the agents share (postgres://USER@HOST/DB)");
            return ExitCodes.InvalidInput;
        }

        if (hostNamespace is not null && !File.Exists(Path.Combine("/run/netns", hostNamespace)))
        {
            Output.Fail($"agent: --namespace {hostNamespace}: no such named namespace");
            return ExitCodes.InvalidInput;
        }

        var state = stateDirectory ?? (Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } env ? env : new ControllerOptions().StateDirectory);
        using var signals = StopSignals.Listen();
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        try
        {
            await using var cluster = ClusterStore.Open(database);
            _ = await cluster.MigrateAsync(signals.Token).ConfigureAwait(false);
            await using var labs = LabStore.Open(database, state);
            await labs.MigrateAsync(signals.Token).ConfigureAwait(false);
            var agent = new LabAgent(cluster, labs, new LabAgentOptions(host, underlay) { HostNamespace = hostNamespace, StateDirectory = state, Resync = resync }, loggers.CreateLogger("aether.agent"));
            Output.Line($"agent {host} ({underlay}) on {cluster.Location}");
            Output.Flush();
            await agent.RunAsync(signals.Token).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (signals.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is ClusterException or ArgumentException or LabStoreException)
        {
            Output.Fail("agent: " + ex.Message);
            return ExitCodes.Failure;
        }
    }
}
